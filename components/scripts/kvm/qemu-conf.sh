#!/usr/bin/env bash
# Sets SETTINGS (`key = value` lines) in /etc/libvirt/qemu.conf: each declared key's own lines are
# dropped and the declared ones written in a block at the end, which a later run rewrites whole (a
# key no longer declared goes back to libvirt's default). libvirtd restarts only when the file
# changed; running guests keep running across it.
# sparks-include: lib/write-file.sh
conf=/etc/libvirt/qemu.conf
marker='# --- managed by sparks (kvm qemuConf); edits below this line are replaced ---'
[ -f "$conf" ] || fail "$conf does not exist: is libvirt-daemon-system installed?"
new_temp_file "$conf"
content=$TEMP_FILE
# Everything before the managed block, without the declared keys' own settings.
awk -v marker="$marker" '$0 == marker { exit } { print }' "$conf" >"$content"
for setting in "${SETTINGS[@]}"; do
  key=${setting%% =*}
  grep -v "^[[:space:]]*${key}[[:space:]]*=" "$content" >"$content.next" || true
  mv -f "$content.next" "$content"
done
if [ "${#SETTINGS[@]}" -gt 0 ]; then
  printf '%s\n' "$marker" "${SETTINGS[@]}" >>"$content"
fi
write_file "$conf" 0600 <"$content"
if [ "$FILE_CHANGED" = yes ]; then
  systemctl restart libvirtd.service
  changed "restarted libvirtd for the new $conf"
fi
