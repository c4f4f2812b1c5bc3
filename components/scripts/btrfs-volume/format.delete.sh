#!/usr/bin/env bash
# Wipes the btrfs signature from DEVICE, but only when it is the filesystem this volume made
# (btrfs labelled LABEL) and nothing has it mounted.
# sparks-include: lib/block-device.sh
if [ ! -b "$DEVICE" ]; then
  echo "$DEVICE is gone: nothing to remove"
  exit 0
fi
probe_device "$DEVICE"
if [ "$FOUND_TYPE" != btrfs ] || [ "$FOUND_LABEL" != "$LABEL" ]; then
  echo "$DEVICE does not hold btrfs labelled $LABEL: left as it is"
  exit 0
fi
mounted=$(device_mounts "$DEVICE")
[ -z "$mounted" ] || fail "$DEVICE is still mounted at $mounted; refusing to wipe it"
wipefs -q -a "$DEVICE"
changed "wiped btrfs labelled $LABEL from $DEVICE"
