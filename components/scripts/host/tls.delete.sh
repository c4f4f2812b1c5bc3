#!/usr/bin/env bash
# Removes the renew timer and its service, and the values it ran with. The CA and the certificates
# stay while a spark-pg or spark-redis tool is still installed (its instances serve them and their
# clients trust the CA); with no tool left, nothing needs them, and a CA key is not left on a host
# that no longer serves TLS: the TLS directory and the sparks-tls group go too.
# sparks-include: lib/owner.sh
# sparks-include: lib/root-lock.sh
# sparks-include: lib/tls.sh
leave_unless_owned tls host "the host TLS renew timer"
take_root_lock tls
if systemctl is-enabled --quiet sparks-tls-renew.timer 2>/dev/null || systemctl is-active --quiet sparks-tls-renew.timer; then
  systemctl disable --now --quiet sparks-tls-renew.timer
  changed "disabled sparks-tls-renew.timer"
fi
for file in /etc/systemd/system/sparks-tls-renew.timer /etc/systemd/system/sparks-tls-renew.service "$SPARKS_TLS_DIR/renew.params"; do
  if [ -e "$file" ]; then
    rm -f -- "$file"
    changed "removed $file"
  fi
done
systemctl daemon-reload
release tls host

users=()
for tool in "${SPARKS_TLS_TOOLS[@]}"; do
  if [ -e "/usr/local/sbin/$tool" ]; then users+=("$tool"); fi
done
if [ "${#users[@]}" -gt 0 ]; then
  echo "kept the host CA and certificates in $SPARKS_TLS_DIR: ${users[*]} still installed"
  exit 0
fi
if [ -d "$SPARKS_TLS_DIR" ]; then
  rm -rf -- "$SPARKS_TLS_DIR"
  changed "removed $SPARKS_TLS_DIR (the host CA and its certificates)"
fi
if getent group "$SPARKS_TLS_GROUP" >/dev/null; then
  groupdel "$SPARKS_TLS_GROUP"
  changed "removed group $SPARKS_TLS_GROUP"
fi
if [ -d /etc/sparks ] && rmdir -- /etc/sparks 2>/dev/null; then changed "removed /etc/sparks"; fi
rm -f -- /run/sparks/locks/tls.lock
