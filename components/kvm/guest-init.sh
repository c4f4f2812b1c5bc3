#!/bin/busybox sh
# shellcheck shell=sh
# /init of the direct-kernel-boot image: loads the virtio and iso9660 modules, reads the NoCloud
# seed (meta-data on the disk labelled cidata), and prints one readiness line on the serial
# console, which the host logs to a file and verify reads. Then it idles: the guest is up.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null || true; done </modules.order
sleep 0.2
instance=unknown host=unknown
mkdir -p /seed
for disk in /dev/vd?; do
  if mount -t iso9660 -o ro "$disk" /seed 2>/dev/null; then
    instance=$(sed -n 's/^instance-id: *//p' /seed/meta-data)
    host=$(sed -n 's/^local-hostname: *//p' /seed/meta-data)
    break
  fi
done
hostname "$host"
bytes=$(($(cat /sys/block/vda/size) * 512))
base=$(head -c 200 /dev/vda | head -n 1 | tr -dc 'A-Za-z0-9 ._=-')
kvm=absent
[ -e /dev/kvm ] && kvm=present
echo "sparks-ready instance-id=$instance hostname=$host disk-bytes=$bytes kvm=$kvm base=[$base]" >/dev/ttyS0
while :; do sleep 3600; done
