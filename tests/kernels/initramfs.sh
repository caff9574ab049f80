#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the small initramfs a matrix guest boots with: a static busybox,
# the virtio modules its kernel needs to see the two disks (Debian's cloud
# kernels build virtio_blk, and before 6.12 virtio_pci, as modules), and an
# init that mounts the root image and the project image and hands over to
# tests/kernels/guest.sh.
#
#   tests/kernels/initramfs.sh KERNEL_ROOT OUT.cpio.gz
#
# KERNEL_ROOT is an unpacked linux-image package (tests/kernels/fetch.sh).
set -euo pipefail

kroot=$1 out=$2
busybox=$(command -v busybox) || { echo "initramfs: no busybox (package busybox-static)" >&2; exit 1; }
[[ $(file -L "$busybox") == *"statically linked"* ]] ||
	{ echo "initramfs: $busybox is not static (package busybox-static)" >&2; exit 1; }
mdir=$(compgen -G "$kroot/lib/modules/*/" || compgen -G "$kroot/usr/lib/modules/*/") || true
[ -n "$mdir" ] || { echo "initramfs: no modules under $kroot" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$work/bin/busybox"

# load order: each module after the modules it depends on, read from the
# .ko's own "depends=" field (the package ships no modules.dep)
order=()
add_module() {
	local name=$1 f d deps
	for d in "${order[@]}"; do [ "$d" = "$name" ] && return 0; done
	f=$(find "$mdir" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" | head -n 1)
	[ -n "$f" ] || return 0 # built in
	case $f in
	*.xz) xz -dc "$f" >"$work/modules/$name.ko" ;;
	*.zst) zstd -qdc "$f" >"$work/modules/$name.ko" ;;
	*) cp "$f" "$work/modules/$name.ko" ;;
	esac
	deps=$(tr '\0' '\n' <"$work/modules/$name.ko" | sed -n 's/^depends=//p')
	for d in ${deps//,/ }; do add_module "$d"; done
	order+=("$name")
}
for m in virtio virtio_ring virtio_pci virtio_blk; do add_module "$m"; done

{
	echo '#!/bin/busybox sh'
	echo '/bin/busybox --install -s /bin'
	echo 'export PATH=/bin'
	echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
	for m in "${order[@]}"; do echo "insmod /modules/$m.ko"; done
	cat <<'EOF'
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /newroot || { echo "rtperf-guest: no root disk"; poweroff -f; }
mkdir -p /newroot/rtperf
mount -t ext4 /dev/vdb /newroot/rtperf || { echo "rtperf-guest: no project disk"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /rtperf/tests/kernels/guest.sh
EOF
} >"$work/init"
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
