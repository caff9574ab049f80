#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# JIT frames named through /tmp/perf-PID.map (node --perf-basic-prof);
# `--jit` marks them `_[j]`.
source "$(dirname "$0")/lib.sh"
require_perf
cd "$E2E_TMP"
ran=0
# CPython 3.12's `-X perf` trampolines sit between libpython frames, which
# keep no frame pointers: with -g they are rarely reached.  node's JIT code
# is where its time goes, so it checks the perf-map path here.
if command -v node >/dev/null; then
	# perf itself aborted here once (SIGABRT, in a full test run; none in
	# 23 runs of this test alone; no rtperf code involved): a recording
	# that died of a signal is said and taken again, once
	for try in 1 2; do
		rc=0
		perf record -q -g -e cpu-clock -F 999 -o node.data -- node --perf-basic-prof -e '
			function jsHotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; }
			const end = Date.now() + 1500; while (Date.now() < end) jsHotLoop(100000);' \
			2>perf.err || rc=$?
		[ "$rc" -gt 128 ] && [ "$try" -eq 1 ] || break
		note "perf record died of signal $((rc - 128)), taken again: $(tail -n 2 perf.err)"
	done
	[ "$rc" -eq 0 ] || { cat perf.err; fail "perf record node (exit $rc)"; }
	"$RTMERGE" --jit node.data >node.folded 2>/dev/null || fail "rtmerge node"
	n=$(folded_count node.folded 'jsHotLoop[^;]*_\[j\]')
	"$RTMERGE" node.data >node-plain.folded 2>/dev/null
	grep -q '_\[j\]' node-plain.folded && fail "_[j] without --jit"
	note "node --perf-basic-prof: $n samples in jsHotLoop"
	[ "$n" -gt 100 ] || { sort -k2 -n node.folded | tail -n 3; fail "no jsHotLoop JIT frames"; }
	ran=$((ran + 1))
fi
[ "$ran" -gt 0 ] || skip "node is not installed"
echo "jit_perfmap: ok ($ran runtimes)"
