#!/bin/busybox sh
# shellcheck shell=sh
# /init of the direct-kernel-boot image: loads the virtio and iso9660 modules, reads the NoCloud
# seed (meta-data on the disk labelled cidata), takes an address by DHCP when it has a network
# card and serves its hostname over HTTP on port 80 (what shows the host reaches it), and prints
# one readiness line on the serial console, which the host logs to a file and verify reads. Then
# it idles: the guest is up.
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
address=none
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  # udhcpc configures nothing itself: this script applies the lease.
  cat >/bin/dhcp-lease <<'SCRIPT'
#!/bin/busybox sh
case $1 in
  bound | renew)
    ifconfig "$interface" "$ip" netmask "$subnet"
    [ -z "$router" ] || route add default gw "${router%% *}" dev "$interface"
    ;;
esac
SCRIPT
  chmod 0755 /bin/dhcp-lease
  ip link set eth0 up
  if udhcpc -i eth0 -s /bin/dhcp-lease -q -n -t 10 -T 1 >/dev/null 2>&1; then
    address=$(ip -4 -o addr show dev eth0 | sed -n 's|.* inet \([0-9.]*\)/.*|\1|p')
  fi
  mkdir -p /www
  echo "sparks-guest $host" >/www/index.html
  httpd -p 80 -h /www
fi
bytes=$(($(cat /sys/block/vda/size) * 512))
base=$(head -c 200 /dev/vda | head -n 1 | tr -dc 'A-Za-z0-9 ._=-')
kvm=absent
[ -e /dev/kvm ] && kvm=present
echo "sparks-ready instance-id=$instance hostname=$host disk-bytes=$bytes kvm=$kvm address=$address base=[$base]" >/dev/ttyS0
while :; do sleep 3600; done
