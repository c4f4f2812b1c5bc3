#!/usr/bin/env bash
# Ensures the TOOL instance NAME exists, started and enabled, with the declared settings: created
# empty, or as a fork of FORK_OF when set. SETTINGS (optional: the declared settings, key=value) is
# here so a change of them re-runs this command; ensure applies them from the tool's config, as it
# does FORK_LIMIT (optional, a fork's: the limit on its own writes). The claim
# records whether this deploy created the instance: destroy removes only one it made.
# sparks-include: lib/owner.sh
: "${SETTINGS[@]:-}" "${ON_CHANGE:-}" "${FORK_LIMIT:-}"
args=(ensure "$NAME")
if [ -n "$FORK_OF" ]; then args+=(--fork-of "$FORK_OF"); fi
output=$("$TOOL" "${args[@]}") || fail "$TOOL ${args[*]} failed: $output"
grep -v '^sparks-\(result\|instance\): ' <<<"$output" || true
if grep -qx 'sparks-result: changed' <<<"$output"; then changed "$TOOL ${args[*]}"; fi
# Whether this run made the instance is the tool's answer under its lock: a look before the call
# could miss one made at a shell in between, which destroy would then remove.
if grep -qx 'sparks-instance: created' <<<"$output"; then
  claim "$TOOL" "$NAME" created=yes
elif grep -qx 'sparks-instance: existed' <<<"$output"; then
  # Taken over from another resource (a rename), the instance keeps its origin.
  created=$(claim_field "$TOOL" "$NAME" created)
  claim "$TOOL" "$NAME" "created=${created:-no}"
else
  fail "$TOOL ${args[*]} did not say whether it created $NAME: $output"
fi
