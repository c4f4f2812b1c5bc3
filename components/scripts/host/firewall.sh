#!/usr/bin/env bash
# The host firewall: replaces the nftables table `inet sparks` (ours alone; libvirt's and any
# other table are left as they are) with the ruleset on fd 4, GENERATION its hash. A change never
# locks the deploy out: before the rules load, a timer is armed that restores the last confirmed
# rules (none yet: no table at all) after CONFIRM_SECONDS. Only host/firewall-confirm.sh, which
# the deploy runs next over a fresh SSH connection, disarms it and makes the rules the ones
# sparks-firewall.service loads at boot; a reboot before that also comes up with the old rules.
# OPENS says in words what the rules let in, for the plan and this log.
# sparks-include: lib/owner.sh
# sparks-include: lib/packages.sh
# sparks-include: lib/write-file.sh
# sparks-include: lib/root-lock.sh
# sparks-include: lib/firewall.sh
[[ $GENERATION =~ ^[0-9a-f]{16}$ ]] || fail "GENERATION is \"$GENERATION\", not 16 hex digits"
[[ $CONFIRM_SECONDS =~ ^[1-9][0-9]+$ ]] || fail "CONFIRM_SECONDS is \"$CONFIRM_SECONDS\", not a number of seconds of at least 10"
command -v nft >/dev/null || install_missing_packages nftables
take_root_lock firewall
claim firewall host
dir=$SPARKS_FIREWALL_DIR
mkdir -p "$dir"
chmod 0700 "$dir"

new_temp_file "$dir/pending.nft"
rules=$TEMP_FILE
cat <&4 >"$rules"
found=$(firewall_generation "$rules")
[ "$found" = "$GENERATION" ] || fail "the ruleset carried is generation \"$found\", the command says $GENERATION: refusing it"
# Before anything changes: rules the kernel would refuse leave the host as it was.
if ! check=$(nft -c -f "$rules" 2>&1); then fail "the firewall rules do not load (nothing changed): $check"; fi

write_file "/etc/systemd/system/$SPARKS_FIREWALL_BOOT_UNIT" 0644 <<UNIT
[Unit]
Description=Sparks host firewall: the last confirmed rules (nftables table $SPARKS_FIREWALL_TABLE)
DefaultDependencies=no
# Debian's nftables.service flushes every table: ours loads after it.
After=nftables.service
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f $dir/confirmed.nft

[Install]
WantedBy=sysinit.target
UNIT
if [ "$FILE_CHANGED" = yes ]; then systemctl daemon-reload; fi

if [ "$(firewall_generation)" = "$GENERATION" ]; then
  mv -f "$rules" "$dir/pending.nft"
  if [ "$(firewall_generation "$dir/confirmed.nft")" = "$GENERATION" ]; then
    echo "firewall rules $GENERATION are loaded and confirmed already"
  else
    echo "firewall rules $GENERATION are loaded, awaiting confirmation"
  fi
  exit 0
fi

new_temp_file "$dir/revert.nft"
if [ -f "$dir/confirmed.nft" ]; then
  cp "$dir/confirmed.nft" "$TEMP_FILE"
else
  printf 'table %s\ndelete table %s\n' "$SPARKS_FIREWALL_TABLE" "$SPARKS_FIREWALL_TABLE" >"$TEMP_FILE"
fi
mv -f "$TEMP_FILE" "$dir/revert.nft"
mv -f "$rules" "$dir/pending.nft"
disarm_firewall_revert
systemd-run --quiet --collect --unit="$SPARKS_FIREWALL_REVERT_UNIT" --on-active="${CONFIRM_SECONDS}s" \
  --timer-property=AccuracySec=1s /usr/sbin/nft -f "$dir/revert.nft"
nft -f "$dir/pending.nft"
printf 'opens: %s\n' "${OPENS[@]}"
changed "loaded firewall rules $GENERATION; the host restores the last confirmed rules at $(date -u -d "+$CONFIRM_SECONDS seconds" '+%H:%M:%S UTC') unless a new SSH connection confirms these"
