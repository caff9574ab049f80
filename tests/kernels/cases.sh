#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The cases a matrix guest runs (tests/kernels/guest.sh), each checked on
# rtmerge's folded stacks by tests/kernels/split_check.py:
#
#   cases.sh python fp|dwarf   rt-bpf record -- python3.11 py_split.py
#   cases.sh ruby              rt-bpf record -- ruby3.1 rb_split.rb
#   cases.sh attach            rt-bpf attach to a running perf record -a
#   cases.sh offcpu            rt-bpf record --off-cpu -- python3.11 offcpu_truth.py
#                              (rtmerge --off-cpu: the sleep and the pipe read
#                              with their system calls as leaves)
#   cases.sh deep              rt-bpf record -- python3.11 py_recurse.py 3000
#                              (every frame of a 3,000-deep stack: the
#                              chunked records of docs/record-format.md)
#   cases.sh async             rt-bpf async -- python3.11 py_async_ground.py
#                              (bpf/async.bpf.c loads, and the blocker's
#                              sleeps are found as blocking steps with their
#                              cause and stack)
#   cases.sh tokio             rt-bpf async -- tokground (build/tokground, from
#                              tests/e2e/tokio/build.sh): the blocking polls
#                              with their native stacks, unwound to _start
#   cases.sh trace             rt-bpf trace -- python3.11 tests/e2e/trace/truth.py
#                              (bpf/trace.bpf.c loads; a valid trace with
#                              main's calls and the write, per thread balanced)
#
# Runs on the host as well (under the e2e lock); exits 77 when something
# it needs is missing.
kind=${1:?case}
mode=${2:-fp}
. "$(dirname "$0")/../e2e/workloads/py311_common.bash"
py311_require
PY=$PY_DEBIAN
CHECK=$RT_TOP/tests/kernels/split_check.py
# samples a split must reach; the guests run under emulation, so this is
# a floor for a working recording, not a rate
least=${RT_SPLIT_LEAST:-150}

merge() { # NAME LANG WORKLOAD
	"$RT_MERGE" --tid -o "$PY_TMP/$1.folded" "$PY_TMP/$1.data" 2>"$PY_TMP/$1.merr" ||
		fail "$1: rtmerge failed: $(tail -3 "$PY_TMP/$1.merr")"
	python3 "$CHECK" "$2" "$PY_TMP/$1.folded" "$3" "$least" || fail "$1: wrong stacks"
}

# the verifier's verdict, when the kernel refused a program
verdict() { grep -B6 -- '-- END PROG LOAD LOG --' "$1" | grep -v '^;'; }

record() { # NAME LANG WORKLOAD RT-BPF-OPTIONS... -- COMMAND...
	local name=$1 lang=$2 wl=$3
	shift 3
	timeout 60 "$RT_BPF" record -F 199 -o "$PY_TMP/$name.data" "$@" >"$PY_TMP/$name.out" 2>"$PY_TMP/$name.err" ||
		{ verdict "$PY_TMP/$name.err"; fail "$name: rt-bpf record failed: $(tail -3 "$PY_TMP/$name.err")"; }
	grep '^rt-bpf:' "$PY_TMP/$name.err" | head -n 5
	merge "$name" "$lang" "$wl"
}

# async_case async|tokio COMMAND... (writing its log to $PY_TMP/NAME.log):
# rt-bpf async on an async ground truth, checked by async_case_check.py
async_case() {
	local name=$1
	shift
	timeout 90 "$RT_BPF" async --threshold-ms 20 --json "$PY_TMP/$name.json" -- "$@" \
		>"$PY_TMP/$name.out" 2>&1 ||
		{ verdict "$PY_TMP/$name.out"; fail "$name: rt-bpf async failed: $(tail -3 "$PY_TMP/$name.out")"; }
	python3 "$RT_TOP/tests/kernels/async_case_check.py" "$name" "$PY_TMP/$name.json" \
		"$PY_TMP/$name.log" || fail "$name: wrong report"
}

case $kind in
python)
	record "py-$mode" python "$WORKLOADS/py_split.py" --call-graph "$mode" -- "$PY" "$WORKLOADS/py_split.py" 3
	;;
ruby)
	RUBY=/usr/bin/ruby3.1
	[ -x "$RUBY" ] || skip "no $RUBY"
	record rb ruby "$WORKLOADS/rb_split.rb" -- "$RUBY" "$WORKLOADS/rb_split.rb" 3
	;;
attach)
	# perf runs until the workload is done; the workload starts once rt-bpf
	# says it is attached (loading the walker takes seconds under emulation)
	perf record -a -g -k mono -e cpu-clock -F 199 -e 'bpf-output/no-inherit,name=rt/' \
		-o "$PY_TMP/att.data" -- sleep 60 >/dev/null 2>"$PY_TMP/perf.err" &
	perfpid=$!
	sleep 1
	"$RT_BPF" attach --perf-pid "$perfpid" 2>"$PY_TMP/att.err" &
	apid=$!
	for _ in $(seq 300); do
		grep -q 'attached to perf record' "$PY_TMP/att.err" && break
		kill -0 "$apid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'attached to perf record' "$PY_TMP/att.err" || { verdict "$PY_TMP/att.err"; kill -INT "$perfpid"; fail "rt-bpf attach did not attach: $(tail -3 "$PY_TMP/att.err")"; }
	"$PY" "$WORKLOADS/py_split.py" 3
	kill -INT "$perfpid"
	wait "$perfpid"
	wait "$apid" || fail "rt-bpf attach failed: $(tail -3 "$PY_TMP/att.err")"
	grep '^rt-bpf:' "$PY_TMP/att.err" | head -n 5
	merge att python "$WORKLOADS/py_split.py"
	;;
