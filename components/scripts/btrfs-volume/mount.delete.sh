#!/usr/bin/env bash
# Unmounts the volume and removes its mount unit; the filesystem itself is left to the format step.
path=/etc/systemd/system/$MOUNT_UNIT
if systemctl is-active --quiet "$MOUNT_UNIT"; then
  systemctl stop "$MOUNT_UNIT"
  changed "unmounted $MOUNTPOINT"
fi
if [ -f "$path" ]; then
  systemctl disable --quiet "$MOUNT_UNIT"
  rm -f "$path"
  systemctl daemon-reload
  changed "removed $MOUNT_UNIT"
fi
if [ -d "$MOUNTPOINT" ] && ! mountpoint -q "$MOUNTPOINT" && rmdir "$MOUNTPOINT" 2>/dev/null; then
  changed "removed empty $MOUNTPOINT"
fi
