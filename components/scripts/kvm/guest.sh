#!/usr/bin/env bash
# Ensures the guest NAME: its disk in GUEST_DIR, a copy-on-write clone of BASE_DIR/disk.raw grown
# to DISK_BYTES (with the kernel and initrd for a direct-kernel-boot image), its NoCloud seed
# (meta-data on fd 4, user-data on fd 5), its domain defined from the XML on fd 6, autostart as
# AUTOSTART, running. An existing domain keeps its UUID and disk: a changed definition is applied
# by redefining it and, when it runs, restarting it; autostart and a larger disk apply live.
# IMAGE_ID names the base image; a guest on another image is refused (a new image replaces it).
# sparks-include: lib/owner.sh
# sparks-include: lib/write-file.sh
: "${DISK_BYTES:?}"
host_cpus=$(nproc --all)
host_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
[ "$VCPUS" -le "$host_cpus" ] || fail "guest $NAME asks for $VCPUS vCPUs; this host has $host_cpus"
[ "$MEMORY_KIB" -le "$host_kib" ] || fail "guest $NAME asks for $MEMORY_KIB KiB of memory; this host has $host_kib KiB"
systemctl is-active --quiet libvirtd.service || fail "libvirtd is not running"
[ -f "$BASE_DIR/complete" ] || fail "base image $IMAGE_ID is not in $BASE_DIR"

defined=no
virsh dominfo "$NAME" >/dev/null 2>&1 && defined=yes
if [ "$defined" = yes ]; then
  recorded=$(claim_field kvm-guest "$NAME" image)
  if [ -n "$recorded" ] && [ "$recorded" != "$IMAGE_ID" ]; then
    fail "guest $NAME runs image $recorded, declared $IMAGE_ID: a new image replaces the guest, and this one was not deleted (protected?)"
  fi
elif [ -e "$GUEST_DIR/disk.raw" ]; then
  fail "guest $NAME has no domain but its disk $GUEST_DIR/disk.raw exists: left as it is (remove it, or define the domain, to go on)"
fi

mkdir -p "$GUEST_DIR"
if [ ! -e "$GUEST_DIR/disk.raw" ]; then
  new_temp_file "$GUEST_DIR/disk.raw"
  cp --reflink=always -- "$BASE_DIR/disk.raw" "$TEMP_FILE" || fail "cannot clone $BASE_DIR/disk.raw (is $GUEST_DIR on the same btrfs as the image?)"
  truncate -s "$DISK_BYTES" "$TEMP_FILE"
  mv -f "$TEMP_FILE" "$GUEST_DIR/disk.raw"
  changed "cloned $BASE_DIR/disk.raw to $GUEST_DIR/disk.raw, grown to $DISK_BYTES bytes"
fi
if [ "$DIRECT_KERNEL" = yes ]; then
  for file in vmlinuz initrd.img; do
    if ! cmp -s "$BASE_DIR/$file" "$GUEST_DIR/$file"; then
      new_temp_file "$GUEST_DIR/$file"
      cp --reflink=auto -- "$BASE_DIR/$file" "$TEMP_FILE"
      mv -f "$TEMP_FILE" "$GUEST_DIR/$file"
      changed "copied $file of image $IMAGE_ID for $NAME"
    fi
  done
fi

mkdir -p "$GUEST_DIR/seed"
write_file "$GUEST_DIR/seed/meta-data" 0644 </dev/fd/4
seed_changed=$FILE_CHANGED
write_file "$GUEST_DIR/seed/user-data" 0600 </dev/fd/5
if [ "$seed_changed" = yes ] || [ "$FILE_CHANGED" = yes ] || [ ! -f "$GUEST_DIR/seed.iso" ]; then
  new_temp_file "$GUEST_DIR/seed.iso"
  genisoimage -quiet -output "$TEMP_FILE" -volid cidata -joliet -rock "$GUEST_DIR/seed/user-data" "$GUEST_DIR/seed/meta-data"
  mv -f "$TEMP_FILE" "$GUEST_DIR/seed.iso"
  changed "wrote the NoCloud seed of $NAME (read at its next boot)"
