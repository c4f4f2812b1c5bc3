# shellcheck shell=bash
# The host CA in DIR: one the host makes itself, or the operator's (stack config tlsCaCertificate
# and the secret tlsCaKey). DIR/ca.source says which it is, so a change of source is seen: a host
# that leaves the operator's CA makes its own, and one that takes it replaces its own.

# The certificate's SHA-256 fingerprint as Node's X509Certificate.fingerprint256 writes it (AB:CD:...).
ca_fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^[^=]*=//'
}

# A new P-256 CA, unless DIR holds one the host made.
ensure_host_ca() {
  local dir=$1 ca_key ca_crt
  if [ -f "$dir/ca.key" ] && [ -f "$dir/ca.crt" ] && [ "$(cat "$dir/ca.source" 2>/dev/null || echo host)" = host ]; then return 0; fi
  new_temp_file "$dir/ca.key"
  ca_key=$TEMP_FILE
  new_temp_file "$dir/ca.crt"
  ca_crt=$TEMP_FILE
  chmod 0600 "$ca_key"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$ca_key" 2>/dev/null
  openssl req -new -x509 -key "$ca_key" -out "$ca_crt" -days "$SPARKS_TLS_CA_DAYS" -subj "/CN=Sparks host CA $(hostname)" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  chmod 0644 "$ca_crt"
  mv -f "$ca_key" "$dir/ca.key"
  mv -f "$ca_crt" "$dir/ca.crt"
  echo host >"$dir/ca.source"
  changed "made the host CA $dir/ca.crt"
}

# The operator's CA with fingerprint WANT. A deploy carries its certificate on fd 4 and its key on
# stdin, both checked before anything is replaced; the renew timer has neither and checks that DIR
# still holds that CA.
ensure_operator_ca() {
  local dir=$1 want=$2 cert key have
  if [ ! -r /dev/fd/4 ]; then
    if [ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ] && [ "$(ca_fingerprint "$dir/ca.crt")" = "$want" ]; then return 0; fi
    fail "$dir does not hold the operator's CA ($want): a deploy installs it"
  fi
  new_temp_file "$dir/ca.crt"
  cert=$TEMP_FILE
  new_temp_file "$dir/ca.key"
  key=$TEMP_FILE
  chmod 0600 "$key"
  cat /dev/fd/4 >"$cert"
  cat >"$key"
  [ -s "$key" ] || fail "CA_SOURCE is operator but no CA key came on stdin"
  have=$(ca_fingerprint "$cert" 2>/dev/null) || fail "the carried CA certificate is not a PEM certificate"
  [ "$have" = "$want" ] || fail "the carried CA certificate has fingerprint $have, not CA_FINGERPRINT $want"
  openssl x509 -in "$cert" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE' || fail "the operator's certificate $want is not a CA (basicConstraints CA:TRUE)"
  [ "$(openssl x509 -in "$cert" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ] ||
    fail "the CA key on stdin does not belong to the operator's certificate $want (or needs a passphrase)"
  if cmp -s "$cert" "$dir/ca.crt" && cmp -s "$key" "$dir/ca.key" && [ "$(cat "$dir/ca.source" 2>/dev/null)" = operator ]; then return 0; fi
  chmod 0644 "$cert"
  mv -f "$key" "$dir/ca.key"
  mv -f "$cert" "$dir/ca.crt"
  echo operator >"$dir/ca.source"
  changed "installed the operator's CA $want"
}
