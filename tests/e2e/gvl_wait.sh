#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# GVL contention (Debian's Ruby 3.1; bullseye's Ruby 2.7 and trixie's 3.3 in
# containers when scripts/rootfs.sh built their roots): two threads running
# Ruby code, each waiting for the GVL about half the time, recorded with
# rt-bpf record --off-cpu.  The threads' [gvl wait] and [preempted] shares
# of their wall time (rtmerge --wall) match their own timing (wall - CPU)
# within TOL points (and the steal time the hypervisor took meanwhile, which
# their CPU clocks leave out: lib.sh's steal_seconds), [gvl wait] at least
# 0.4 and half of it
# (workloads/gvl_check.py).  Measured: the sum within 1.2 points in 30
# recordings (10 runs), [gvl wait] 0.454-0.487 (README).
. "$(dirname "$0")/lib.sh"
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads
TOL=${TOL:-5}
SECS=${SECS:-3}

require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"

run() { # LABEL CMD... (the workload's arguments follow)
	local label=$1 base=$E2E_TMP/$1 steal0 steal
	shift
	steal0=$(steal_seconds)
	timeout 60 "$RTBPF" record --off-cpu -F 499 -o "$base.data" -- "$@" "$SECS" 2 \
		>"$base.json" 2>"$base.log" || { cat "$base.log" >&2; fail "$label: rt-bpf record"; }
	steal=$(awk -v a="$steal0" -v b="$(steal_seconds)" 'BEGIN { print b - a }')
	grep '^rt-bpf: off-CPU' "$base.log"
	"$RTMERGE" --wall --tid -o "$base.wall" "$base.data" 2>/dev/null || fail "$label: rtmerge --wall"
	(cd "$WORKLOADS" && python3 gvl_check.py "$label" "$base.json" "$base.wall" "$TOL" "$steal") ||
		{ grep '^rt-bpf' "$base.log" >&2; fail "$label"; }
}

ran=0
if [ -x /usr/bin/ruby3.1 ]; then
	run ruby-3.1 /usr/bin/ruby3.1 "$WORKLOADS/gvl_contention.rb"
	ran=$((ran + 1))
fi
# the containers' Rubies, in the roots scripts/rootfs.sh built
for target in bullseye:ruby2.7 trixie:ruby3.3; do
	root=$(bash "$RT_TOP/scripts/rootfs.sh" --dir "${target%%:*}" 2>/dev/null || true)
	rb=${target#*:}
	[ -n "$root" ] && [ -f "$root/.rtperf-rootfs" ] && [ -x "$root/usr/bin/$rb" ] || continue
	wl=$(mktemp "$root/tmp/gvl_contention.XXXXXX")
	cp "$WORKLOADS/gvl_contention.rb" "$wl"
	run "ruby-${rb#ruby}" unshare --pid --mount --uts --ipc --fork --mount-proc="$root/proc" \
		chroot "$root" "$rb" "/tmp/${wl##*/}"
	rm -f "$wl"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "no /usr/bin/ruby3.1 and no bullseye or trixie root with its Ruby"
echo "PASS: gvl_wait ($ran Rubies)"
