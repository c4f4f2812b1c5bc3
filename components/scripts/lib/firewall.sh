# shellcheck shell=bash
# Where the host firewall keeps its rules (root 0700), and how its scripts read which rules are
# loaded: the generation in the table's comment (components/firewall-rules.ts).
# shellcheck disable=SC2034 # read by the scripts that include this
{
  SPARKS_FIREWALL_DIR=/etc/sparks/firewall
  SPARKS_FIREWALL_TABLE="inet sparks"
  SPARKS_FIREWALL_BOOT_UNIT=sparks-firewall.service
  SPARKS_FIREWALL_REVERT_UNIT=sparks-firewall-revert
}

# The generation of a ruleset file, or of the loaded table when no file is given; nothing when none.
firewall_generation() {
  local pattern='s/^[[:space:]]*comment "sparks-firewall \([0-9a-f]*\)"$/\1/p'
  if [ "$#" -gt 0 ]; then
    [ ! -f "$1" ] || sed -n "$pattern" "$1"
  else
    # shellcheck disable=SC2086 # the table is two words: family and name
    nft list table $SPARKS_FIREWALL_TABLE 2>/dev/null | sed -n "$pattern" || true
  fi
}

# Stops a pending revert, waiting for one already running to finish: afterwards the loaded table
# is what it will stay.
disarm_firewall_revert() {
  systemctl stop "$SPARKS_FIREWALL_REVERT_UNIT.timer" "$SPARKS_FIREWALL_REVERT_UNIT.service" 2>/dev/null || true
  systemctl reset-failed "$SPARKS_FIREWALL_REVERT_UNIT.timer" "$SPARKS_FIREWALL_REVERT_UNIT.service" 2>/dev/null || true
}

firewall_revert_armed() {
  systemctl is-active --quiet "$SPARKS_FIREWALL_REVERT_UNIT.timer"
}
