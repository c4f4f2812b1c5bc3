# shellcheck shell=bash
# FILE_CHANGED is read by the scripts this is rendered into.
# shellcheck disable=SC2034
# Prepended to every host script, after its parameter header (see components/host-script.ts).
set -euo pipefail
export LC_ALL=C

SPARKS_CHANGES=0

# Records a change; the closing line tells the deploy whether this run changed the host.
changed() {
  SPARKS_CHANGES=$((SPARKS_CHANGES + 1))
  printf 'changed: %s\n' "$*"
}

fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

report_result() {
  local status=$?
  if [ "$status" -eq 0 ]; then
    if [ "$SPARKS_CHANGES" -gt 0 ]; then echo "sparks-result: changed"; else echo "sparks-result: unchanged"; fi
  fi
}
trap report_result EXIT

# Writes stdin to PATH with MODE only when the content differs, via a temp file and rename.
# Sets FILE_CHANGED to yes or no.
FILE_CHANGED=no
write_file() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp "${path}.XXXXXX")
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
    rm -f "$tmp"
    FILE_CHANGED=no
    return 0
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  FILE_CHANGED=yes
  changed "wrote $path"
}
