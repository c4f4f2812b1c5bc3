#!/usr/bin/env bash
# Takes back what packages.sh installed: purges exactly the packages its install added, and only
# when nothing on the host still needs them: no spark-redis tool (it stays while instances remain),
# no data of Debian's default instance, none of them a Host base package (KEEP_PACKAGES), and apt
# would remove nothing else with them; then the drop-in that kept the default instance from starting.
# Otherwise everything stays, and the claim with it for the next deploy to take over. python3 and
# packages there before are never removed.
# sparks-include: lib/owner.sh
# sparks-include: lib/packages.sh
# sparks-include: lib/recorded-packages.sh
leave_unless_owned spark-redis-packages redis "redis (installed for spark-redis)"
dropin=/etc/systemd/system/redis-server.service.d/sparks-no-default-instance.conf
remove_dropin() {
  if [ -e "$dropin" ]; then
    rm -f -- "$dropin"
    rmdir -- "${dropin%/*}" 2>/dev/null || true
    systemctl daemon-reload
    changed "removed $dropin"
  fi
}
if [ "$(claim_field spark-redis-packages redis created)" != yes ]; then
  # Installed before this deploy: its default instance goes back to what Debian makes of it.
  remove_dropin
  release spark-redis-packages redis
  changed "released redis; it was installed before $RESOURCE: left in place"
  exit 0
fi
keep() {
  echo "redis and the packages installed with it are kept: $*"
  exit 0
}
if [ -e /usr/local/sbin/spark-redis ] || [ -e /etc/sparks/spark-redis.json ]; then
  keep "the spark-redis tool is still installed (instances remain: see spark-redis list)"
fi
data=$(find /var/lib/redis -mindepth 1 -maxdepth 1 -printf "%p " 2>/dev/null || true)
if [ -n "$data" ]; then keep "Debian's default instance holds data: $data"; fi

purge_recorded spark-redis-packages redis
if [ "$PACKAGES_KEPT" = yes ]; then exit 0; fi
remove_dropin
release spark-redis-packages redis
