#!/usr/bin/env bash
# Disables btrfs quotas on the volume when no subvolume declares a limit any more.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
if ! volume_mounted; then
  echo "$VOLUME_PROBLEM: quotas of $LABEL left as they are"
  exit 0
fi
leave_unless_owned quota "$VOLUME_UUID" "quota setting of $MOUNTPOINT"
if quotas_enabled "$MOUNTPOINT"; then
  btrfs quota disable "$MOUNTPOINT"
  changed "disabled quotas on $MOUNTPOINT"
else
  echo "quotas already disabled on $MOUNTPOINT"
fi
release quota "$VOLUME_UUID"
