# SPDX-License-Identifier: GPL-2.0-only
"""Checks rtmerge's views of gil_contention.py: the spinners' [gil wait]
share of their wall time (--wall) against their own timing, and the
--gil view keeping the spinners' samples and leaving out the hasher's
(it hashes with the GIL released).

A thread's own clocks give its time off the CPU (wall - CPU), not why:
on a busy machine part of it is preemption (runnable, no CPU free), which
rtmerge names [preempted].  So [gil wait] + [preempted] must match the
threads' off-CPU share within TOLERANCE points, and [gil wait] must be at
least three quarters of it.

    gil_check.py LABEL RESULT.json WALL.folded CPU.folded GIL.folded TOLERANCE
"""
import json
import sys


def per_thread(path, leaf=None):
    out = {}
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")
            tid = int(frames[0].rsplit("/", 1)[1])
            if leaf is None or frames[-1] == leaf:
                out[tid] = out.get(tid, 0) + int(n)
    return out


def main():
    label, result, wall_path, cpu_path, gil_path = sys.argv[1:6]
    tol = float(sys.argv[6])
    res = json.load(open(result))
    spinners, hasher = res["spinners"], res["hasher"]
    bad = []

    wall = per_thread(wall_path)
    total = max(1, sum(wall.get(t, 0) for t in spinners))
    share = {}
    for leaf in ("[gil wait]", "[preempted]"):
        n = per_thread(wall_path, leaf)
        share[leaf] = sum(n.get(t, 0) for t in spinners) / total
    got = share["[gil wait]"] + share["[preempted]"]
    want = 1 - res["cpu"] / res["wall"]
    print("FIGURE gil %s spinners' wall time: [gil wait] %.3f, [preempted] %.3f, together %.3f "
          "(off the CPU by their own clocks %.3f, %+.1f points)"
          % (label, share["[gil wait]"], share["[preempted]"], got, want, 100 * (got - want)))
    if abs(got - want) * 100 > tol:
        bad.append("[gil wait] + [preempted] %.3f vs %.3f" % (got, want))
    if share["[gil wait]"] < 0.75 * want:
        bad.append("[gil wait] %.3f is not most of %.3f" % (share["[gil wait]"], want))

    cpu, gil = per_thread(cpu_path), per_thread(gil_path)
    kept_spin = sum(gil.get(t, 0) for t in spinners) / max(1, sum(cpu.get(t, 0) for t in spinners))
    kept_hash = gil.get(hasher, 0) / max(1, cpu.get(hasher, 0))
    print("FIGURE gil %s --gil keeps %.3f of the spinners' samples, %.3f of the hasher's (of %d)"
          % (label, kept_spin, kept_hash, cpu.get(hasher, 0)))
    if kept_spin < 0.8:
        bad.append("--gil kept %.3f of the spinners' samples" % kept_spin)
    if cpu.get(hasher, 0) < 5 or kept_hash > 0.3:
        bad.append("--gil kept %.3f of the hasher's %d samples" % (kept_hash, cpu.get(hasher, 0)))
    if bad:
        print("FAIL: %s: %s" % (label, "; ".join(bad)))
        return 1
    return 0


sys.exit(main())
