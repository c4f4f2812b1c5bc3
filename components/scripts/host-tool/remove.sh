#!/usr/bin/env bash
# Removes the host tool TOOL and everything it put on the host (the command and its files under
# INSTALL_DIR, /etc/sparks/TOOL.json, the unit templates and any orphaned instance or timer
# links, the password directory, ROOT/.snapshots, the lock), but only while this resource holds its
# claim and only when ROOT holds nothing: an instance that remains (a protected one, or one made at
# a shell) keeps the tool, its units and config, so it still runs and can still be managed. What is
# kept stays claimed: a later deploy takes it over, a later destroy of this resource removes it.
# sparks-include: lib/owner.sh
# sparks-include: lib/root-lock.sh
leave_unless_owned "$TOOL-tool" "$TOOL" "the $TOOL tool"
if [ ! -d "$ROOT" ]; then
  # An unmounted volume hides the instances; better a tool too many than instances without one.
  echo "instance root $ROOT is not there (volume not mounted?): cannot tell whether instances remain; $TOOL left in place"
  exit 0
fi
# The tool's own lock (sparks_host/instances.py LOCK_DIR, root-only): no fork or ensure can add an
# instance between the look and the removal.
take_root_lock "$TOOL"
lock=/run/sparks/locks/$TOOL.lock
remaining=$(find "$ROOT" "$ROOT/.snapshots" -mindepth 1 -maxdepth 1 ! -path "$ROOT/.snapshots" -printf '%f ' 2>/dev/null || true)
if [ -n "$remaining" ]; then
  echo "$TOOL kept with its units, config and passwords: $ROOT still holds ${remaining% } (instances, snapshots or leftovers of a fork: see $TOOL list; $TOOL destroy NAME removes one)"
  exit 0
fi

remove() {
  local path
  for path in "$@"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
      rm -f -- "$path"
      changed "removed $path"
    fi
  done
}
link=/usr/local/sbin/$TOOL
if [ "$(readlink -- "$link" || true)" = "$INSTALL_DIR/$TOOL" ]; then remove "$link"; fi
for file in "${TOOL_FILES[@]}"; do remove "$INSTALL_DIR/$file"; done
rm -rf -- "$INSTALL_DIR/sparks_host/__pycache__"
# The parent is shared by the tools of other components: it goes with the last of them.
for dir in "$INSTALL_DIR/sparks_host" "$INSTALL_DIR" "${INSTALL_DIR%/*}"; do
  if [ -d "$dir" ] && rmdir -- "$dir" 2>/dev/null; then changed "removed $dir"; fi
done
if [ -d "$INSTALL_DIR" ]; then
  echo "$INSTALL_DIR kept: it holds files $TOOL did not install: $(find "$INSTALL_DIR" -mindepth 1 -printf "%P ")"
fi

units=/etc/systemd/system
systemctl stop "$TOOL-expire@*.timer" "$TOOL-expire@*.service" 2>/dev/null || true
# With no instance left, any instance or timer link is an orphan of one destroyed by hand.
remove "$units"/multi-user.target.wants/"$TOOL"@*.service "$units"/timers.target.wants/"$TOOL"-expire@*.timer \
  "$units"/"$TOOL"-expire@*.timer /var/lib/systemd/timers/stamp-"$TOOL"-expire@*.timer \
  "$units/$TOOL@.service" "$units/$TOOL-expire@.service"
if [ "$SPARKS_CHANGES" -gt 0 ]; then
  systemctl daemon-reload
  systemctl reset-failed "$TOOL@*.service" "$TOOL-expire@*.service" 2>/dev/null || true
fi

remove "/etc/sparks/$TOOL.json" "/etc/sparks/$TOOL"/*.password
for dir in "/etc/sparks/$TOOL" "$ROOT/.snapshots" /etc/sparks; do
  [ -d "$dir" ] || continue
  if rmdir -- "$dir" 2>/dev/null; then
    changed "removed $dir"
  elif [ "$dir" != /etc/sparks ]; then
    echo "$dir kept: it holds files $TOOL did not write: $(find "$dir" -mindepth 1 -maxdepth 1 -printf "%f ")"
  fi
done
remove "$lock"
release "$TOOL-tool" "$TOOL"
