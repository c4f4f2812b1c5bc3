#!/usr/bin/env bash
# Installs redis-server, redis-tools (redis-cli for `spark-redis connect`) and python3 (the host
# tool's runtime). Debian's default instance (redis-server.service on 127.0.0.1:6379) is kept from
# ever starting, before the install could start it: every redis on the host is a spark-redis instance.
# sparks-include: lib/packages.sh
# sparks-include: lib/write-file.sh
dropin=/etc/systemd/system/redis-server.service.d/sparks-no-default-instance.conf
mkdir -p "${dropin%/*}"
write_file "$dropin" 0644 <<'CONF'
# Written by the Sparks Redis component: spark-redis@NAME.service runs every instance here.
[Unit]
ConditionPathExists=/etc/redis/sparks-default-instance-wanted
CONF
if [ "$FILE_CHANGED" = yes ]; then systemctl daemon-reload; fi
install_missing_packages redis-server redis-tools python3
if systemctl is-enabled --quiet redis-server.service 2>/dev/null; then
  systemctl disable --quiet redis-server.service
  changed "disabled Debian's default instance redis-server.service"
fi
if systemctl is-active --quiet redis-server.service; then
  systemctl stop redis-server.service
  changed "stopped Debian's default instance redis-server.service"
fi
