# shellcheck shell=bash
# make_staging_dir PARENT NAME: a temp directory PARENT/.NAME.XXXXXX (STAGING_DIR) to build in and
# rename into place at the end (same filesystem, so the rename is atomic). It is removed on any exit,
# so a failed build leaves nothing behind; after the rename there is nothing left to remove.
make_staging_dir() {
  mkdir -p "$1"
  STAGING_DIR=$(mktemp -d "$1/.$2.XXXXXX")
  trap remove_staging_dir_and_exit EXIT
}

# The status survives the cleanup, so on_exit still tells success from failure.
remove_staging_dir_and_exit() {
  local status=$?
  rm -rf -- "$STAGING_DIR"
  (exit "$status")
  on_exit
}
