#!/usr/bin/env bash
# Installs PostgreSQL VERSION and python3 (the host tool's runtime). Debian's default cluster is
# turned off first, so the install never creates one: every cluster on the host is a spark-pg
# instance.
# sparks-include: lib/packages.sh
conf=/etc/postgresql-common/createcluster.conf
if ! grep -qx 'create_main_cluster = false' "$conf" 2>/dev/null; then
  mkdir -p "${conf%/*}"
  new_temp_file "$conf"
  if [ -f "$conf" ]; then grep -v '^[[:space:]]*#\?[[:space:]]*create_main_cluster[[:space:]]*=' "$conf" >"$TEMP_FILE" || true; fi
  echo 'create_main_cluster = false' >>"$TEMP_FILE"
  chmod 0644 "$TEMP_FILE"
  mv -f "$TEMP_FILE" "$conf"
  changed "set create_main_cluster = false in $conf"
fi
install_missing_packages "postgresql-$VERSION" python3
