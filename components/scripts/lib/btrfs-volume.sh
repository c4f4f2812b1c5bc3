# shellcheck shell=bash
# The volume a btrfs-volume script works on: DEVICE, formatted as btrfs labelled LABEL, mounted at
# MOUNTPOINT. Needs lib/block-device.sh. Scripts act on MOUNTPOINT only once they know it is this
# volume, never on whatever else is there (another filesystem, or the root filesystem's directory).

# Sets MOUNTED_SOURCE, MOUNTED_FSTYPE and MOUNTED_OPTIONS to the top mount at MOUNTPOINT, the one a
# path lookup reaches when mounts are stacked; all empty when nothing is mounted there.
# shellcheck disable=SC2034
read_top_mount() {
  local mounts
  mounts=$(findmnt -rn -v -o SOURCE,FSTYPE,OPTIONS --mountpoint "$MOUNTPOINT" || true)
  MOUNTED_SOURCE='' MOUNTED_FSTYPE='' MOUNTED_OPTIONS=''
  if [ -n "$mounts" ]; then read -r MOUNTED_SOURCE MOUNTED_FSTYPE MOUNTED_OPTIONS <<<"${mounts##*$'\n'}"; fi
}

# Whether the top mount at MOUNTPOINT comes from DEVICE (both resolved, so a /dev/disk/by-* link
# matches the node findmnt names).
mounted_from_device() {
  [ -n "$MOUNTED_SOURCE" ] && [ "$(readlink -f -- "$MOUNTED_SOURCE")" = "$(readlink -f -- "$DEVICE")" ]
}

# Succeeds when the top mount at MOUNTPOINT is this volume, and sets VOLUME_UUID to its filesystem
# UUID; otherwise sets VOLUME_PROBLEM to what is wrong.
# shellcheck disable=SC2034
volume_mounted() {
  read_top_mount
  if [ -z "$MOUNTED_SOURCE" ]; then
    VOLUME_PROBLEM="nothing is mounted at $MOUNTPOINT"
  elif ! mounted_from_device; then
    VOLUME_PROBLEM="$MOUNTED_SOURCE is mounted at $MOUNTPOINT, expected $DEVICE"
  elif [ "$MOUNTED_FSTYPE" != btrfs ]; then
    VOLUME_PROBLEM="$MOUNTPOINT holds $MOUNTED_FSTYPE, expected btrfs"
  else
    probe_device "$DEVICE"
    if [ "$FOUND_LABEL" = "$LABEL" ] && [ -n "$FOUND_UUID" ]; then
      VOLUME_UUID=$FOUND_UUID
      return 0
    fi
    VOLUME_PROBLEM="$DEVICE at $MOUNTPOINT is labelled \"$FOUND_LABEL\", expected $LABEL"
  fi
  return 1
}

require_volume_mounted() {
  volume_mounted || fail "$VOLUME_PROBLEM"
}

# Whether btrfs quotas are on for the filesystem mounted at $1; failing to tell is an error.
quotas_enabled() {
  local error
  error=$(btrfs qgroup show "$1" 2>&1 >/dev/null) && return 0
  case $error in
    *"quotas not enabled"*) return 1 ;;
  esac
  fail "cannot tell whether quotas are enabled on $1: $error"
}

# Inode 256 is the root of a btrfs subvolume; a plain directory has any other.
is_subvolume() {
  [ "$(stat -c %i "$1")" = 256 ]
}
