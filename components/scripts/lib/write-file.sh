# shellcheck shell=bash
# FILE_CHANGED is read by the scripts this is rendered into.
# shellcheck disable=SC2034

# Writes stdin to PATH with MODE only when the content differs, via a temp file and rename.
# Sets FILE_CHANGED to yes or no for the caller.
write_file() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp "${path}.XXXXXX")
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "${mode#0}" ]; then
    rm -f "$tmp"
    FILE_CHANGED=no
    return 0
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  FILE_CHANGED=yes
  changed "wrote $path"
}