offcpu)
	timeout 60 "$RT_BPF" record --off-cpu -F 199 -o "$PY_TMP/off.data" -- "$PY" \
		"$WORKLOADS/offcpu_truth.py" 3 4 3 3 >"$PY_TMP/off.out" 2>"$PY_TMP/off.err" ||
		{ verdict "$PY_TMP/off.err"; fail "off: rt-bpf record failed: $(tail -3 "$PY_TMP/off.err")"; }
	grep '^rt-bpf: off-CPU' "$PY_TMP/off.err"
	"$RT_MERGE" --off-cpu -o "$PY_TMP/off.folded" "$PY_TMP/off.data" 2>"$PY_TMP/off.merr" ||
		fail "off: rtmerge failed: $(tail -3 "$PY_TMP/off.merr")"
	grep 'off-CPU intervals' "$PY_TMP/off.merr"
	grep -q 'sleep_slice (.*;\[syscall\] clock_nanosleep [0-9]*$' "$PY_TMP/off.folded" ||
		fail "off: no sleep_slice stack ending in [syscall] clock_nanosleep"
	grep -q 'pipe_slice (.*;\[syscall\] read [0-9]*$' "$PY_TMP/off.folded" ||
		fail "off: no pipe_slice stack ending in [syscall] read"
	# the CPU view of the same file: each on-CPU sample keeps its own
	# stack record, whichever comes first on this kernel, though the
	# switch samples between them are left out (91% of the samples in
	# the script's frames on the host)
	"$RT_MERGE" -o "$PY_TMP/on.folded" "$PY_TMP/off.data" 2>"$PY_TMP/on.merr" ||
		fail "off: rtmerge (CPU view) failed: $(tail -3 "$PY_TMP/on.merr")"
	# (no process substitution: the guest has no /dev/fd)
	read -r inpy all <<<"$(awk '{ n = $NF; t += n; if ($0 ~ /offcpu_truth\.py/) p += n }
		END { print p + 0, t + 0 }' "$PY_TMP/on.folded")"
	none=$(sed -n 's/.*interpreter stack records (joined to their native samples; \([0-9]*\) found none).*/\1/p' \
		"$PY_TMP/on.merr")
	echo "off: CPU view: $inpy of $all samples in the script's frames, ${none:-?} stack records without their sample"
	[ "$all" -gt 0 ] && [ $((inpy * 10)) -ge $((all * 6)) ] && [ -n "$none" ] &&
		[ $((none * 20)) -le "$all" ] || fail "off: the CPU view lost the samples' stacks"
	;;
deep)
	timeout 60 "$RT_BPF" record -F 199 -o "$PY_TMP/deep.data" -- "$PY" \
		"$WORKLOADS/py_recurse.py" 3000 3 >"$PY_TMP/deep.out" 2>"$PY_TMP/deep.err" ||
		{ verdict "$PY_TMP/deep.err"; fail "deep: rt-bpf record failed: $(tail -3 "$PY_TMP/deep.err")"; }
	grep '^rt-bpf: python samples' "$PY_TMP/deep.err"
	"$RT_MERGE" --tid -o "$PY_TMP/deep.folded" "$PY_TMP/deep.data" 2>"$PY_TMP/deep.merr" ||
		fail "deep: rtmerge failed: $(tail -3 "$PY_TMP/deep.merr")"
	# a floor for a working recording under emulation, as for the splits
	python3 "$WORKLOADS/deep_check.py" "$PY_TMP/deep.folded" "$PY_TMP/deep.err" deep py 3000 \
		"$WORKLOADS/py_recurse.py" 20 ||
		{ grep '^rtmerge' "$PY_TMP/deep.merr" | head -n 6; fail "deep: wrong stacks"; }
	;;
async)
	async_case async "$PY" "$WORKLOADS/py_async_ground.py" "$PY_TMP/async.log" 0.2
	;;
tokio)
	TOK=${RT_TOKGROUND:-$RT_TOP/build/tokground}
	[ -x "$TOK" ] || skip "no $TOK (tests/e2e/tokio/build.sh)"
	async_case tokio "$TOK" "$PY_TMP/tokio.log"
	;;
trace)
	T=$RT_TOP/tests/e2e/trace
	(cd "$T" && timeout 90 "$RT_BPF" trace -o "$PY_TMP/tr" -- "$PY" truth.py) >"$PY_TMP/tr.out" \
		2>"$PY_TMP/tr.err" || { verdict "$PY_TMP/tr.err"; fail "trace: rt-bpf trace failed: $(tail -3 "$PY_TMP/tr.err")"; }
	grep '^rt-bpf: trace' "$PY_TMP/tr.err"
	python3 "$T/compare.py" validate "$PY_TMP/tr" || fail "trace: not a valid trace directory"
	grep -q '"name": "main"' "$PY_TMP/tr/trace.json" || fail "trace: no Function main"
	grep -q '"kind": 0, "metadata": "fd 1"' "$PY_TMP/tr/trace.json" || fail "trace: no write Event"
	;;
*) fail "unknown case $kind" ;;
esac
echo ok
