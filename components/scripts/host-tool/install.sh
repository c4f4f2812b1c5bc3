#!/usr/bin/env bash
# Installs the host tool TOOL: its files (TOOL_FILES) from SOURCE_DIR, where the deploy shipped this
# version (components/bundle.ts), under INSTALL_DIR, the command /usr/local/sbin/TOOL linking to its entry, its config; then runs
# `TOOL setup` (unit templates, directories). A file is rewritten only when it differs. Each tool
# has its own INSTALL_DIR, so tools of different components never remove each other's modules.
# The claim TOOL-tool lets remove.sh take it all back.
# sparks-include: lib/owner.sh
# sparks-include: lib/write-file.sh
[ -d "$ROOT" ] || fail "instance root $ROOT does not exist: declare it as a subvolume of the volume"
[ -d "$SOURCE_DIR" ] || fail "$SOURCE_DIR is missing: the deploy ships it first (<host>-host-files)"
# The previous layout put spark-pg's entry at /usr/local/lib/sparks/spark-pg, a file, beside a
# sparks_host/ that only it used: it makes way for the tool's own directory.
parent=${INSTALL_DIR%/*}
if [ -f "$INSTALL_DIR" ]; then
  rm -f -- "$INSTALL_DIR"
  rm -rf -- "$parent/sparks_host"
  changed "removed the previous layout's $INSTALL_DIR and $parent/sparks_host"
fi
mkdir -p "$INSTALL_DIR/sparks_host" /etc/sparks
for file in "${TOOL_FILES[@]}"; do
  case $file in
    */*) mode=0644 ;;
    *) mode=0755 ;;
  esac
  write_file "$INSTALL_DIR/$file" "$mode" <"$SOURCE_DIR/$file"
done
# A module the tool no longer ships must not stay importable.
for installed in "$INSTALL_DIR"/sparks_host/*.py; do
  [ -e "$installed" ] || continue
  relative=sparks_host/${installed##*/}
  keep=no
  for file in "${TOOL_FILES[@]}"; do [ "$file" != "$relative" ] || keep=yes; done
  if [ "$keep" = no ]; then
    rm -f -- "$installed"
    changed "removed $installed"
  fi
done
link=/usr/local/sbin/$TOOL
if [ "$(readlink -- "$link" || true)" != "$INSTALL_DIR/$TOOL" ]; then
  ln -sfn -- "$INSTALL_DIR/$TOOL" "$link"
  changed "linked $link to $INSTALL_DIR/$TOOL"
fi
write_file "/etc/sparks/$TOOL.json" 0644 <<<"$CONFIG_JSON"
setup=$("$link" setup) || fail "$TOOL setup failed: $setup"
grep -v '^sparks-result: ' <<<"$setup" || true
if grep -qx 'sparks-result: changed' <<<"$setup"; then changed "$TOOL setup installed its units and directories"; fi
claim "$TOOL-tool" "$TOOL"
