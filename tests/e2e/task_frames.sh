#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record --tasks + rtmerge on the async ground truths: the asyncio
# one (workloads/py_async_ground.py) in pyenv's 3.11.7, 3.12.1, 3.13.0 and
# Debian's stripped 3.11, recorded with --off-cpu and folded with --wall so
# that the blocker's time.sleep is sampled too, and the tokio one
# (tests/e2e/tokio, --call-graph dwarf: its release build has no frame
# pointers).  Samples inside a task's step must carry that task's [task]
# frame where it belongs, samples outside every step none
# (workloads/task_frames_check.py).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for uprobes and perf"
RTBPF=$RT_BUILD/rt-bpf
RTMERGE=$RT_BUILD/rtmerge
require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
W=$RT_TOP/tests/e2e/workloads
MIN_SHARE=0.9
found=0

# record NAME RUNTIME RECORD-OPTIONS... -- CMD...: records, folds, checks
record() {
	local name=$1 runtime=$2 view=
	shift 2
	[ "$runtime" = asyncio ] && view=--wall
	"$RTBPF" record --tasks -F 199 -o "$E2E_TMP/$name.data" "$@" >"$E2E_TMP/$name.out" 2>&1 ||
		{ cat "$E2E_TMP/$name.out"; fail "$name: rt-bpf record failed"; }
	grep -q "task records written" "$E2E_TMP/$name.out" ||
		{ cat "$E2E_TMP/$name.out"; fail "$name: no task records"; }
	"$RTMERGE" -q $view --per-sample "$E2E_TMP/$name.samples" "$E2E_TMP/$name.data" \
		>"$E2E_TMP/$name.folded" || fail "$name: rtmerge failed"
	python3 "$W/task_frames_check.py" "$name" "$runtime" "$E2E_TMP/$name.samples" $MIN_SHARE ||
		{ cat "$E2E_TMP/$name.out"; fail "$name: task frames wrong"; }
}

# -- CMD for pyenv's 3.11 and 3.12, -p PID (a loop already running) for
# 3.13 and Debian's 3.11, whose blocker starts after 5 s: perf and the
# probes took up to 4 s to start on a loaded machine
for py in /root/.pyenv/versions/3.11.7/bin/python3.11 /root/.pyenv/versions/3.12.1/bin/python3.12 \
	/root/.pyenv/versions/3.13.0/bin/python3.13 /usr/bin/python3.11; do
	[ -x "$py" ] || { note "no $py"; continue; }
	found=$((found + 1))
	name=$(basename "$(dirname "$(dirname "$py")")")-$(basename "$py")
	case $py in
	*3.11.7* | *3.12.1*)
		record "$name" asyncio --off-cpu -- "$py" "$W/py_async_ground.py" "$E2E_TMP/$name.log" 0.2
		;;
	*)
		"$py" "$W/py_async_ground.py" "$E2E_TMP/$name.log" 5 &
		sleep 0.3
		record "$name" asyncio --off-cpu -p $!
		wait
		;;
	esac
done
[ $found -gt 0 ] || skip "no CPython 3.11-3.13 found"

build_tokground
record tokio tokio --call-graph dwarf -- "$TOKGROUND" "$E2E_TMP/tokio.log"
echo "PASS task_frames ($found interpreters and tokio)"
