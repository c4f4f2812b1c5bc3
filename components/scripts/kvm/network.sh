#!/usr/bin/env bash
# Defines the libvirt network NAME from NETWORK_XML (redefined when the declaration changed),
# marks it autostart and starts it. Only for `nat` and `bridge` networks: a `user` network lives
# inside each QEMU process and has no command.
# sparks-include: lib/owner.sh
# sparks-include: lib/write-file.sh
state=/var/lib/sparks/kvm/networks
mkdir -p "$state"
defined=no
virsh net-info "$NAME" >/dev/null 2>&1 && defined=yes
write_file "$state/$NAME.xml" 0644 <<<"$NETWORK_XML"
if [ "$defined" = no ] || [ "$FILE_CHANGED" = yes ]; then
  virsh net-define "$state/$NAME.xml" >/dev/null
  changed "defined network $NAME"
  if [ "$defined" = yes ] && grep -q '^Active: *yes' <<<"$(virsh net-info "$NAME")"; then
    virsh net-destroy "$NAME" >/dev/null
    changed "stopped network $NAME to apply its new definition"
  fi
fi
if ! grep -q '^Autostart: *yes' <<<"$(virsh net-info "$NAME")"; then
  virsh net-autostart "$NAME" >/dev/null
  changed "network $NAME starts at boot"
fi
if ! grep -q '^Active: *yes' <<<"$(virsh net-info "$NAME")"; then
  virsh net-start "$NAME" >/dev/null
  changed "started network $NAME"
fi
if [ "$defined" = yes ]; then
  created=$(claim_field kvm-network "$NAME" created)
  claim kvm-network "$NAME" "created=${created:-no}"
else
  claim kvm-network "$NAME" created=yes
fi
