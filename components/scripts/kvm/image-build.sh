#!/usr/bin/env bash
# Builds the base image NAME as BASE_DIR/NAME-KEY (KEY hashes the recipe: this script, the guest
# init on fd 4, SIZE_BYTES): Debian's cloud kernel, an initramfs of busybox-static with the virtio
# and iso9660 modules and the init, and a raw disk of SIZE_BYTES whose first line names the image.
# Built in a temp directory renamed into place at the end, so a failed build leaves nothing; a
# complete build is kept and reused.
# sparks-include: lib/packages.sh
# sparks-include: lib/staging-dir.sh
target=$BASE_DIR/$NAME-$KEY
if [ -f "$target/complete" ]; then
  echo "image $NAME ($KEY) is built already"
  exit 0
fi
install_missing_packages busybox-static cpio kmod
make_staging_dir "$BASE_DIR" "build-$NAME"
work=$STAGING_DIR
cd "$work" || fail "cannot enter $work"
kernel_package=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
[ -n "$kernel_package" ] || fail "cannot resolve linux-image-cloud-amd64 to a kernel package"
apt-get download -q -o APT::Sandbox::User=root "$kernel_package" >/dev/null
dpkg-deb -x ./"$kernel_package"_*.deb kernel
version=${kernel_package#linux-image-}
modules=kernel/lib/modules/$version
depmod -b "$work/kernel" "$version"
mkdir -p initramfs/bin initramfs/lib/modules
cp /bin/busybox initramfs/bin/busybox
cat /dev/fd/4 >initramfs/init
chmod 0755 initramfs/init
# Each wanted module after the modules it depends on, in load order.
declare -A added=()
order=()
add_module() {
  local module=$1 dep deps
  [ -z "${added[$module]:-}" ] || return 0
  added[$module]=1
  read -r -a deps <<<"$(sed -n "s|^$module: *||p" "$modules/modules.dep")"
  for dep in "${deps[@]}"; do add_module "$dep"; done
  order+=("$module")
}
for wanted in virtio_pci virtio_blk virtio_net isofs; do
  path=$(grep -o "^[^:]*/$wanted\.ko" "$modules/modules.dep" | head -n 1)
  [ -n "$path" ] || fail "kernel $version has no module $wanted"
  add_module "$path"
done
for module in "${order[@]}"; do
  mkdir -p "initramfs/lib/modules/${module%/*}"
  cp "$modules/$module" "initramfs/lib/modules/$module"
done
printf '%s\n' "${order[@]}" >initramfs/modules.order
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -1) >initrd.img
mkdir image
mv initrd.img image/initrd.img
cp "kernel/boot/vmlinuz-$version" image/vmlinuz
truncate -s "$SIZE_BYTES" image/disk.raw
printf 'sparks-base-image name=%s key=%s kernel=%s\n' "$NAME" "$KEY" "$version" | dd of=image/disk.raw conv=notrunc status=none
echo "$version" >image/kernel-version
touch image/complete
mv -T image "$target"
changed "built image $NAME ($KEY): kernel $version, busybox"
