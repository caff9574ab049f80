#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# GIL contention (pyenv's CPython 3.11, 3.12 and 3.13, Debian's 3.11; the
# GIL's place comes from layouts/, in the interpreter from 3.12): three threads running
# Python code and one hashing with the GIL released, recorded with rt-bpf
# record --off-cpu.  The spinners' [gil wait] and [preempted] shares of
# their wall time (rtmerge --wall) match their own timing (wall - CPU)
# within TOL points, [gil wait] at least half of it (workloads/gil_check.py);
# rtmerge --gil keeps the spinners' samples and leaves out the hasher's.
. "$(dirname "$0")/lib.sh"
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads
TOL=${TOL:-10}

require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"

run() { # LABEL PYTHON
	local label=$1 py=$2 base=$E2E_TMP/$1
	timeout 60 "$RTBPF" record --off-cpu -F 499 -o "$base.data" -- "$py" \
		"$WORKLOADS/gil_contention.py" 3 3 >"$base.json" 2>"$base.log" ||
		{ cat "$base.log" >&2; fail "$label: rt-bpf record"; }
	grep '^rt-bpf: off-CPU' "$base.log"
	"$RTMERGE" --wall --tid -o "$base.wall" "$base.data" 2>/dev/null || fail "$label: rtmerge --wall"
	"$RTMERGE" --tid -o "$base.cpu" "$base.data" 2>/dev/null || fail "$label: rtmerge"
	"$RTMERGE" --gil --tid -o "$base.gil" "$base.data" 2>/dev/null || fail "$label: rtmerge --gil"
	python3 "$WORKLOADS/gil_check.py" "$label" "$base.json" "$base.wall" "$base.cpu" "$base.gil" \
		"$TOL" || fail "$label"
}

ran=0
for py in /root/.pyenv/versions/3.11.7/bin/python3.11 /usr/bin/python3.11 \
	/root/.pyenv/versions/3.12.1/bin/python3.12 /root/.pyenv/versions/3.13.0/bin/python3.13; do
	[ -x "$py" ] || continue
	v=${py##*/python}
	case $py in /root/*) label=pyenv-$v ;; *) label=debian-$v ;; esac
	run "$label" "$py"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "no pyenv 3.11.7, 3.12.1, 3.13.0 or /usr/bin/python3.11"
echo "PASS: gil_wait ($ran interpreters)"
