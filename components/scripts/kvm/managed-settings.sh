#!/usr/bin/env bash
# Sets SETTINGS (`key = value` or `KEY=value` lines) in CONF: each declared key's own lines are
# dropped and the declared ones written in a block at the end, which a later run rewrites whole (a
# key no longer declared goes back to the package's default). RESTART_UNIT, when set, restarts only
# when the file changed; running guests keep running across a libvirtd restart.
# sparks-include: lib/write-file.sh
marker="# --- managed by sparks ($LABEL); edits below this line are replaced ---"
mkdir -p "${CONF%/*}"
new_temp_file "$CONF"
content=$TEMP_FILE
# Everything before the managed block, without the declared keys' own settings.
if [ -f "$CONF" ]; then awk -v marker="$marker" '$0 == marker { exit } { print }' "$CONF" >"$content"; fi
for setting in "${SETTINGS[@]}"; do
  key=${setting%%=*}
  key=${key%% *}
  grep -v "^[[:space:]]*${key}[[:space:]]*=" "$content" >"$content.next" || true
  mv -f "$content.next" "$content"
done
if [ "${#SETTINGS[@]}" -gt 0 ]; then
  printf '%s\n' "$marker" "${SETTINGS[@]}" >>"$content"
fi
write_file "$CONF" "$MODE" <"$content"
if [ "$FILE_CHANGED" = yes ] && [ -n "$RESTART_UNIT" ]; then
  systemctl restart "$RESTART_UNIT"
  changed "restarted $RESTART_UNIT for the new $CONF"
fi
