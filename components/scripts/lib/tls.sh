# shellcheck shell=bash
# The host's TLS layout (sparks_host/tls.py reads the same paths): its CA and server
# certificates in server-<serial>/ directories, `current` naming the one in use.
# shellcheck disable=SC2034 # read by the scripts that include this
{
  SPARKS_TLS_DIR=/etc/sparks/tls
  SPARKS_TLS_GROUP=sparks-tls
  SPARKS_TLS_CA_DAYS=3650
  # The host tools that serve the certificate: each reloads it, and while one is installed the CA stays.
  SPARKS_TLS_TOOLS=(spark-pg spark-redis)
}

# An IP address as OpenSSL prints it in a subjectAltName: IPv4 as is, IPv6 as eight upper-case
# groups without leading zeros (2001:DB8:0:0:0:0:0:1).
openssl_ip_form() {
  local address=$1 head tail groups=() left=() right=() group i
  case $address in
    *:*) ;;
    *) printf '%s\n' "$address"; return 0 ;;
  esac
  if [[ $address == *::* ]]; then
    head=${address%%::*} tail=${address#*::}
    [ -z "$head" ] || IFS=: read -r -a left <<<"$head"
    [ -z "$tail" ] || IFS=: read -r -a right <<<"$tail"
    groups=("${left[@]}")
    for ((i = ${#left[@]} + ${#right[@]}; i < 8; i++)); do groups+=(0); done
    groups+=("${right[@]}")
  else
    IFS=: read -r -a groups <<<"$address"
  fi
  for i in "${!groups[@]}"; do
    group=${groups[$i]}
    groups[i]=$(printf '%X' "$((16#${group:-0}))")
  done
  (IFS=: && printf '%s\n' "${groups[*]}")
}

# The IP addresses a certificate names (subjectAltName), one a line, sorted.
certificate_addresses() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tr ',' '\n' | sed -n 's/^ *IP Address://p' | sort
}

# Why the certificate CERT with key KEY must be re-issued (one line), or nothing when it is good:
# missing, not signed by CA, expiring within RENEW_DAYS days, naming other addresses than WANT
# (sorted, OpenSSL's form), or not matching its key.
reissue_reason() {
  local cert=$1 key=$2 ca=$3 renew_days=$4 want=$5
  if [ ! -f "$cert" ] || [ ! -f "$key" ]; then echo "no server certificate yet"; return 0; fi
  if ! openssl verify -CAfile "$ca" "$cert" >/dev/null 2>&1; then echo "the server certificate is not signed by the host CA"; return 0; fi
  if ! openssl x509 -in "$cert" -noout -checkend "$((renew_days * 86400))" >/dev/null; then
    echo "the server certificate expires within $renew_days days ($(openssl x509 -in "$cert" -noout -enddate))"
    return 0
  fi
  if [ "$(certificate_addresses "$cert")" != "$want" ]; then
    echo "the server certificate names $(certificate_addresses "$cert" | paste -sd ' '), not $(paste -sd ' ' <<<"$want")"
    return 0
  fi
  if [ "$(openssl x509 -in "$cert" -noout -pubkey)" != "$(openssl pkey -in "$key" -pubout)" ]; then
    echo "the server key does not match the server certificate"
  fi
}
