#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# gil_wait.sh's GIL contention check on Debian's stripped CPython builds in
# containers (the roots of scripts/rootfs.sh): trixie's 3.13, sid's 3.14
# and 3.15, whose GIL the walker finds through the main interpreter with
# the layouts written from their debug files (docs/layouts.md).
. "$(dirname "$0")/workloads/gil_common.bash"

ran=0
for target in trixie:python3.13 sid:python3.14 sid:python3.15; do
	root=$(bash "$RT_TOP/scripts/rootfs.sh" --dir "${target%%:*}" 2>/dev/null || true)
	py=${target#*:}
	[ -n "$root" ] && [ -f "$root/.rtperf-rootfs" ] && [ -x "$root/usr/bin/$py" ] || continue
	wl=$(mktemp "$root/tmp/gil_contention.XXXXXX")
	cp "$WORKLOADS/gil_contention.py" "$wl"
	gil_run "debian-${py#python}" unshare --pid --mount --uts --ipc --fork \
		--mount-proc="$root/proc" chroot "$root" "$py" "/tmp/${wl##*/}"
	rm -f "$wl"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "no trixie or sid root with its python3.13/3.14/3.15 (scripts/rootfs.sh)"
echo "PASS: gil_wait_container ($ran interpreters)"
