#!/usr/bin/env bash
# Enables btrfs quotas on the volume, which qgroup limits need.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
require_volume_mounted
if quotas_enabled "$MOUNTPOINT"; then
  echo "quotas already enabled on $MOUNTPOINT"
else
  btrfs quota enable "$MOUNTPOINT"
  changed "enabled quotas on $MOUNTPOINT"
fi
claim quota "$VOLUME_UUID"
