#!/usr/bin/env bash
# Installs libvirt, QEMU, the seed tool (genisoimage) and dnsmasq (libvirt's NAT networks serve
# DHCP and DNS with it; libvirt only recommends it, and a NAT network does not start without it),
# and keeps libvirtd enabled and running, so guests marked autostart come back after a host reboot.
# sparks-include: lib/packages.sh
install_missing_packages libvirt-daemon-system libvirt-clients qemu-system-x86 genisoimage dnsmasq-base
if [ "$(systemctl is-enabled libvirtd.service 2>/dev/null || true)" != enabled ]; then
  systemctl enable libvirtd.service
  changed "enabled libvirtd"
fi
if ! systemctl is-active --quiet libvirtd.service; then
  systemctl start libvirtd.service
  changed "started libvirtd"
fi
