# SPDX-License-Identifier: GPL-2.0-only
# Checks rt-bpf async's JSON against the ground truth log of
# py_async_ground.py (asyncio) or tests/e2e/tokio (tokio): every blocking
# sleep found once, as a step of the blocker task whose duration is within
# 20% of the sleep's, with the sleep as its cause (and, for asyncio, the
# blocker in its stack); no other task flagged; most blocking steps with
# callbacks waiting behind them (tokio: as many tasks as the light tasks'
# periods predict, within 20% on average, each delayed by about half the
# poll on average); tasks named by their coroutines or futures.  tokio: each blocking poll's native stack in order, from the
# sleep (or with "spin", the busy loop, taken by the CPU-time sampler) up
# through the blocker's future and the runtime to the process entry.
# Usage: async_check.py NAME JSON LOG THRESHOLD_MS [tokio [spin]]
import json
import sys

name, path, log, threshold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
runtime = sys.argv[5] if len(sys.argv) > 5 else "asyncio"
spin = len(sys.argv) > 6 and sys.argv[6] == "spin"
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



def stack_errors(start, stack):
    """A tokio blocking poll's native stack, leaf first: the blocking code,
    the blocker's future, the runtime's poll, main and the process entry,
    in that order, and nothing cut."""
    def first(pred):
        return next((i for i, f in enumerate(stack) if pred(f)), None)
    leaf = first(lambda f: f.startswith("tokground::spin_for ")) if spin else \
        first(lambda f: "nanosleep" in f.split(" ")[0])
    sleep = leaf if spin else first(lambda f: f.startswith("std::thread::") and "sleep" in f)
    order = [("the blocking code", leaf), ("std::thread's sleep", sleep),
             ("the blocker's future", first(lambda f: "tokground::blocker::" in f)),
             ("tokground::main", first(lambda f: f.startswith("tokground::main "))),
             ("_start", first(lambda f: f.startswith("_start ")))]
    missing = [what for what, at in order if at is None]
    at = [i for _, i in order if i is not None]
    # the sleep's frame is the leaf, or right above one in libc without a
    # symbol (a container's stripped libc)
    leaf_ok = spin or at[0] == 0 or (at[0] == 1 and stack[0].startswith("[unknown] (libc"))
    if missing or at != sorted(at) or stack[-1].startswith("[stack ends") or not leaf_ok:
        errors.append(f"block at {start}: stack without {missing} or out of order: "
                      f"{[f[:60] for f in stack]}")


matched = 0
ratios = []
wrong_stacks = []
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
    if spin and (b["cause"] != "cpu" or b["stack_from"] != "sample"):
        errors.append(f"block at {start}: cause {b['cause']}, stack from {b['stack_from']}")
    elif not spin and (b["cause"] != "syscall" or
                       b["longest_syscall"]["name"] not in ("clock_nanosleep", "select", "nanosleep")):
        errors.append(f"block at {start}: cause {b['cause']} {b['longest_syscall']}")
    if runtime == "asyncio" and (not b["stack"] or not b["stack"][0].startswith("blocker (")):
        wrong_stacks.append(f"block at {start}: stack {b['stack'][:3]} ({len(b['stack'])} frames, "
                      f"taken at the {b['stack_from']}, {b['cpu_samples']} CPU samples, "
                      f"longest system call {b['longest_syscall']}, began "
                      f"{(b['start_ns'] - rep['attached_ns']) / 1e6:.1f} ms after attaching)")
    if runtime == "tokio":
        stack_errors(start, b["stack"])
# one blocking step in about 500 came with a one-frame stack (<module>) in
# the runs measured, cause not found: one per recording is reported, two fail
for w in wrong_stacks:
    print(f"-- {name}: unexpected stack, {w}")
if len(wrong_stacks) > 1:
    errors.extend(wrong_stacks)
if len(blocking) != len(truth):
    errors.append(f"{len(blocking)} blocking steps reported for {len(truth)} blocks")
cascades = sum(1 for b in blocking if b["delayed_tasks"] > 0 and b["added_delay_ms"] > 0)
if cascades < 0.8 * max(1, len(blocking)):
    errors.append(f"only {cascades} of {len(blocking)} blocking steps have a cascade")
if runtime == "tokio":
    # light task i sleeps 20 + (37 i mod 80) ms between polls, so a 60 ms
    # poll holds up min(1, 60 / period) of each on average: 265.7 in all
    expect = sum(min(1.0, 60 / (20 + (i * 37) % 80)) for i in range(300))
    counts = [b["delayed_tasks"] for b in blocking]
    mean_count = sum(counts) / max(1, len(counts))
    if not 0.8 * expect <= mean_count <= 1.2 * expect or \
            any(not 0.6 * expect <= c <= 1.4 * expect for c in counts):
        errors.append(f"tasks held up per blocking poll {counts}, expected about {expect:.0f}")
    # their deadlines fall evenly over the 60 ms poll, so each waited about
    # half of it (more for timers due just before it, which the worker had
    # not turned its driver for yet): 35-38 ms in the runs measured
    added = sum(b["added_delay_ms"] for b in blocking) / max(1, sum(counts))
    if not 20 <= added <= 50:
        errors.append(f"{added:.1f} ms of added delay per held-up task, expected 20-50")
kinds = {k["kind"]: k for k in rep["kinds"]}
for kind, tasks in (("blocker", 1), ("light", 300), ("cpu_slices", 1)):
    if prefix + kind not in kinds or kinds[prefix + kind]["tasks"] != tasks:
        errors.append(f"kind {kind}: {kinds.get(prefix + kind)}")
if prefix + "cpu_slices" in kinds and not kinds[prefix + "cpu_slices"]["polls"] > 100:
    errors.append(f"cpu_slices: {kinds[prefix + 'cpu_slices']}")
# the light tasks spend nearly all their lives waiting on their timers,
# and the blocker about 10 x 60 ms of its own in steps
light = [t for t in rep["tasks"] if t["kind"] == prefix + "light" and t["life_ms"] > 0]
if light and sum(t["pending_ms"] for t in light) < 0.9 * sum(t["life_ms"] for t in light):
    errors.append(f"light tasks pending {sum(t['pending_ms'] for t in light):.0f} ms of "
                  f"{sum(t['life_ms'] for t in light):.0f} ms of life")
for t in rep["tasks"]:
    if t["kind"] == prefix + "blocker" and not 0.6 * t["life_ms"] <= t["pending_ms"] <= t["life_ms"]:
        errors.append(f"blocker pending {t['pending_ms']:.0f} ms of {t['life_ms']:.0f} ms of life")
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
