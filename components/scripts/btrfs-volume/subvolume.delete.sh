#!/usr/bin/env bash
# Deletes the subvolume MOUNTPOINT/NAME with everything in it; a plain directory is left alone.
path=$MOUNTPOINT/$NAME
if [ ! -e "$path" ]; then
  echo "$path is gone: nothing to remove"
  exit 0
fi
[ "$(stat -c %i "$path")" = 256 ] || fail "$path is not a subvolume; refusing to delete it"
btrfs subvolume delete "$path" >/dev/null
changed "deleted subvolume $path"