fi

disk_bytes=$(stat -c %s "$GUEST_DIR/disk.raw")
running=no
[ "$(virsh domstate "$NAME" 2>/dev/null || true)" = running ] && running=yes
if [ "$disk_bytes" -lt "$DISK_BYTES" ]; then
  if [ "$running" = yes ]; then
    virsh blockresize "$NAME" vda "${DISK_BYTES}B" >/dev/null
  else
    truncate -s "$DISK_BYTES" "$GUEST_DIR/disk.raw"
  fi
  changed "grew the disk of $NAME to $DISK_BYTES bytes"
elif [ "$disk_bytes" -gt "$DISK_BYTES" ]; then
  echo "the disk of $NAME is $disk_bytes bytes, more than the declared $DISK_BYTES: a disk is never shrunk"
fi

# The definition keeps an existing domain's UUID, so redefining changes that domain in place.
write_file "$GUEST_DIR/domain.xml" 0644 </dev/fd/6
definition_changed=$FILE_CHANGED
new_temp_file "$GUEST_DIR/domain.xml"
define_from=$TEMP_FILE
if [ "$defined" = yes ]; then
  uuid=$(virsh domuuid "$NAME")
  sed "s|^  <name>.*</name>\$|&\n  <uuid>$uuid</uuid>|" "$GUEST_DIR/domain.xml" >"$define_from"
else
  cp -- "$GUEST_DIR/domain.xml" "$define_from"
fi
# A definition changed by hand (virsh edit) is also brought back.
live_definition=no
if [ "$defined" = yes ]; then
  current_vcpus=$(virsh dumpxml --inactive "$NAME" | sed -n "s|^  <vcpu[^>]*>\([0-9]*\)</vcpu>\$|\1|p")
  current_kib=$(virsh dumpxml --inactive "$NAME" | sed -n "s|^  <memory unit='KiB'>\([0-9]*\)</memory>\$|\1|p")
  [ "$current_vcpus" = "$VCPUS" ] && [ "$current_kib" = "$MEMORY_KIB" ] && live_definition=yes
fi
if [ "$defined" = no ] || [ "$definition_changed" = yes ] || [ "$live_definition" = no ]; then
  virsh define "$define_from" >/dev/null
  changed "defined domain $NAME ($VCPUS vCPUs, $MEMORY_KIB KiB)"
  if [ "$running" = yes ]; then
    # Memory and vCPUs have no headroom above the definition: the running guest takes the new one by a restart.
    virsh shutdown "$NAME" >/dev/null 2>&1 || true
    for _ in $(seq 1 "$SHUTDOWN_SECONDS"); do
      [ "$(virsh domstate "$NAME")" = "shut off" ] && break
      sleep 1
    done
    if [ "$(virsh domstate "$NAME")" != "shut off" ]; then virsh destroy "$NAME" >/dev/null; fi
    running=no
    changed "stopped $NAME to apply its new definition (restart)"
  fi
fi

want=disable
[ "$AUTOSTART" = true ] && want=enable
if ! grep -q "^Autostart: *$want" <<<"$(virsh dominfo "$NAME")"; then
  if [ "$want" = enable ]; then virsh autostart "$NAME" >/dev/null; else virsh autostart --disable "$NAME" >/dev/null; fi
  changed "autostart of $NAME: ${want}d (applied live)"
fi
if [ "$running" = no ]; then
  virsh start "$NAME" >/dev/null
  changed "started $NAME"
fi

if [ "$defined" = yes ]; then
  created=$(claim_field kvm-guest "$NAME" created)
  claim kvm-guest "$NAME" "created=${created:-no}" "image=$IMAGE_ID"
else
  claim kvm-guest "$NAME" created=yes "image=$IMAGE_ID"
fi
