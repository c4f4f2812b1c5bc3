#!/usr/bin/env bash
# The host's CA and a server certificate for ADDRESSES (every service's listen address), which
# spark-pg and spark-redis serve. The CA (ca.key root 0600, ca.crt 0644) is made once on the host
# (CA_SOURCE=host) or is the operator's (CA_SOURCE=operator, lib/tls-ca.sh). The server
# certificate is (re-)issued when there is none, it is not the CA's, it expires within RENEW_DAYS,
# it names other addresses, or its key does not match: into server-<serial>/ (key root:sparks-tls
# 0640), then `current` is swapped to it atomically, each installed tool reloads it (`<tool>
# reload-tls`), and the other server-* directories go. The daily sparks-tls-renew.timer runs this
# script again with the same values (renew.params), so expiry is handled between deploys. The CA
# certificate is the last thing printed before the result line: the deploy exports it.
# sparks-include: lib/owner.sh
# sparks-include: lib/packages.sh
# sparks-include: lib/write-file.sh
# sparks-include: lib/root-lock.sh
# sparks-include: lib/tls.sh
# sparks-include: lib/tls-ca.sh
[ "${#ADDRESSES[@]}" -gt 0 ] || fail "ADDRESSES is empty: a server certificate names at least one address"
[ "$VALID_DAYS" -gt "$RENEW_DAYS" ] || fail "VALID_DAYS ($VALID_DAYS) must be greater than RENEW_DAYS ($RENEW_DAYS)"
command -v openssl >/dev/null || install_missing_packages openssl
take_root_lock tls
dir=$SPARKS_TLS_DIR
mkdir -p "$dir"
chmod 0755 "$dir"
# First, so a CA that is not the operator's stops the run before it changes anything else.
case $CA_SOURCE in
  host) ensure_host_ca "$dir" ;;
  operator) ensure_operator_ca "$dir" "$CA_FINGERPRINT" ;;
  *) fail "CA_SOURCE is \"$CA_SOURCE\", not host or operator" ;;
esac

if ! getent group "$SPARKS_TLS_GROUP" >/dev/null; then
  groupadd --system "$SPARKS_TLS_GROUP"
  changed "added group $SPARKS_TLS_GROUP"
fi
# The services' own users read the key through the group; each tool's setup adds its user too,
# for a package installed after this ran.
for user in postgres redis; do
  if id -u "$user" >/dev/null 2>&1 && ! id -nG "$user" | tr ' ' '\n' | grep -qx "$SPARKS_TLS_GROUP"; then
    usermod -a -G "$SPARKS_TLS_GROUP" "$user"
    changed "added $user to $SPARKS_TLS_GROUP"
  fi
done

chown root:root "$dir/ca.key" "$dir/ca.crt"
chmod 0600 "$dir/ca.key"
chmod 0644 "$dir/ca.crt"

want=$(for address in "${ADDRESSES[@]}"; do openssl_ip_form "$address"; done | sort -u)
reason=$(reissue_reason "$dir/current/server.crt" "$dir/current/server.key" "$dir/ca.crt" "$RENEW_DAYS" "$want")
if [ -n "$reason" ]; then
  serial=$(openssl rand -hex 16)
  new_temp_file "$dir/server.key"
  key=$TEMP_FILE
  new_temp_file "$dir/server.csr"
  csr=$TEMP_FILE
  new_temp_file "$dir/server.crt"
  crt=$TEMP_FILE
  new_temp_file "$dir/server.ext"
  ext=$TEMP_FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null
  openssl req -new -key "$key" -out "$csr" -subj "/CN=${ADDRESSES[0]}"
  san=$(for address in "${ADDRESSES[@]}"; do printf 'IP:%s,' "$address"; done)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "${san%,}" >"$ext"
  openssl x509 -req -in "$csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$serial" -days "$VALID_DAYS" -extfile "$ext" -out "$crt" 2>/dev/null
  chown root:"$SPARKS_TLS_GROUP" "$key"
  chmod 0640 "$key"
  chmod 0644 "$crt"
  mkdir -m 0750 "$dir/server-$serial"
  chown root:"$SPARKS_TLS_GROUP" "$dir/server-$serial"
  mv -f "$key" "$dir/server-$serial/server.key"
  mv -f "$crt" "$dir/server-$serial/server.crt"
  new_temp_file "$dir/current"
  rm -f "$TEMP_FILE"
  ln -s "server-$serial" "$TEMP_FILE"
  mv -T -f "$TEMP_FILE" "$dir/current"
  changed "issued server certificate server-$serial for ${ADDRESSES[*]} ($reason)"
  for tool in "${SPARKS_TLS_TOOLS[@]}"; do
    if [ -x "/usr/local/sbin/$tool" ]; then
      "/usr/local/sbin/$tool" reload-tls || fail "$tool reload-tls failed: its running instances still serve the previous certificate"
    fi
  done
fi
current=$(readlink "$dir/current")
for old in "$dir"/server-*; do
  [ -d "$old" ] || continue
  if [ "${old##*/}" != "$current" ]; then
    rm -rf -- "$old"
    changed "removed the previous certificate ${old##*/}"
  fi
done

# The timer runs this very file again (the shipped copy, content-addressed, so a deploy of a new
# version points it at the new one) with this run's values.
self=${BASH_SOURCE[0]}
[ -f "$self" ] || fail "run the shipped copy of this script (not $self): the renew timer needs a path to run again"
# shellcheck disable=SC2034 # saved by name below
SPARKS_TLS_SCRIPT=$self
saved=(ADDRESSES VALID_DAYS RENEW_DAYS CA_SOURCE CA_FINGERPRINT RESOURCE CONVERGE SPARKS_TLS_SCRIPT)
write_file "$dir/renew.params" 0600 < <(declare -p "${saved[@]}")
write_file /etc/systemd/system/sparks-tls-renew.service 0644 <<'UNIT'
# Written by the Sparks host TLS component (components/scripts/host/tls.sh).
[Unit]
Description=Renew the Sparks host's TLS server certificate when it is due
[Service]
Type=oneshot
ExecStart=/bin/bash -c '. /etc/sparks/tls/renew.params && . "$$SPARKS_TLS_SCRIPT"'
UNIT
units=$FILE_CHANGED
write_file /etc/systemd/system/sparks-tls-renew.timer 0644 <<'UNIT'
# Written by the Sparks host TLS component (components/scripts/host/tls.sh).
[Unit]
Description=Daily renewal check of the Sparks host's TLS server certificate
[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true
[Install]
WantedBy=timers.target
UNIT
if [ "$units" = yes ] || [ "$FILE_CHANGED" = yes ]; then systemctl daemon-reload; fi
if ! systemctl is-enabled --quiet sparks-tls-renew.timer || ! systemctl is-active --quiet sparks-tls-renew.timer; then
  systemctl enable --now --quiet sparks-tls-renew.timer
  changed "enabled sparks-tls-renew.timer"
fi
claim tls host
cat "$dir/ca.crt"
