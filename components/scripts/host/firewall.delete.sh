#!/usr/bin/env bash
# Removes the host firewall: our nftables table (the host is as open as before the first deploy
# with a firewall), its boot unit, a pending revert and the rules kept in SPARKS_FIREWALL_DIR.
# sparks-include: lib/owner.sh
# sparks-include: lib/root-lock.sh
# sparks-include: lib/firewall.sh
leave_unless_owned firewall host "the host firewall"
take_root_lock firewall
disarm_firewall_revert
# shellcheck disable=SC2086 # the table is two words: family and name
if nft list table $SPARKS_FIREWALL_TABLE >/dev/null 2>&1; then
  nft delete table $SPARKS_FIREWALL_TABLE
  changed "removed nftables table $SPARKS_FIREWALL_TABLE"
fi
unit=/etc/systemd/system/$SPARKS_FIREWALL_BOOT_UNIT
if [ -e "$unit" ]; then
  systemctl disable --quiet "$SPARKS_FIREWALL_BOOT_UNIT" 2>/dev/null || true
  rm -f -- "$unit"
  systemctl daemon-reload
  changed "removed $SPARKS_FIREWALL_BOOT_UNIT"
fi
if [ -d "$SPARKS_FIREWALL_DIR" ]; then
  rm -rf -- "$SPARKS_FIREWALL_DIR"
  changed "removed $SPARKS_FIREWALL_DIR"
fi
release firewall host
if [ -d /etc/sparks ] && rmdir -- /etc/sparks 2>/dev/null; then changed "removed /etc/sparks"; fi
rm -f -- /run/sparks/locks/firewall.lock
