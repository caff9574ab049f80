#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf async on the asyncio ground truth (workloads/py_async_ground.py) in
# pyenv's 3.11.7, 3.12.1, 3.13.0 and Debian's stripped 3.11 (whose step
# entry points are found through _asyncio's type and method tables): every
# blocking sleep of the blocker found with its duration within 20%, its
# cause and stack; the light and CPU-slice tasks never flagged; timers
# waiting behind most blocking steps; tasks named by their coroutines.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for uprobes"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
W=$RT_TOP/tests/e2e/workloads
THRESHOLD=20
found=0
for py in /root/.pyenv/versions/3.11.7/bin/python3.11 /root/.pyenv/versions/3.12.1/bin/python3.12 \
	/root/.pyenv/versions/3.13.0/bin/python3.13 /usr/bin/python3.11; do
	[ -x "$py" ] || { note "no $py"; continue; }
	found=$((found + 1))
	name=$(basename "$(dirname "$(dirname "$py")")")-$(basename "$py")
	"$RTBPF" async -v --threshold-ms $THRESHOLD --json "$E2E_TMP/$name.json" -- \
		"$py" "$W/py_async_ground.py" "$E2E_TMP/$name.log" >"$E2E_TMP/$name.out" 2>&1 ||
		{ cat "$E2E_TMP/$name.out"; fail "$name: rt-bpf async failed"; }
	grep -q "steps at .*(symbols)\|steps at .*(type and method tables)" "$E2E_TMP/$name.out" ||
		fail "$name: no step entry points reported"
	if [ "$py" = /usr/bin/python3.11 ]; then
		grep -q "(type and method tables)" "$E2E_TMP/$name.out" ||
			fail "$name: stripped _asyncio not found through its tables"
	fi
	grep -q "Recommendations:" "$E2E_TMP/$name.out" ||
		{ tail -20 "$E2E_TMP/$name.out"; fail "$name: no recommendations"; }
	python3 "$W/async_check.py" "$name" "$E2E_TMP/$name.json" "$E2E_TMP/$name.log" $THRESHOLD ||
		{ sed -n '/Worst/,/Tasks by/p' "$E2E_TMP/$name.out" | head -20; fail "$name: report wrong"; }
done
[ $found -gt 0 ] || skip "no CPython 3.11-3.13 found"

# -p PID: a process already running when rt-bpf starts
py=/usr/bin/python3.11
if [ -x "$py" ]; then
	"$py" "$W/py_async_ground.py" "$E2E_TMP/pid.log" 1.5 &
	pid=$!
	sleep 0.3
	"$RTBPF" async --threshold-ms $THRESHOLD --json "$E2E_TMP/pid.json" -p $pid \
		>"$E2E_TMP/pid.out" 2>&1 || { cat "$E2E_TMP/pid.out"; fail "-p: rt-bpf async failed"; }
	wait $pid
	python3 "$W/async_check.py" "-p" "$E2E_TMP/pid.json" "$E2E_TMP/pid.log" $THRESHOLD ||
		fail "-p: report wrong"

	# Ctrl-C: the report of what was seen so far, and the command stopped
	"$RTBPF" async --threshold-ms $THRESHOLD --json "$E2E_TMP/int.json" -- \
		"$py" "$W/py_async_ground.py" "$E2E_TMP/int.log" >"$E2E_TMP/int.out" 2>&1 &
	rt=$!
	sleep 1.5
	kill -INT $rt
	wait $rt || { cat "$E2E_TMP/int.out"; fail "Ctrl-C: rt-bpf async failed"; }
	child=$(sed -n 's/^rt-bpf async: started pid \([0-9]*\)$/\1/p' "$E2E_TMP/int.out")
	[ -n "$child" ] && ! kill -0 "$child" 2>/dev/null || fail "Ctrl-C: the command still runs"
	python3 - "$E2E_TMP/int.json" "$E2E_TMP/int.log" <<'PY' || fail "Ctrl-C: report wrong"
import json, sys
rep = json.load(open(sys.argv[1]))
logged = sum(1 for l in open(sys.argv[2]) if l.startswith("block "))
found = sum(1 for b in rep["blocking"] if b["kind"] == "blocker")
print(f"-- Ctrl-C after 1.5 s: {found} blocking steps reported, {logged} logged")
# the command runs on while rt-bpf reports, before it is stopped: it logs more
sys.exit(0 if 2 <= found <= logged else 1)
PY
fi
echo "PASS async_asyncio ($found interpreters)"
