#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record --tasks names each task by its own name, also when tasks
# made one after another reuse a finished task's address and their name
# objects the finished name's (workloads/py_async_names.py): every sample
# in coroutine workN carries "[task] worker-N workN".  pyenv's CPython
# 3.11.7, 3.12.1 and 3.13.0 (3.13 reused both addresses every time: before
# the fix, worker-3 and worker-4 were named worker-1 and worker-2).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for uprobes and perf"
RTBPF=$RT_BUILD/rt-bpf
RTMERGE=$RT_BUILD/rtmerge
require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
W=$RT_TOP/tests/e2e/workloads
found=0

for py in /root/.pyenv/versions/3.11.7/bin/python3.11 /root/.pyenv/versions/3.12.1/bin/python3.12 \
	/root/.pyenv/versions/3.13.0/bin/python3.13; do
	[ -x "$py" ] || { note "no $py"; continue; }
	found=$((found + 1))
	name=$(basename "$py")
	go=$E2E_TMP/$name.go
	"$RTBPF" record -v --tasks -F 299 -o "$E2E_TMP/$name.data" -- "$py" "$W/py_async_names.py" "$go" \
		>"$E2E_TMP/$name.out" 2>&1 &
	rt=$!
	# the workload starts its tasks once the step probes are in place (-v says
	# so)
	wait_for 30 grep -q "following the task steps" "$E2E_TMP/$name.out" ||
		{ cat "$E2E_TMP/$name.out"; kill $rt; fail "$name: rt-bpf never followed the task steps"; }
	touch "$go"
	wait $rt || { cat "$E2E_TMP/$name.out"; fail "$name: rt-bpf record failed"; }
	"$RTMERGE" -q "$E2E_TMP/$name.data" >"$E2E_TMP/$name.folded" || fail "$name: rtmerge failed"
	python3 - "$name" "$E2E_TMP/$name.folded" <<'PY' || { cat "$E2E_TMP/$name.out"; fail "$name: task names wrong"; }
import re, sys
name, path = sys.argv[1], sys.argv[2]
per = {}
wrong = []
for line in open(path):
    stack, n = line.rstrip("\n").rsplit(" ", 1)
    frames = stack.split(";")
    work = [m.group(1) for f in frames if (m := re.match(r"work(\d) \(", f))]
    if not work:
        continue
    i = work[0]
    task = [f for f in frames if f.startswith("[task] ")]
    ok = task == [f"[task] worker-{i} work{i}"]
    per.setdefault(i, [0, 0])[0 if ok else 1] += int(n)
    if not ok:
        wrong.append((int(n), i, task))
print(f"FIGURE task names {name}: " + ", ".join(f"work{i} {g} named right, {b} not"
                                                for i, (g, b) in sorted(per.items())))
for n, i, task in wrong[:5]:
    print(f"  {n} samples in work{i} with {task}")
# 3 rounds of 0.1 s at 299 Hz: about 90 samples per coroutine
sys.exit(0 if len(per) == 5 and not wrong and all(g >= 40 for g, _ in per.values()) else 1)
PY
done
[ $found -gt 0 ] || skip "no pyenv CPython 3.11-3.13 found"
echo "PASS task_names ($found interpreters)"
