#!/usr/bin/env bash
# Wipes the btrfs signature from DEVICE, but only when this resource holds the claim on the
# filesystem, formatted it itself (an adopted filesystem is only released), no subvolume of it is
# still claimed (a subvolume's delete keeps one that holds what the deploy did not make), and
# nothing has it mounted.
# sparks-include: lib/block-device.sh
# sparks-include: lib/owner.sh
if [ ! -b "$DEVICE" ]; then
  echo "$DEVICE is gone: nothing to remove"
  exit 0
fi
probe_device "$DEVICE"
if [ "$FOUND_TYPE" != btrfs ] || [ "$FOUND_LABEL" != "$LABEL" ]; then
  echo "$DEVICE does not hold btrfs labelled $LABEL: left as it is"
  exit 0
fi
filesystem="btrfs $FOUND_UUID on $DEVICE"
leave_unless_owned format "$FOUND_UUID" "$filesystem"
if [ "$(claim_field format "$FOUND_UUID" formatted)" != yes ]; then
  release format "$FOUND_UUID"
  changed "released $filesystem; it was adopted, not formatted by $RESOURCE: left in place"
  exit 0
fi
kept=$(claimed_keys subvolume "$FOUND_UUID" | tr '\n' ' ')
if [ -n "$kept" ]; then
  echo "$filesystem keeps subvolumes still claimed (${kept% }): left in place"
  exit 0
fi
mounted=$(device_mounts "$DEVICE")
[ -z "$mounted" ] || fail "$DEVICE is still mounted at $mounted; refusing to wipe it"
wipefs -q -a "$DEVICE"
# format.sh formats only a device whose first MiB is zeros: leave it that way for the next deploy.
dd if=/dev/zero of="$DEVICE" bs=1M count=1 conv=fsync status=none
release format "$FOUND_UUID"
changed "wiped btrfs labelled $LABEL from $DEVICE"
