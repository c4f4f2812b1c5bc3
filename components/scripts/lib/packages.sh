# shellcheck shell=bash
SPARKS_PACKAGE_LOCK=/var/lib/sparks/packages.lock

# Takes the host's package lock for the rest of this script. The engine runs independent commands
# at once: without it, two installs collide on apt's own lock (which fails at once, not waits), and
# the before/after record of what an install added (lib/recorded-packages.sh) would catch another
# install's packages. Root-only (0600 in a root-owned directory), so no local user can hold it.
take_package_lock() {
  [ -z "${SPARKS_PACKAGE_LOCK_FD:-}" ] || return 0
  mkdir -p "${SPARKS_PACKAGE_LOCK%/*}"
  [ ! -L "$SPARKS_PACKAGE_LOCK" ] || fail "$SPARKS_PACKAGE_LOCK is a symbolic link: refusing to use it"
  (umask 077 && : >>"$SPARKS_PACKAGE_LOCK")
  chmod 0600 "$SPARKS_PACKAGE_LOCK"
  exec {SPARKS_PACKAGE_LOCK_FD}>>"$SPARKS_PACKAGE_LOCK"
  flock -w 1200 "$SPARKS_PACKAGE_LOCK_FD" || fail "another package operation on this host held $SPARKS_PACKAGE_LOCK for 20 minutes"
}

# Installs those of the given Debian packages that are missing; says so when none is.
install_missing_packages() {
  local package status missing=()
  take_package_lock
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
