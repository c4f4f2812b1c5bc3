#!/usr/bin/env bash
# Ensures the spark-pg instance NAME exists, started and enabled: created empty, or as a fork of
# FORK_OF when set. The claim records whether this deploy created it: destroy removes only one it made.
# sparks-include: lib/owner.sh
status=0
spark-pg status "$NAME" --json >/dev/null 2>&1 || status=$?
case $status in
  0) existed=yes ;;
  3) existed=no ;;
  *) fail "spark-pg status $NAME exited with $status: $(spark-pg status "$NAME" 2>&1 || true)" ;;
esac
args=(ensure "$NAME")
if [ -n "$FORK_OF" ]; then args+=(--fork-of "$FORK_OF"); fi
output=$(spark-pg "${args[@]}") || fail "spark-pg ${args[*]} failed: $output"
grep -v '^sparks-result: ' <<<"$output" || true
if grep -qx 'sparks-result: changed' <<<"$output"; then changed "spark-pg ${args[*]}"; fi
if [ "$existed" = yes ]; then
  # Taken over from another resource (a rename), the instance keeps its origin.
  created=$(claim_field spark-pg "$NAME" created)
  claim spark-pg "$NAME" "created=${created:-no}"
else
  claim spark-pg "$NAME" created=yes
fi
