#!/usr/bin/env bash
# Ensures the subvolume MOUNTPOINT/NAME exists on the volume with its owner, group, mode and qgroup
# limit. The claim records whether this deploy created it: destroy deletes only one it made.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
path=$MOUNTPOINT/$NAME
require_volume_mounted
getent passwd "$OWNER" >/dev/null || fail "owner $OWNER of $path: no such user on this host"
getent group "$GROUP" >/dev/null || fail "group $GROUP of $path: no such group on this host"
key=$VOLUME_UUID/$NAME
if [ -e "$path" ]; then
  is_subvolume "$path" || fail "$path exists and is not a subvolume; refusing to touch it"
  # Taken over from another resource (a rename), the subvolume keeps its origin.
  created=$(claim_field subvolume "$key" created)
  claim subvolume "$key" "created=${created:-no}"
else
  btrfs subvolume create "$path" >/dev/null
  changed "created subvolume $path"
  claim subvolume "$key" created=yes
fi
# As `stat -c %a` prints it: no leading zeros.
wanted_mode=$(printf '%o' "$((8#$MODE))")
if [ "$(stat -c '%U %G %a' "$path")" != "$OWNER $GROUP $wanted_mode" ]; then
  chown "$OWNER:$GROUP" "$path"
  # With a numeric mode, GNU chmod keeps a directory's setuid and setgid bits unless the mode has
  # five or more digits.
  chmod "00$wanted_mode" "$path"
  changed "set $path to $OWNER:$GROUP $wanted_mode"
fi
if quotas_enabled "$MOUNTPOINT"; then
  qgroup=0/$(btrfs subvolume show "$path" | awk '/Subvolume ID:/ { print $3 }')
  current=$(btrfs qgroup show -re --raw "$MOUNTPOINT" | awk -v q="$qgroup" '$1 == q { print $4 }')
  wanted=${LIMIT_BYTES:-none}
  if [ "$current" != "$wanted" ]; then
    btrfs qgroup limit "$wanted" "$path"
    changed "set qgroup limit of $path to $wanted"
  fi
elif [ -n "$LIMIT_BYTES" ]; then
  fail "$path declares a limit but quotas are off on $MOUNTPOINT"
fi
