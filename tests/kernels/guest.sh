#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# PID 1 of a matrix guest (tests/kernels/check.sh): mounts what perf and BPF
# need, runs the guest suite and powers off.  The host reads the console for
# "rtperf-guest: result ...".
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t debugfs debug /sys/kernel/debug 2>/dev/null
mount -t tracefs trace /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null

hostname guest

suite() {
	export RT_TOP=/rtperf RT_BUILD=/rtperf/build
	local ok=() bad=() rc
	echo "rtperf-guest: kernel $(uname -r), $(perf version 2>&1), BTF $([ -r /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
	# below the floor rt-bpf must refuse in one line before starting perf;
	# the host decides whether this kernel was expected to be refused
	timeout 60 /rtperf/build/rt-bpf record -F 99 -o /tmp/floor.data -- true >/dev/null 2>/tmp/floor.err
	if grep -q 'lacks' /tmp/floor.err; then
		echo "rtperf-guest: result $(uname -r) refused: $(grep -m1 lacks /tmp/floor.err)" \
			"[$(wc -l </tmp/floor.err) line(s), perf started: $([ -e /tmp/floor.data ] && echo yes || echo no)]"
		return
	fi
	cases=("python fp" "python dwarf" ruby attach offcpu deep async trace)
	# the host built the tokio ground truth when it could (tests/kernels/check.sh)
	[ -x /rtperf/build/tokground ] && cases+=(tokio)
	for c in "${cases[@]}"; do
		SECONDS=0
		timeout -k 5 120 bash /rtperf/tests/kernels/cases.sh $c >/tmp/case.log 2>&1
		rc=$?
		sed "s/^/rtperf-guest: [$c] /" /tmp/case.log
		echo "rtperf-guest: [$c] exit $rc after ${SECONDS}s"
		if [ "$rc" -eq 0 ]; then ok+=("$c"); else bad+=("$c"); fi
	done
	local joined
	joined=$(printf '%s, ' "${ok[@]}")
	if [ ${#bad[@]} -eq 0 ]; then
		echo "rtperf-guest: result $(uname -r) ok (${joined%, })"
	else
		echo "rtperf-guest: result $(uname -r) FAILED ($(printf '%s, ' "${bad[@]}" | sed 's/, $//') failed; passed: ${joined%, })"
	fi
}

if grep -qw rtperf.probe /proc/cmdline; then
	echo "rtperf-guest: probe ok"
else
	suite
fi
echo o >/proc/sysrq-trigger
sleep 10
