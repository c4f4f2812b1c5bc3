#!/usr/bin/env bash
# Ensures the subvolume MOUNTPOINT/NAME exists with its owner, group, mode and qgroup limit.
path=$MOUNTPOINT/$NAME
mountpoint -q "$MOUNTPOINT" || fail "$MOUNTPOINT is not mounted"
getent passwd "$OWNER" >/dev/null || fail "owner $OWNER of $path: no such user on this host"
getent group "$GROUP" >/dev/null || fail "group $GROUP of $path: no such group on this host"
if [ -e "$path" ]; then
  # Inode 256 is the root of a btrfs subvolume; anything else here is data we were not asked to touch.
  [ "$(stat -c %i "$path")" = 256 ] || fail "$path exists and is not a subvolume; refusing to touch it"
else
  btrfs subvolume create "$path" >/dev/null
  changed "created subvolume $path"
fi
if [ "$(stat -c '%U %G %a' "$path")" != "$OWNER $GROUP $MODE" ]; then
  chown "$OWNER:$GROUP" "$path"
  chmod "$MODE" "$path"
  changed "set $path to $OWNER:$GROUP $MODE"
fi
if btrfs qgroup show "$MOUNTPOINT" >/dev/null 2>&1; then
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
