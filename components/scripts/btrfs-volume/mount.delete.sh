#!/usr/bin/env bash
# Unmounts the volume and removes its mount unit, while this resource holds the unit's claim; the
# filesystem itself is left to the format step, and anything else mounted at MOUNTPOINT stays.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
unit_path=/etc/systemd/system/$MOUNT_UNIT
leave_unless_owned mount "$MOUNT_UNIT" "$MOUNT_UNIT"
read_top_mount
if mounted_from_device; then
  systemctl stop "$MOUNT_UNIT"
  changed "unmounted $MOUNTPOINT"
elif [ -n "$MOUNTED_SOURCE" ]; then
  echo "$MOUNTED_SOURCE is mounted at $MOUNTPOINT, not $DEVICE: left mounted"
fi
if [ -f "$unit_path" ]; then
  systemctl disable --quiet "$MOUNT_UNIT"
  rm -f "$unit_path"
  systemctl daemon-reload
  changed "removed $MOUNT_UNIT"
fi
release mount "$MOUNT_UNIT"
if [ -d "$MOUNTPOINT" ] && ! mountpoint -q "$MOUNTPOINT" && rmdir "$MOUNTPOINT" 2>/dev/null; then
  changed "removed empty $MOUNTPOINT"
fi
