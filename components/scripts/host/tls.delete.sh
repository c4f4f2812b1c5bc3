#!/usr/bin/env bash
# Removes the renew timer and its service, and the values it ran with. Keeps the CA and the
# certificates: clients trust the CA, and a later deploy (or the instances that remain) need them.
# sparks-include: lib/owner.sh
leave_unless_owned tls host "the host TLS renew timer"
if systemctl is-enabled --quiet sparks-tls-renew.timer 2>/dev/null || systemctl is-active --quiet sparks-tls-renew.timer; then
  systemctl disable --now --quiet sparks-tls-renew.timer
  changed "disabled sparks-tls-renew.timer"
fi
for file in /etc/systemd/system/sparks-tls-renew.timer /etc/systemd/system/sparks-tls-renew.service /etc/sparks/tls/renew.params; do
  if [ -e "$file" ]; then
    rm -f -- "$file"
    changed "removed $file"
  fi
done
systemctl daemon-reload
release tls host
echo "kept the host CA and certificates in /etc/sparks/tls"
