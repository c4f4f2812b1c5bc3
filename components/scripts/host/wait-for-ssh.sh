#!/usr/bin/env bash
# Proves the host answers over SSH and is a Debian host run by systemd; every other command of the
# host depends on this one.
[ -f /etc/debian_version ] || fail "$HOST_NAME: not a Debian host (no /etc/debian_version)"
[ -d /run/systemd/system ] || fail "$HOST_NAME: systemd is not running as init"
printf 'host %s: %s, Debian %s, kernel %s\n' "$HOST_NAME" "$(hostname)" "$(cat /etc/debian_version)" "$(uname -r)"
