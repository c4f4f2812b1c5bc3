#!/usr/bin/env bash
# Installs the host tool spark-pg: the files carried on fd 4, 5, ... (TOOL_FILES, in that order)
# under INSTALL_DIR, the command /usr/local/sbin/spark-pg linking to its entry, its config; then
# runs `spark-pg setup` (unit templates, directories). A file is rewritten only when it differs.
# sparks-include: lib/owner.sh
# sparks-include: lib/write-file.sh
[ -d "$ROOT" ] || fail "instance root $ROOT does not exist: declare it as a subvolume of the volume"
mkdir -p "$INSTALL_DIR/sparks_host" /etc/sparks
fd=4
for file in "${TOOL_FILES[@]}"; do
  case $file in
    */*) mode=0644 ;;
    *) mode=0755 ;;
  esac
  write_file "$INSTALL_DIR/$file" "$mode" <"/dev/fd/$fd"
  fd=$((fd + 1))
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
link=/usr/local/sbin/spark-pg
if [ "$(readlink -- "$link" || true)" != "$INSTALL_DIR/spark-pg" ]; then
  ln -sfn -- "$INSTALL_DIR/spark-pg" "$link"
  changed "linked $link to $INSTALL_DIR/spark-pg"
fi
write_file /etc/sparks/spark-pg.json 0644 <<<"$CONFIG_JSON"
setup=$("$link" setup) || fail "spark-pg setup failed: $setup"
grep -v '^sparks-result: ' <<<"$setup" || true
if grep -qx 'sparks-result: changed' <<<"$setup"; then changed "spark-pg setup installed its units and directories"; fi
claim spark-pg-tool spark-pg
