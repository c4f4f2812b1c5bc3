# shellcheck shell=bash
# Takes /run/sparks/locks/NAME.lock for the rest of the script: root-only directories (not
# /run/lock, 1777), so no local user can pre-create or hold it.
take_root_lock() {
  local dir lock=/run/sparks/locks/$1.lock
  for dir in /run/sparks /run/sparks/locks; do
    [ -e "$dir" ] || mkdir -m 0700 "$dir"
    if [ -L "$dir" ] || [ ! -O "$dir" ] || [ -n "$(find "$dir" -maxdepth 0 -perm /022)" ]; then
      fail "$dir is not a directory only root can write: refusing to take the $1 lock in it"
    fi
  done
  [ ! -L "$lock" ] || fail "$lock is a symbolic link: refusing to lock with it"
  exec {SPARKS_ROOT_LOCK_FD}>>"$lock"
  flock -w 600 "$SPARKS_ROOT_LOCK_FD" || fail "another run held $lock for 600 s"
}
