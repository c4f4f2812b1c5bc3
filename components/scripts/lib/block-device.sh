# shellcheck shell=bash
# Its FOUND_* variables are read by the scripts it is rendered into.
# shellcheck disable=SC2034
# Sets FOUND_TYPE, FOUND_LABEL and FOUND_TABLE to what blkid finds on a device, bypassing its cache.
probe_device() {
  local probe
  probe=$(blkid -p -o export "$1" 2>/dev/null || true)
  FOUND_TYPE=$(sed -n 's/^TYPE=//p' <<<"$probe")
  FOUND_LABEL=$(sed -n 's/^LABEL=//p' <<<"$probe")
  FOUND_TABLE=$(sed -n 's/^PTTYPE=//p' <<<"$probe")
}

# Prints where a device is mounted, if anywhere.
device_mounts() {
  findmnt -n -o TARGET --source "$1" || true
}
