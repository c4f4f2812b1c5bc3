#!/usr/bin/env bash
# Mounts the volume at MOUNTPOINT through a systemd mount unit, enabled so it is mounted at boot.
# sparks-include: lib/write-file.sh
option_list=$(IFS=,; echo "${OPTIONS[*]}")
write_file "/etc/systemd/system/$MOUNT_UNIT" 0644 <<UNIT
[Unit]
Description=Sparks btrfs volume $VOLUME ($LABEL)

[Mount]
What=$DEVICE
Where=$MOUNTPOINT
Type=btrfs
Options=$option_list

[Install]
WantedBy=local-fs.target
UNIT
unit_changed=$FILE_CHANGED
[ "$unit_changed" = no ] || systemctl daemon-reload
if ! systemctl is-enabled --quiet "$MOUNT_UNIT"; then
  systemctl enable --quiet "$MOUNT_UNIT"
  changed "enabled $MOUNT_UNIT"
fi
if ! mountpoint -q "$MOUNTPOINT"; then
  systemctl start "$MOUNT_UNIT"
  changed "mounted $DEVICE at $MOUNTPOINT"
elif [ "$unit_changed" = yes ]; then
  # A mount unit's reload remounts it, which applies changed options without unmounting.
  systemctl reload "$MOUNT_UNIT"
  changed "remounted $MOUNTPOINT with $option_list"
fi
found=$(findmnt -rn -o FSTYPE,LABEL --mountpoint "$MOUNTPOINT" | head -n 1)
[ "$found" = "btrfs $LABEL" ] || fail "$MOUNTPOINT holds \"$found\", expected btrfs labelled $LABEL"
