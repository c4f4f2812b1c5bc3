#!/usr/bin/env bash
# Ensures the TOOL instance NAME exists, started and enabled, with the declared settings: created
# empty, or as a fork of FORK_OF when set. SETTINGS (optional: the declared settings, key=value) is
# here so a change of them re-runs this command; ensure applies them from the tool's config. The claim
# records whether this deploy created the instance: destroy removes only one it made.
# sparks-include: lib/owner.sh
: "${SETTINGS[@]:-}" "${ON_CHANGE:-}"
status=0
"$TOOL" status "$NAME" --json >/dev/null 2>&1 || status=$?
case $status in
  0) existed=yes ;;
  3) existed=no ;;
  *) fail "$TOOL status $NAME exited with $status: $("$TOOL" status "$NAME" 2>&1 || true)" ;;
esac
args=(ensure "$NAME")
if [ -n "$FORK_OF" ]; then args+=(--fork-of "$FORK_OF"); fi
output=$("$TOOL" "${args[@]}") || fail "$TOOL ${args[*]} failed: $output"
grep -v '^sparks-result: ' <<<"$output" || true
if grep -qx 'sparks-result: changed' <<<"$output"; then changed "$TOOL ${args[*]}"; fi
if [ "$existed" = yes ]; then
  # Taken over from another resource (a rename), the instance keeps its origin.
  created=$(claim_field "$TOOL" "$NAME" created)
  claim "$TOOL" "$NAME" "created=${created:-no}"
else
  claim "$TOOL" "$NAME" created=yes
fi
