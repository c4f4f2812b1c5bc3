# shellcheck shell=bash

# Writes stdin to PATH with MODE (octal, e.g. 0644) only when the content or mode differs, via a
# temp file and rename. Sets FILE_CHANGED to yes or no for the caller.
# shellcheck disable=SC2034
write_file() {
  local path=$1 mode=$2
  new_temp_file "$path"
  cat >"$TEMP_FILE"
  if [ -f "$path" ] && cmp -s "$TEMP_FILE" "$path" && [ "$(stat -c %a "$path")" = "$(printf '%o' "$((8#$mode))")" ]; then
    rm -f "$TEMP_FILE"
    FILE_CHANGED=no
    return 0
  fi
  chmod "$mode" "$TEMP_FILE"
  mv -f "$TEMP_FILE" "$path"
  FILE_CHANGED=yes
  changed "wrote $path"
}
