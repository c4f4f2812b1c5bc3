#!/usr/bin/env bash
# Takes back what packages.sh installed for PostgreSQL VERSION: purges exactly the packages its
# install added, and only when nothing on the host still needs them: no spark-pg tool (it stays
# while instances remain), no Debian cluster of that version, none of them a Host base package
# (KEEP_PACKAGES), and apt would remove nothing else with them. Otherwise everything stays and the
# claim stays for the next deploy to take over. python3 and packages there before are never removed.
# sparks-include: lib/owner.sh
# sparks-include: lib/packages.sh
# sparks-include: lib/recorded-packages.sh
key=postgresql-$VERSION
leave_unless_owned spark-pg-packages "$key" "$key (installed for spark-pg)"
if [ "$(claim_field spark-pg-packages "$key" created)" != yes ]; then
  release spark-pg-packages "$key"
  changed "released $key; it was installed before $RESOURCE: left in place"
  exit 0
fi
keep() {
  echo "$key and the packages installed with it are kept: $*"
  exit 0
}
if [ -e /usr/local/sbin/spark-pg ] || [ -e /etc/sparks/spark-pg.json ]; then
  keep "the spark-pg tool is still installed (instances remain: see spark-pg list)"
fi
clusters=$(find "/etc/postgresql/$VERSION" "/var/lib/postgresql/$VERSION" -mindepth 1 -maxdepth 1 -printf "%p " 2>/dev/null || true)
if [ -n "$clusters" ]; then keep "PostgreSQL $VERSION clusters outside spark-pg exist: $clusters"; fi

purge_recorded spark-pg-packages "$key"
if [ "$PACKAGES_KEPT" = yes ]; then exit 0; fi
conf=/etc/postgresql-common/createcluster.conf
if [ "$(claim_field spark-pg-packages "$key" conf)" = yes ] && grep -qx 'create_main_cluster = false' "$conf" 2>/dev/null; then
  new_temp_file "$conf"
  grep -vx 'create_main_cluster = false' "$conf" >"$TEMP_FILE" || true
  chmod 0644 "$TEMP_FILE"
  mv -f "$TEMP_FILE" "$conf"
  changed "removed create_main_cluster = false from $conf"
fi
release spark-pg-packages "$key"
