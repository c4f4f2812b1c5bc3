#!/usr/bin/env bash
# Stops and undefines the guest NAME and removes GUEST_DIR (its disk, seed and console log), only
# while this resource holds its claim and only if the deploy created the guest. "No such domain"
# and "libvirt unreachable" are told apart: with libvirt down nothing can be known, so nothing is
# removed and the delete fails (the engine keeps the resource and tries again).
# sparks-include: lib/owner.sh
domains=$(virsh list --all --name 2>&1) || fail "libvirt is unreachable, so whether guest $NAME exists cannot be known; nothing removed: ${domains//$'\n'/ }"
leave_unless_owned kvm-guest "$NAME" "guest $NAME"
if [ "$(claim_field kvm-guest "$NAME" created)" != yes ]; then
  release kvm-guest "$NAME"
  changed "released guest $NAME; it was there before, not created by $RESOURCE: left in place"
  exit 0
fi
if ! grep -Fxq -- "$NAME" <<<"$domains"; then
  release kvm-guest "$NAME"
  if [ -d "$GUEST_DIR" ]; then
    rm -rf -- "$GUEST_DIR"
    changed "removed $GUEST_DIR of guest $NAME, whose domain was gone"
  fi
  echo "guest $NAME is not defined: nothing more to delete"
  exit 0
fi
if [ "$(virsh domstate "$NAME")" != "shut off" ]; then virsh destroy "$NAME" >/dev/null; fi
virsh undefine "$NAME" >/dev/null
rm -rf -- "$GUEST_DIR"
release kvm-guest "$NAME"
changed "deleted guest $NAME: domain undefined, $GUEST_DIR removed"
