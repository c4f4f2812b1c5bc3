#!/usr/bin/env bash
# Enables btrfs quotas on the mounted volume, which qgroup limits need.
mountpoint -q "$MOUNTPOINT" || fail "$MOUNTPOINT is not mounted"
if btrfs qgroup show "$MOUNTPOINT" >/dev/null 2>&1; then
  echo "quotas already enabled on $MOUNTPOINT"
  exit 0
fi
btrfs quota enable "$MOUNTPOINT"
changed "enabled quotas on $MOUNTPOINT"
