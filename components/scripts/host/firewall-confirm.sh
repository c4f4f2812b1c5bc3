#!/usr/bin/env bash
# Confirms the firewall rules GENERATION that host/firewall.sh loaded: the deploy runs this over a
# new SSH connection, so it gets here only if the rules still let SSH in from where the deploy
# connects. Disarms the revert, keeps the rules as the ones loaded at boot. If the revert came
# first, the rules are gone, and this says why.
# sparks-include: lib/write-file.sh
# sparks-include: lib/root-lock.sh
# sparks-include: lib/firewall.sh
[[ $GENERATION =~ ^[0-9a-f]{16}$ ]] || fail "GENERATION is \"$GENERATION\", not 16 hex digits"
take_root_lock firewall
dir=$SPARKS_FIREWALL_DIR
disarm_firewall_revert
loaded=$(firewall_generation)
if [ "$loaded" != "$GENERATION" ]; then
  fail "firewall rules $GENERATION are not loaded (loaded: ${loaded:-no table}): no new SSH connection confirmed them within $CONFIRM_SECONDS s, so the host went back to its last confirmed rules. They most likely close the SSH port to where the deploy connects from: check the host's firewall.adminNetworks and sshPort"
fi
[ "$(firewall_generation "$dir/pending.nft")" = "$GENERATION" ] || fail "$dir/pending.nft does not hold rules $GENERATION: another deploy changed them; run the deploy again"
write_file "$dir/confirmed.nft" 0600 <"$dir/pending.nft"
rm -f -- "$dir/revert.nft"
if ! systemctl is-enabled --quiet "$SPARKS_FIREWALL_BOOT_UNIT"; then
  systemctl enable --quiet "$SPARKS_FIREWALL_BOOT_UNIT"
  changed "enabled $SPARKS_FIREWALL_BOOT_UNIT"
fi
if [ "$FILE_CHANGED" = yes ]; then changed "confirmed firewall rules $GENERATION"; else echo "firewall rules $GENERATION were confirmed already"; fi
