#!/usr/bin/env bash
# Deletes the subvolume MOUNTPOINT/NAME with everything in it, but only on the volume, only while
# this resource holds its claim, and only when the deploy created it (one that was there before is
# only released); a plain directory is left alone. Subvolumes nested in it (an instance made at a
# shell, a developer's fork) were never the deploy's: it is left, with its claim, while any remain.
# sparks-include: lib/block-device.sh
# sparks-include: lib/btrfs-volume.sh
# sparks-include: lib/owner.sh
path=$MOUNTPOINT/$NAME
if ! volume_mounted; then
  echo "$VOLUME_PROBLEM: subvolume $NAME of $LABEL left in place"
  exit 0
fi
key=$VOLUME_UUID/$NAME
if [ ! -e "$path" ]; then
  if owned_by_me subvolume "$key"; then release subvolume "$key"; fi
  echo "$path is gone: nothing to remove"
  exit 0
fi
leave_unless_owned subvolume "$key" "subvolume $path"
if [ "$(claim_field subvolume "$key" created)" != yes ]; then
  release subvolume "$key"
  changed "released subvolume $path; it was there before, not created by $RESOURCE: left in place"
  exit 0
fi
is_subvolume "$path" || fail "$path is not a subvolume; refusing to delete it"
nested=$(btrfs subvolume list -o "$path" | sed -e 's|.* path ||' -e 's|.*/||' | sort | tr '\n' ' ')
if [ -n "$nested" ]; then
  echo "subvolume $path holds subvolumes the deploy did not make (${nested% }): left in place"
  exit 0
fi
btrfs subvolume delete "$path" >/dev/null
release subvolume "$key"
changed "deleted subvolume $path"
