#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make check-kernels: boots Debian's own cloud kernels (bullseye 5.10,
# bookworm 6.1, trixie 6.12) in QEMU and runs tests/kernels/guest.sh inside
# each; prints one "FIGURE kernels:" line per kernel and fails if any fails.
#
#   tests/kernels/check.sh [BUILD_DIR] [RELEASE...]
#
# The guest's root is the bookworm-guest root of scripts/rootfs.sh (this
# machine's binaries need bookworm's libraries; its perf is bookworm's
# linux-perf 6.1) packed as an ext4 image; the project's binaries and tests
# go on a second image.  Both are opened with snapshot=on: the guest writes
# to throw-away copies.  KVM is used when a short probe boot completes on it,
# TCG otherwise (RT_QEMU_ACCEL=kvm|tcg overrides; the probe's answer is
# kept until the host reboots).  Each guest holds the e2e lock
# (/tmp/rtperf-e2e.lock) while it runs, unless RT_KERNELS_LOCK=0 says the
# caller holds it.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
shift || true
case $build in /*) ;; *) build=$top/$build ;; esac
releases=("$@")
((${#releases[@]})) || releases=(bullseye bookworm trixie)
cache=${RT_KERNEL_CACHE:-/var/cache/rtperf/kernels}
guest_timeout=${RT_GUEST_TIMEOUT:-420}
lock=/tmp/rtperf-e2e.lock

need() { # command package
	command -v "$1" >/dev/null && return 0
	echo "kernels: installing $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need qemu-system-x86_64 qemu-system-x86
need busybox busybox-static
need mkfs.ext4 e2fsprogs
need cpio cpio

for b in rt-bpf rtmerge rt-decode; do
	[ -x "$build/$b" ] || { echo "kernels: $build/$b not built (make all)" >&2; exit 1; }
done
bash "$top/scripts/rootfs.sh" bookworm-guest
bash "$top/tests/kernels/fetch.sh" "${releases[@]}"
mkdir -p "$cache"

# ext4_image DIR IMAGE: packs DIR into a fresh ext4 image with room to spare
ext4_image() {
	local mb
	mb=$(du -sm "$1" | awk '{ print int($1 * 1.3) + 64 }')
	rm -f "$2"
	truncate -s "${mb}M" "$2"
	mkfs.ext4 -q -F -L rtperf -d "$1" "$2"
}

# the root image, rebuilt when the root's stamp changes
rootdir=$(bash "$top/scripts/rootfs.sh" --dir bookworm-guest)
rootimg=$cache/bookworm-guest.img
if [ ! -f "$rootimg" ] || [ "$(cat "$rootimg.stamp" 2>/dev/null)" != "$(cat "$rootdir/.rtperf-rootfs")" ]; then
	echo "kernels: packing $rootdir into $rootimg"
	ext4_image "$rootdir" "$rootimg.tmp"
	mv "$rootimg.tmp" "$rootimg"
	cp "$rootdir/.rtperf-rootfs" "$rootimg.stamp"
fi

# the project image: this checkout's binaries and the test scripts, fresh each run
work=$(mktemp -d /tmp/rtperf-kernels.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/proj/build" "$work/proj/tests"
cp "$build"/{rt-bpf,rtmerge,rt-decode} "$work/proj/build/"
cp -r "$top/tests/e2e" "$top/tests/kernels" "$work/proj/tests/"
# the tokio ground truth for the guests' tokio case (rt-bpf async's native
# stacks), built here: the guests have no Rust
tokrc=0
tok=$(bash "$top/tests/e2e/tokio/build.sh" "$cache/tokground" 2>"$work/tok.err") || tokrc=$?
if [ $tokrc -eq 0 ]; then
	cp "$tok" "$work/proj/build/tokground"
elif [ $tokrc -eq 77 ]; then
	echo "kernels: no tokio case in the guests: $(tail -n 1 "$work/tok.err")"
else
	cat "$work/tok.err" >&2
	echo "kernels: cannot build the tokio ground truth" >&2
	exit 1
fi
ext4_image "$work/proj" "$work/proj.img"

# qemu_run LOG KERNEL INITRD ACCEL CMDLINE SECONDS: boots a guest for at most
# SECONDS, its console into LOG
qemu_run() {
	local log=$1 kernel=$2 initrd=$3 accel=$4 cmdline=$5 secs=$6
	local how=(-accel kvm)
	# one host thread for both vCPUs: multi-threaded TCG races with the
	# kernel patching its own code at boot (6.12 once oopsed on an int3 in
	# sched_clock_cpu), and one thread leaves the other core to the machine
	[ "$accel" = tcg ] && how=(-accel tcg,thread=single)
	timeout --kill-after=5 "$secs" qemu-system-x86_64 "${how[@]}" -cpu max -smp 2 -m 1536 \
		-nodefaults -display none -no-reboot -serial "file:$log" -monitor none \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4 $cmdline" \
		-drive "file=$rootimg,format=raw,if=virtio,snapshot=on" \
		-drive "file=$work/proj.img,format=raw,if=virtio,snapshot=on" </dev/null >/dev/null 2>"$log.qemu"
}

initrd_of() { # release: the release's initramfs, built once per kernel package
	local k=$cache/$1
	if [ ! -f "$k/initrd.gz" ] || [ "$k/initrd.gz" -ot "$top/tests/kernels/initramfs.sh" ]; then
		bash "$top/tests/kernels/initramfs.sh" "$k/root" "$k/initrd.gz.tmp"
		mv "$k/initrd.gz.tmp" "$k/initrd.gz"
	fi
	echo "$k/initrd.gz"
}

vmlinuz_of() { ls "$cache/$1"/root/boot/vmlinuz-* | head -n 1; }

# the e2e lock, unless the caller holds it (tests/e2e/kernel_guest.sh runs
# under the caller's lock already)
lock_take() { [ "${RT_KERNELS_LOCK:-1}" = 1 ] || return 0; exec 9>"$lock"; flock 9; }
lock_drop() { exec 9>&-; }

# KVM only when a probe guest boots to its root and back in a few seconds:
# on nested paravirtual hosts /dev/kvm exists but Debian guests hang on it.
# The answer holds until the host reboots (cached under its boot id).
accel=${RT_QEMU_ACCEL:-}
probed=$cache/.accel-$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
if [ -z "$accel" ] && [ -s "$probed" ]; then
	accel=$(cat "$probed")
elif [ -z "$accel" ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		r=${releases[0]}
		kernel=$(vmlinuz_of "$r") initrd=$(initrd_of "$r")
		lock_take
		prc=0
		qemu_run "$work/probe.log" "$kernel" "$initrd" kvm rtperf.probe 20 || prc=$?
		lock_drop
		if grep -q 'rtperf-guest: probe ok' "$work/probe.log"; then
			accel=kvm
		elif [ "$prc" -eq 124 ]; then
			echo "kernels: a KVM guest did not come back within 20 s; using TCG"
		else
			echo "kernels: KVM failed (exit $prc: $(tail -n 1 "$work/probe.log.qemu")); using TCG"
		fi
	fi
	rm -f "$cache"/.accel-*
	echo "$accel" >"$probed"
fi
echo "kernels: QEMU accelerator $accel"

# The floor: kernels of these releases must be refused in one line that
# names what they lack (rt-bpf needs bpf_loop, Linux 5.17); all others
# must pass every case.
below_floor=" bullseye "
refusal='lacks BPF links on perf events (Linux 5.15), bpf_loop (Linux 5.17); rt-bpf needs Linux 5.17 or later'

failed=0
for r in "${releases[@]}"; do
	log=$work/$r.log
	rc=0
	kernel=$(vmlinuz_of "$r") initrd=$(initrd_of "$r")
	lock_take
	start=$(date +%s) # the guest's own time, not the wait for the lock
	qemu_run "$log" "$kernel" "$initrd" "$accel" "" "$guest_timeout" || rc=$?
	lock_drop
	secs=$(($(date +%s) - start))
	mkdir -p "$top/build/test-logs"
	cp "$log" "$top/build/test-logs/kernels-$r.log"
	res=$(sed -n 's/^rtperf-guest: result //p' "$log" | tr -d '\r' | tail -n 1)
	if [ -z "$res" ]; then
		why="no result"
		[ "$rc" -eq 124 ] && why="timed out after ${guest_timeout}s"
		res="$(cat "$cache/$r/.rtperf-kernel") FAILED ($why; console: build/test-logs/kernels-$r.log)"
		tail -n 20 "$log" | sed 's/^/    | /'
	fi
	if [[ $below_floor == *" $r "* ]]; then
		# expected: refused in exactly one line, before perf was started
		case $res in
		*"refused: rt-bpf: this kernel "*"$refusal"*"[1 line(s), perf started: no]")
			res="${res%% *} below the floor: refused in one line (${res#*refused: })" ;;
		*) failed=1 res="$res (expected a one-line refusal naming: $refusal)" ;;
		esac
	else
		case $res in *" ok ("*) ;; *) failed=1 ;; esac
	fi
	echo "FIGURE kernels: $res [$r, $accel, ${secs}s]"
done
exit $failed
