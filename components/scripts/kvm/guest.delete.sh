#!/usr/bin/env bash
# Stops and undefines the guest NAME and removes GUEST_DIR (its disk, seed and console log), only
# while this resource holds its claim and only if the deploy created the guest.
# sparks-include: lib/owner.sh
if ! virsh dominfo "$NAME" >/dev/null 2>&1; then
  if owned_by_me kvm-guest "$NAME"; then
    release kvm-guest "$NAME"
    if [ -d "$GUEST_DIR" ]; then
      rm -rf -- "$GUEST_DIR"
      changed "removed $GUEST_DIR of guest $NAME, whose domain was gone"
    fi
  fi
  echo "guest $NAME is not defined: nothing to delete"
  exit 0
fi
leave_unless_owned kvm-guest "$NAME" "guest $NAME"
if [ "$(claim_field kvm-guest "$NAME" created)" != yes ]; then
  release kvm-guest "$NAME"
  changed "released guest $NAME; it was there before, not created by $RESOURCE: left in place"
  exit 0
fi
if [ "$(virsh domstate "$NAME")" != "shut off" ]; then virsh destroy "$NAME" >/dev/null; fi
virsh undefine "$NAME" >/dev/null
rm -rf -- "$GUEST_DIR"
release kvm-guest "$NAME"
changed "deleted guest $NAME: domain undefined, $GUEST_DIR removed"
