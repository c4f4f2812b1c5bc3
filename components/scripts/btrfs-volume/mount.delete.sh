#!/usr/bin/env bash
# Unmounts the volume and removes its mount unit, while this resource holds the unit's claim; the
# filesystem itself is left to the format step, and anything else mounted at MOUNTPOINT stays. While
# a subvolume of the volume is still claimed (its delete kept it: it holds what the deploy did not
# make), the volume stays mounted and at boot too, so what lives there keeps running.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
unit_path=/etc/systemd/system/$MOUNT_UNIT
leave_unless_owned mount "$MOUNT_UNIT" "$MOUNT_UNIT"
if volume_mounted; then
  kept=$(claimed_keys subvolume "$VOLUME_UUID" | tr '\n' ' ')
  if [ -n "$kept" ]; then
    echo "$MOUNTPOINT keeps subvolumes still claimed (${kept% }): left mounted"
    exit 0
  fi
fi
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
