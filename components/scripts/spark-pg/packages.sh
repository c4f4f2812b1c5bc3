#!/usr/bin/env bash
# Installs python3 (the host tool's runtime) and PostgreSQL VERSION. Debian's default cluster is
# turned off first, so the install never creates one: every cluster on the host is a spark-pg
# instance. The claim records what this deploy installed for Postgres (the packages its install
# added, whether it set create_main_cluster), so that destroy takes back only that.
# sparks-include: lib/owner.sh
# sparks-include: lib/packages.sh
# sparks-include: lib/recorded-packages.sh
key=postgresql-$VERSION
conf=/etc/postgresql-common/createcluster.conf
conf_set=$(claim_field spark-pg-packages "$key" conf)
if ! grep -qx 'create_main_cluster = false' "$conf" 2>/dev/null; then
  mkdir -p "${conf%/*}"
  new_temp_file "$conf"
  if [ -f "$conf" ]; then grep -v '^[[:space:]]*#\?[[:space:]]*create_main_cluster[[:space:]]*=' "$conf" >"$TEMP_FILE" || true; fi
  echo 'create_main_cluster = false' >>"$TEMP_FILE"
  chmod 0644 "$TEMP_FILE"
  mv -f "$TEMP_FILE" "$conf"
  conf_set=yes
  changed "set create_main_cluster = false in $conf"
fi
# python3 is a runtime other software may use too: installed when missing, never taken back.
install_missing_packages python3
install_recorded spark-pg-packages "$key" "$key" "conf=${conf_set:-no}"
