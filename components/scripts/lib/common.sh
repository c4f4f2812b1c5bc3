# shellcheck shell=bash
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
