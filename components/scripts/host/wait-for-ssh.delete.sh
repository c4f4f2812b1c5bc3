#!/usr/bin/env bash
# Runs last in a destroy (every command of the host depends on wait-for-ssh): removes the scripts and
# tools the deploy shipped (BUNDLE_DIR), once no ownership claim is left on the host. While one is
# (a delete kept what it guards), they stay: a later deploy's and destroy's commands call them.
# sparks-include: lib/owner.sh
if [ -n "$(find "$SPARKS_OWNERS" -type f -print -quit 2>/dev/null)" ]; then
  echo "claims remain under $SPARKS_OWNERS: $BUNDLE_DIR kept"
  exit 0
fi
if [ -d "$BUNDLE_DIR" ]; then
  rm -rf -- "$BUNDLE_DIR"
  changed "removed $BUNDLE_DIR"
fi
for dir in "${BUNDLE_DIR%/*}" "$SPARKS_OWNERS"; do
  if [ -d "$dir" ] && rmdir "$dir" 2>/dev/null; then changed "removed empty $dir"; fi
done
