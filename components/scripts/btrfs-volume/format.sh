#!/usr/bin/env bash
# Creates a btrfs filesystem on DEVICE only when the device is blank. A btrfs that carries LABEL
# is adopted as it is; anything else on the device is an error that says what was found. The claim
# records whether this deploy formatted the filesystem: destroy wipes only one it made.
# sparks-include: lib/block-device.sh
# sparks-include: lib/owner.sh
[ -b "$DEVICE" ] || fail "$DEVICE is not a block device"
probe_device "$DEVICE"
if [ "$FOUND_TYPE" = btrfs ] && [ "$FOUND_LABEL" = "$LABEL" ]; then
  # Taken over from another resource (a rename), the filesystem keeps its origin.
  echo "$DEVICE already holds btrfs labelled $LABEL (UUID $FOUND_UUID): adopted"
  formatted=$(claim_field format "$FOUND_UUID" formatted)
  claim format "$FOUND_UUID" "formatted=${formatted:-no}"
  exit 0
fi
if [ -n "$FOUND_TYPE" ]; then
  fail "$DEVICE holds a $FOUND_TYPE filesystem${FOUND_LABEL:+ labelled \"$FOUND_LABEL\"}; refusing to format it (expected a blank device or btrfs labelled \"$LABEL\")"
fi
[ -z "$FOUND_TABLE" ] || fail "$DEVICE holds a $FOUND_TABLE partition table; refusing to format it"
mounted=$(device_mounts "$DEVICE")
[ -z "$mounted" ] || fail "$DEVICE is mounted at $mounted; refusing to format it"
# blkid only knows signatures: data without one (a raw image, encrypted bytes) shows as non-zero bytes.
cmp -s -n 1048576 "$DEVICE" /dev/zero ||
  fail "$DEVICE holds data (non-zero bytes in its first MiB, no known signature); refusing to format it"
mkfs.btrfs -q -L "$LABEL" "$DEVICE" >/dev/null
changed "formatted $DEVICE as btrfs labelled $LABEL"
probe_device "$DEVICE"
[ -n "$FOUND_UUID" ] || fail "$DEVICE shows no filesystem UUID after mkfs.btrfs"
claim format "$FOUND_UUID" formatted=yes
