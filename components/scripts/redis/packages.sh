#!/usr/bin/env bash
# Installs python3 (the host tool's runtime), redis-server and redis-tools (redis-cli for
# `spark-redis connect`). Debian's default instance (redis-server.service on 127.0.0.1:6379) is kept
# from ever starting, before the install could start it: every redis on the host is a spark-redis
# instance. The claim records which packages the install added, so that destroy takes back only those.
# sparks-include: lib/owner.sh
# sparks-include: lib/packages.sh
# sparks-include: lib/recorded-packages.sh
# sparks-include: lib/write-file.sh
dropin=/etc/systemd/system/redis-server.service.d/sparks-no-default-instance.conf
mkdir -p "${dropin%/*}"
write_file "$dropin" 0644 <<'CONF'
# Written by the Sparks Redis component: spark-redis@NAME.service runs every instance here.
[Unit]
ConditionPathExists=/etc/redis/sparks-default-instance-wanted
CONF
if [ "$FILE_CHANGED" = yes ]; then systemctl daemon-reload; fi
# python3 is a runtime other software may use too: installed when missing, never taken back.
install_missing_packages python3
install_recorded spark-redis-packages redis "redis-server redis-tools"
if systemctl is-enabled --quiet redis-server.service 2>/dev/null; then
  systemctl disable --quiet redis-server.service
  changed "disabled Debian's default instance redis-server.service"
fi
if systemctl is-active --quiet redis-server.service; then
  systemctl stop redis-server.service
  changed "stopped Debian's default instance redis-server.service"
fi
