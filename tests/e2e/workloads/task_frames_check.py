# SPDX-License-Identifier: GPL-2.0-only
# Checks the [task] frames of rt-bpf record --tasks + rtmerge --per-sample
# on the async ground truths (py_async_ground.py, tests/e2e/tokio).
# usage: task_frames_check.py NAME asyncio|tokio PER_SAMPLE_FILE MIN_SHARE
# A sample inside a task's step (asyncio: one with a frame of the blocker,
# light or cpu_slices coroutine; tokio: one under the task core's poll of
# such a future) must carry that task's frame where it belongs (asyncio:
# right rootward of the coroutine's outermost frame, "[task] Task-N
# cpu_slices"; tokio: right leafward of the runtime's task frames,
# "[task] tokground::cpu_slices"); MIN_SHARE of them must.  A sample
# outside every step (asyncio: the loop's _run_once without a Handle._run
# frame, waiting in select or between callbacks; tokio: no frame of tokio's
# task machinery nor of the uprobe trampoline) must carry none.  Samples
# taken while the kernel runs the step probes themselves (their cost) are
# neither: a task record is written from inside them.  Samples before the
# first task frame are left out: steps that began before the probes were
# in place have no task record.  tokio's samples inside a step must also
# be unwound through the poll function, whose return address the
# uretprobe replaced, down to tokground::main and _start: ROOTED_SHARE of
# them (15.7% before rtmerge put the real return address back, 100% since).
import re
import sys

name, runtime, path, min_share = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
KINDS = ("blocker", "light", "cpu_slices")
PROBE_FRAMES = {"uprobe_notify_resume", "__x64_sys_uretprobe", "uprobe_handle_trampoline"}
samples = []
for line in open(path):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) == 3:
        samples.append((int(parts[1]), parts[2].split("\t")[0].split(";")))
task_times = [t for t, fr in samples if any(f.startswith("[task] ") for f in fr)]
if not task_times:
    print(f"-- {name}: no sample carries a task frame ({len(samples)} samples)")
    sys.exit(1)
t0 = min(task_times)


def asyncio_step(frames):
    """(kind, good) for a sample inside a step, None outside one."""
    for i, f in enumerate(frames):
        m = re.match(r"(\w+) \(", f)
        if m and m.group(1) in KINDS:
            kind = m.group(1)
            good = i > 0 and re.fullmatch(r"\[task\] Task-\d+ " + kind, frames[i - 1]) is not None
            return kind, good
    return None


def tokio_step(frames):
    for i, f in enumerate(frames):
        m = re.search(r"tokio::runtime::task::core::Core<tokground::(\w+)::", f)
        if m and m.group(1) in KINDS:
            kind = m.group(1)
            want = "[task] tokground::" + kind
            good = (want in frames and frames.index(want) > i and
                    "tokio::runtime::task::" in frames[frames.index(want) - 1])
            return kind, good
    return None


def outside(frames):
    if runtime == "asyncio":
        # the loop between steps (a walk that stopped early shows neither)
        return (any(f.startswith("BaseEventLoop._run_once (") for f in frames) and
                not any(f.startswith("Handle._run (") for f in frames))
    return not any("tokio::runtime::task::" in f or "[uprobes]" in f for f in frames)


ROOTED_SHARE = 0.98
inside = {k: [0, 0] for k in KINDS}
rooted = 0
out_total = out_bad = 0
shown = 0


def show(what, frames):
    global shown
    if shown < 3:
        print(f"   {what}: {';'.join(frames)[-600:]}")
        shown += 1


for t, frames in samples:
    if t < t0 or any(f in PROBE_FRAMES for f in frames):
        continue
    step = asyncio_step(frames) if runtime == "asyncio" else tokio_step(frames)
    if step:
        inside[step[0]][0] += 1
        inside[step[0]][1] += step[1]
        if not step[1]:
            show("inside a step, without its task frame", frames)
        if "tokground::main" in frames and "_start" in frames:
            rooted += 1
        elif runtime == "tokio":
            show("inside a step, not unwound to the entry", frames)
    elif outside(frames):
        out_total += 1
        if any(f.startswith("[task] ") for f in frames):
            out_bad += 1
            show("outside every step, with a task frame", frames)
n = sum(v[0] for v in inside.values())
good = sum(v[1] for v in inside.values())
share = good / n if n else 0.0
detail = ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in inside.items())
print(f"-- {name}: {good}/{n} samples inside a step carry the right task frame ({share:.1%}: "
      f"{detail}); {out_bad}/{out_total} samples outside every step carry one")
rooted_ok = True
if runtime == "tokio":
    print(f"-- {name}: {rooted}/{n} samples inside a step unwound to tokground::main and _start")
    rooted_ok = n > 0 and rooted / n >= ROOTED_SHARE
if n < 20:
    print(f"-- {name}: too few samples inside steps to judge")
    sys.exit(1)
sys.exit(0 if share >= min_share and out_bad == 0 and rooted_ok else 1)
