#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record --tasks -- CMD, started RUNS times (default 5) on pyenv's
# CPython 3.13.0, whose libpython ld.so maps after the exec: every run must
# follow the target's task steps ("task records written"; docs/async.md,
# attaching to a command that is just starting).  The sampling walker's own
# look at the new process sometimes finds _PyRuntime not mapped yet and
# refuses it (its samples stay native-only): counted in the FIGURE line,
# not failed here, as it is not the task tracker's look.
. "$(dirname "$0")/lib.sh"
WORKLOADS=$RT_TOP/tests/e2e/workloads
RUNS=${RUNS:-5}
PY=${PY313:-/root/.pyenv/versions/3.13.0/bin/python3.13}

require_perf
[ -x "$PY" ] || skip "no CPython 3.13 with a libpython at $PY (PY313=...)"

missed=0 refused=0
for i in $(seq "$RUNS"); do
	out=$E2E_TMP/run$i.out
	"$RT_BUILD/rt-bpf" record --tasks -F 99 -o "$E2E_TMP/run$i.data" -- \
		"$PY" "$WORKLOADS/py_async_short.py" >"$out" 2>&1 ||
		{ cat "$out"; fail "run $i: rt-bpf record failed"; }
	if ! grep -q "task records written" "$out"; then
		missed=$((missed + 1))
		note "run $i: no task records: $(grep -- '--tasks' "$out" | head -2)"
	fi
	if grep -q "refusing to walk" "$out"; then
		refused=$((refused + 1))
		note "run $i: $(grep 'refusing to walk' "$out" | head -1)"
	fi
	rm -f "$E2E_TMP/run$i.data"
done
echo "FIGURE tasks_exec: $((RUNS - missed)) of $RUNS runs with task records, the walker refused $refused"
[ "$missed" -eq 0 ] || fail "tasks_exec: $missed of $RUNS runs without task records"
echo "PASS: tasks_exec ($RUNS runs)"
