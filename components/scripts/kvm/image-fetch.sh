#!/usr/bin/env bash
# Fetches the raw base image NAME from URL into BASE_DIR/NAME-<digest prefix>/disk.raw, checked
# against DIGEST by ALGO (sha256 or sha512). It downloads to a temp directory next to the target and renames it into place
# only once the checksum matches: a mismatch or a broken download leaves nothing behind.
# sparks-include: lib/packages.sh
# sparks-include: lib/staging-dir.sh
case $ALGO in
  sha256 | sha512) ;;
  *) fail "ALGO must be sha256 or sha512, found $ALGO" ;;
esac
target=$BASE_DIR/$NAME-${DIGEST:0:12}
if [ -f "$target/complete" ]; then
  echo "image $NAME ($ALGO ${DIGEST:0:12}) is fetched already"
  exit 0
fi
install_missing_packages curl ca-certificates
make_staging_dir "$BASE_DIR" "fetch-$NAME"
work=$STAGING_DIR
curl --fail --silent --show-error --location --retry 3 --output "$work/disk.raw" -- "$URL" || fail "cannot download image $NAME from $URL"
found=$("${ALGO}sum" "$work/disk.raw" | cut -d' ' -f1)
[ "$found" = "$DIGEST" ] || fail "image $NAME from $URL has $ALGO $found, expected $DIGEST: nothing kept"
touch "$work/complete"
mv -T "$work" "$target"
changed "fetched image $NAME from $URL ($ALGO verified)"
