#!/usr/bin/env bash
# Installs PostgreSQL VERSION and python3 (the host tool's runtime). Debian's default cluster is
# turned off first, so the install never creates one: every cluster on the host is a spark-pg
# instance.
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
packages=("postgresql-$VERSION" python3)
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "postgresql-$VERSION and python3 installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -q -o DPkg::Lock::Timeout=300 update
apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "${missing[@]}"
changed "installed ${missing[*]}"
