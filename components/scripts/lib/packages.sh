# shellcheck shell=bash
# Installs those of the given Debian packages that are missing; says so when none is.
install_missing_packages() {
  local package status missing=()
  for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "installed already: $*"
    return 0
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update
  DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "${missing[@]}"
  changed "installed ${missing[*]}"
}
