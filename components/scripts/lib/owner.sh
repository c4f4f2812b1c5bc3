# shellcheck shell=bash
# Ownership markers: which resource manages a thing on this host. A create script claims what it
# manages (taking it over from another resource: that is a rename); a delete script acts only on
# what its own resource still holds. A rename creates the new resources before it deletes the old
# ones, so the old ones find everything claimed by their successors and leave it in place.
# Markers are /var/lib/sparks/owners/KIND/KEY, holding `resource=NAME` and any FIELD=VALUE lines;
# RESOURCE (a parameter of every host command) is this command's resource name.

SPARKS_OWNERS=/var/lib/sparks/owners

owner_marker() {
  case "/$2/" in
    // | */../* | */./*) fail "bad ownership key \"$2\"" ;;
  esac
  printf '%s/%s/%s\n' "$SPARKS_OWNERS" "$1" "$2"
}

# Prints FIELD of the claim on KIND KEY; nothing when there is no claim or no such field.
claim_field() {
  local marker
  marker=$(owner_marker "$1" "$2")
  [ -f "$marker" ] || return 0
  sed -n "s/^$3=//p" "$marker"
}

# Prints the resource that holds the claim on KIND KEY; nothing when unclaimed.
claimant() {
  claim_field "$1" "$2" resource
}

owned_by_me() {
  [ "$(claimant "$1" "$2")" = "$RESOURCE" ]
}

# Records RESOURCE as the owner of KIND KEY, with optional FIELD=VALUE lines.
claim() {
  local kind=$1 key=$2 marker previous content
  shift 2
  marker=$(owner_marker "$kind" "$key")
  content=$(printf 'resource=%s\n' "$RESOURCE" && if [ "$#" -gt 0 ]; then printf '%s\n' "$@"; fi)
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$content" ]; then return 0; fi
  previous=$(claimant "$kind" "$key")
  mkdir -p "${marker%/*}"
  new_temp_file "$marker"
  printf '%s\n' "$content" >"$TEMP_FILE"
  mv -f "$TEMP_FILE" "$marker"
  if [ -n "$previous" ] && [ "$previous" != "$RESOURCE" ]; then
    changed "claimed $kind $key for $RESOURCE, taking it over from $previous"
  else
    changed "claimed $kind $key for $RESOURCE"
  fi
}

# Prints the keys claimed under KIND/PREFIX (one per line), whoever holds them.
claimed_keys() {
  local dir
  dir=$(owner_marker "$1" "$2")
  [ -d "$dir" ] || return 0
  find "$dir" -type f -printf '%P\n' | sort
}

release() {
  rm -f -- "$(owner_marker "$1" "$2")"
}

# Ends the script, having changed nothing, unless RESOURCE holds the claim on KIND KEY. WHAT names
# the thing in the message.
leave_unless_owned() {
  local holder
  holder=$(claimant "$1" "$2")
  [ "$holder" != "$RESOURCE" ] || return 0
  if [ -n "$holder" ]; then
    echo "$3 is claimed by $holder: left in place"
  else
    echo "$3 is not claimed by $RESOURCE: left in place"
  fi
  exit 0
}
