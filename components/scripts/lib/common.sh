# shellcheck shell=bash
# Prepended to every host script, after its parameter header (see components/host-script.ts).
set -euo pipefail
export LC_ALL=C

SPARKS_CHANGES=0
SPARKS_TEMP_FILES=()

# Records a change; the closing line tells the deploy whether this run changed the host.
changed() {
  SPARKS_CHANGES=$((SPARKS_CHANGES + 1))
  printf 'changed: %s\n' "$*"
}

fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Sets TEMP_FILE to a new temp file next to PATH (same filesystem, so `mv` onto PATH is atomic).
# The exit trap removes it, so a failed write never leaves it behind.
# shellcheck disable=SC2034
new_temp_file() {
  TEMP_FILE=$(mktemp "$1.XXXXXX")
  SPARKS_TEMP_FILES+=("$TEMP_FILE")
}

on_exit() {
  local status=$?
  if [ "${#SPARKS_TEMP_FILES[@]}" -gt 0 ]; then rm -f -- "${SPARKS_TEMP_FILES[@]}"; fi
  if [ "$status" -eq 0 ]; then
    if [ "$SPARKS_CHANGES" -gt 0 ]; then echo "sparks-result: changed"; else echo "sparks-result: unchanged"; fi
  fi
}
trap on_exit EXIT
# A dropped session or a kill still runs the exit trap.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
