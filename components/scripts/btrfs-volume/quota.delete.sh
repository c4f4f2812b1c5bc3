#!/usr/bin/env bash
# Disables btrfs quotas when no subvolume of the volume declares a limit any more.
if mountpoint -q "$MOUNTPOINT" && btrfs qgroup show "$MOUNTPOINT" >/dev/null 2>&1; then
  btrfs quota disable "$MOUNTPOINT"
  changed "disabled quotas on $MOUNTPOINT"
fi
