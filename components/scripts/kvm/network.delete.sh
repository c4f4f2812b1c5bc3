#!/usr/bin/env bash
# Stops and undefines the libvirt network NAME, only while this resource holds its claim and only
# if the deploy defined it.
# sparks-include: lib/owner.sh
if ! virsh net-info "$NAME" >/dev/null 2>&1; then
  if owned_by_me kvm-network "$NAME"; then release kvm-network "$NAME"; fi
  echo "network $NAME is gone: nothing to delete"
  exit 0
fi
leave_unless_owned kvm-network "$NAME" "network $NAME"
if [ "$(claim_field kvm-network "$NAME" created)" = yes ]; then
  if grep -q "^Active: *yes" <<<"$(virsh net-info "$NAME")"; then virsh net-destroy "$NAME" >/dev/null; fi
  virsh net-undefine "$NAME" >/dev/null
  rm -f -- "/var/lib/sparks/kvm/networks/$NAME.xml"
  changed "deleted network $NAME"
else
  echo "network $NAME was there before the deploy: left in place"
fi
release kvm-network "$NAME"
