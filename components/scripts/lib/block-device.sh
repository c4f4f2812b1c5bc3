# shellcheck shell=bash

# Sets FOUND_TYPE, FOUND_LABEL, FOUND_UUID and FOUND_TABLE to what blkid finds on a device,
# bypassing its cache; all empty when it finds nothing. Any other blkid failure is an error.
# shellcheck disable=SC2034
probe_device() {
  local probe status=0
  probe=$(blkid -p -o export "$1" 2>&1) || status=$?
  case $status in
    0) ;;
    2) probe= ;;
    *) fail "cannot probe $1: ${probe:-blkid exited with status $status}" ;;
  esac
  FOUND_TYPE=$(sed -n 's/^TYPE=//p' <<<"$probe")
  FOUND_LABEL=$(sed -n 's/^LABEL=//p' <<<"$probe")
  FOUND_UUID=$(sed -n 's/^UUID=//p' <<<"$probe")
  FOUND_TABLE=$(sed -n 's/^PTTYPE=//p' <<<"$probe")
}

# Prints where a device is mounted, if anywhere.
device_mounts() {
  findmnt -n -o TARGET --source "$1" || true
}
