# SPDX-License-Identifier: GPL-2.0-only
# Checks rt-bpf async's JSON against the ground truth log of
# py_async_ground.py (asyncio) or tests/e2e/tokio (tokio): every blocking
# sleep found once, as a step of the blocker task whose duration is within
# 20% of the sleep's, with the sleep as its cause (and, for asyncio, the
# blocker in its stack); no other task flagged; most blocking steps (tokio:
# one) with callbacks waiting behind them; tasks named by their coroutines
# or futures.
# Usage: async_check.py NAME JSON LOG THRESHOLD_MS [tokio]
import json
import sys

name, path, log, threshold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
runtime = sys.argv[5] if len(sys.argv) > 5 else "asyncio"
prefix = "tokground::" if runtime == "tokio" else ""
rep = json.load(open(path))
truth = [tuple(map(int, l.split()[1:])) for l in open(log) if l.startswith("block ")]
errors = []
if rep["runtime"] != runtime:
    errors.append(f"runtime {rep['runtime']}")
if len(truth) != 10:
    errors.append(f"the workload logged {len(truth)} blocks, not 10")
blocking = rep["blocking"]
flagged = sorted({b["kind"] for b in blocking})
if flagged != [prefix + "blocker"]:
    errors.append(f"flagged kinds {flagged}, want only blocker")
    for b in blocking:
        if b["kind"] != prefix + "blocker":
            errors.append(f"  {b['kind']}: {b['duration_ms']:.1f} ms, began "
                          f"{(b['start_ns'] - rep['attached_ns']) / 1e6:.1f} ms after attaching, "
                          f"cause {b['cause']} {b.get('longest_syscall')}, cpu {b.get('cpu_ms')} ms, "
                          f"run delay {b.get('run_delay_ms')} ms, system calls {b.get('syscall_ms')} ms, "
                          f"{b.get('cpu_samples')} samples")
matched = 0
ratios = []
for start, dur in truth:
    hits = [b for b in blocking if b["start_ns"] <= start and start + dur <= b["start_ns"] + b["duration_ms"] * 1e6]
    if len(hits) != 1:
        errors.append(f"block at {start}: {len(hits)} steps cover it")
        continue
    b = hits[0]
    matched += 1
    ratio = b["duration_ms"] * 1e6 / dur
    ratios.append(ratio)
    if not 0.8 <= ratio <= 1.2:
        errors.append(f"block at {start}: {b['duration_ms']:.1f} ms for a {dur / 1e6:.1f} ms sleep")
    if b["cause"] != "syscall" or b["longest_syscall"]["name"] not in ("clock_nanosleep", "select", "nanosleep"):
        errors.append(f"block at {start}: cause {b['cause']} {b['longest_syscall']}")
    if runtime == "asyncio" and (not b["stack"] or not b["stack"][0].startswith("blocker (")):
        errors.append(f"block at {start}: stack {b['stack'][:3]}")
if len(blocking) != len(truth):
    errors.append(f"{len(blocking)} blocking steps reported for {len(truth)} blocks")
cascades = sum(1 for b in blocking if b["delayed_tasks"] > 0 and b["added_delay_ms"] > 0)
# tokio: only tasks woken before a blocking poll ended count, and the
# timers due during it are woken after it (docs/async.md): 7-9 of 10 in
# the runs measured, so only the mechanism is asserted there
want = 0.8 * max(1, len(blocking)) if runtime == "asyncio" else 1
if cascades < want:
    errors.append(f"only {cascades} of {len(blocking)} blocking steps have a cascade")
kinds = {k["kind"]: k for k in rep["kinds"]}
for kind, tasks in (("blocker", 1), ("light", 300), ("cpu_slices", 1)):
    if prefix + kind not in kinds or kinds[prefix + kind]["tasks"] != tasks:
        errors.append(f"kind {kind}: {kinds.get(prefix + kind)}")
if prefix + "cpu_slices" in kinds and not kinds[prefix + "cpu_slices"]["polls"] > 100:
    errors.append(f"cpu_slices: {kinds[prefix + 'cpu_slices']}")
names = [t["name"] for t in rep["tasks"] if t["kind"] == prefix + "blocker"]
want = (lambda n: n == "tokground::blocker") if runtime == "tokio" else \
    (lambda n: n.startswith("Task-") and n.endswith(" blocker"))
if len(names) != 1 or not want(names[0]):
    errors.append(f"blocker task named {names}")
mean = sum(b["delayed_tasks"] for b in blocking) / max(1, len(blocking))
print(f"-- {name}: {matched}/{len(truth)} blocks matched, step/sleep duration "
      f"{min(ratios, default=0):.3f}-{max(ratios, default=0):.3f}, {cascades} with cascades "
      f"(mean {mean:.0f} timers), {rep['counters']['steps']} steps, "
      f"{len(rep['preempted'])} preempted")
for e in errors:
    print(f"FAIL {name}: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
