#!/usr/bin/env bash
# Unmounts the volume and removes its mount unit; the filesystem itself is left to the format step.
unit=$(systemd-escape --path --suffix=mount "$MOUNTPOINT")
path=/etc/systemd/system/$unit
if systemctl is-active --quiet "$unit"; then
  systemctl stop "$unit"
  changed "unmounted $MOUNTPOINT"
fi
if [ -f "$path" ]; then
  systemctl disable --quiet "$unit"
  rm -f "$path"
  systemctl daemon-reload
  changed "removed $unit"
fi
if [ -d "$MOUNTPOINT" ] && ! mountpoint -q "$MOUNTPOINT" && rmdir "$MOUNTPOINT" 2>/dev/null; then
  changed "removed empty $MOUNTPOINT"
fi
