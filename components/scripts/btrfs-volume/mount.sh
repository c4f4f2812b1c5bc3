#!/usr/bin/env bash
# Mounts the volume at MOUNTPOINT through a systemd mount unit, enabled so it is mounted at boot.
# Converges on live state: systemd's view of the unit file, what is mounted, and its options.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
# sparks-include: lib/write-file.sh
unit_path=/etc/systemd/system/$MOUNT_UNIT
option_list=$(IFS=,; echo "${OPTIONS[*]}")

# Prints the OPTIONS the top mount at MOUNTPOINT lacks. The kernel lists some with a level the unit
# did not name: compress=zstd shows as compress=zstd:3.
missing_options() {
  local option absent=()
  for option in "${OPTIONS[@]}"; do
    case ",$MOUNTED_OPTIONS," in
      *",$option,"* | *",$option:"*) ;;
      *) absent+=("$option") ;;
    esac
  done
  (IFS=,; echo "${absent[*]}")
}

# A mount point change moves the volume, which stops everything on it: done only when the config
# names the mount point it leaves (PREVIOUS_MOUNTPOINT), and only from a mount this resource made.
mounted_elsewhere=$(device_mounts "$DEVICE" | grep -vxF -- "$MOUNTPOINT" || true)
if [ -n "$mounted_elsewhere" ]; then
  if [ "$mounted_elsewhere" != "$PREVIOUS_MOUNTPOINT" ]; then
    fail "$DEVICE is mounted at ${mounted_elsewhere//$'\n'/ and }, not $MOUNTPOINT: moving it stops everything on the volume; set previousMountpoint: $mounted_elsewhere on volume $VOLUME to move it"
  fi
  previous_unit=$(systemd-escape --path --suffix=mount -- "$PREVIOUS_MOUNTPOINT")
  owned_by_me mount "$previous_unit" || fail "$PREVIOUS_MOUNTPOINT is mounted by $previous_unit, which $RESOURCE does not manage: left as it is"
  systemctl stop "$previous_unit"
  systemctl disable --quiet "$previous_unit"
  rm -f "/etc/systemd/system/$previous_unit"
  systemctl daemon-reload
  release mount "$previous_unit"
  changed "unmounted $DEVICE from $PREVIOUS_MOUNTPOINT to move it to $MOUNTPOINT"
fi

new_unit=no
[ -e "$unit_path" ] || new_unit=yes
write_file "$unit_path" 0644 <<UNIT
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
if [ "$unit_changed" = yes ]; then
  systemctl daemon-reload
elif [ "$(systemctl show -P NeedDaemonReload "$MOUNT_UNIT")" = yes ]; then
  systemctl daemon-reload
  changed "reloaded systemd, which had not loaded $unit_path as it is"
fi

read_top_mount
if [ -z "$MOUNTED_SOURCE" ]; then
  started=$(date +%s)
  if ! systemctl start "$MOUNT_UNIT"; then
    journalctl -u "$MOUNT_UNIT" --since "@$started" --no-pager -o cat >&2 || true
    if [ "$new_unit" = yes ]; then
      # Leave no unit behind that would fail again at every boot.
      rm -f "$unit_path"
      systemctl daemon-reload
      systemctl reset-failed "$MOUNT_UNIT" 2>/dev/null || true
      fail "cannot mount $DEVICE at $MOUNTPOINT with $option_list; removed the new $MOUNT_UNIT"
    fi
    fail "cannot mount $DEVICE at $MOUNTPOINT with $option_list"
  fi
  changed "mounted $DEVICE at $MOUNTPOINT"
elif ! mounted_from_device; then
  fail "$MOUNTED_SOURCE is mounted at $MOUNTPOINT, expected $DEVICE"
else
  missing=$(missing_options)
  if [ "$unit_changed" = yes ] || [ -n "$missing" ]; then
    # A mount unit's reload remounts it, which applies changed options without unmounting.
    systemctl reload "$MOUNT_UNIT"
    changed "remounted $MOUNTPOINT with $option_list${missing:+ (it lacked $missing)}"
  fi
fi
if ! systemctl is-enabled --quiet "$MOUNT_UNIT"; then
  systemctl enable --quiet "$MOUNT_UNIT"
  changed "enabled $MOUNT_UNIT"
fi
require_volume_mounted
missing=$(missing_options)
[ -z "$missing" ] || fail "$MOUNTPOINT is mounted without $missing (live options: $MOUNTED_OPTIONS)"
claim mount "$MOUNT_UNIT"
