#!/usr/bin/env bash
# Destroys the TOOL instance NAME (its subvolume, snapshots, unit and password), but only while
# this resource holds its claim, and only when the deploy created it (one that was there before is
# only released).
# sparks-include: lib/owner.sh
if ! command -v "$TOOL" >/dev/null; then
  echo "$TOOL is not installed: instance $NAME left as it is"
  exit 0
fi
status=0
"$TOOL" status "$NAME" --json >/dev/null 2>&1 || status=$?
if [ "$status" -eq 3 ]; then
  if owned_by_me "$TOOL" "$NAME"; then release "$TOOL" "$NAME"; fi
  echo "instance $NAME is gone: nothing to destroy"
  exit 0
fi
leave_unless_owned "$TOOL" "$NAME" "instance $NAME"
if [ "$(claim_field "$TOOL" "$NAME" created)" != yes ]; then
  release "$TOOL" "$NAME"
  changed "released instance $NAME; it was there before, not created by $RESOURCE: left in place"
  exit 0
fi
result=0
output=$("$TOOL" destroy "$NAME" 2>&1) || result=$?
case $result in
  0) changed "$output" ;;
  3) echo "instance $NAME is gone: nothing to destroy" ;;
  *) fail "$TOOL destroy $NAME exited with $result: $output" ;;
esac
release "$TOOL" "$NAME"
