# SPDX-License-Identifier: GPL-2.0-only
"""Checks rtmerge --wall of gvl_contention.rb: the threads' [gvl wait]
share of their wall time while in spin() against their own timing.

A thread's own clocks give its time off the CPU (wall - CPU), not why:
part of it may be preemption by other load ([preempted]).  So [gvl wait]
+ [preempted] must match the threads' off-CPU share within TOLERANCE
points, and [gvl wait] alone must be at least half of that share and at
least GVL_MIN (each of two threads waits for the other about half the
time).
Only stacks inside spin() count, and the threads are those that have
them (in a container the program knows its threads by its PID
namespace's ids): a thread's own clocks start and stop there, and a
finished thread's native thread waits in the VM's thread cache for a
while, outside any Ruby code.

STEAL (seconds of the machine's steal time during the recording) is
allowed on the threads' side as in gil_check.py.

    gvl_check.py LABEL RESULT.json WALL.folded TOLERANCE [STEAL]
"""
import json
import sys

from gil_check import off_cpu_mismatch, per_thread

# [gvl wait]'s share at least (two threads): 0.454-0.487 measured in 30
# recordings, also on a busy machine where the threads' clocks said up to
# 0.72 off the CPU
GVL_MIN = 0.4


def main():
    label, result, wall_path, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    steal = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    res = json.load(open(result))
    wall = per_thread(wall_path, within="spin (")
    # the threads that ran spin(), by the recording's ids: in a container
    # the program's own ids are its PID namespace's
    threads = sorted(wall)
    total = max(1, sum(wall.get(t, 0) for t in threads))
    share = {}
    for leaf in ("[gvl wait]", "[preempted]"):
        n = per_thread(wall_path, leaf, within="spin (")
        share[leaf] = sum(n.get(t, 0) for t in threads) / total
    got = share["[gvl wait]"] + share["[preempted]"]
    want = 1 - res["cpu"] / res["wall"]
    print("FIGURE gvl %s threads' wall time in spin: [gvl wait] %.3f, [preempted] %.3f, together "
          "%.3f (off the CPU by their own clocks %.3f, %+.1f points; steal %.2f s)"
          % (label, share["[gvl wait]"], share["[preempted]"], got, want, 100 * (got - want),
             steal))
    bad = []
    if len(threads) != len(res["spinners"]):
        bad.append("%d threads ran spin(), the program says %d" % (len(threads), len(res["spinners"])))
    why = off_cpu_mismatch("[gvl wait] + [preempted]", got, want, tol, steal, res["wall"])
    if why:
        bad.append(why)
    # with two threads one holds the GVL while the other waits, so each
    # waits about half the time, whatever else the machine runs (which the
    # threads' clocks count as off the CPU too: [preempted])
    if share["[gvl wait]"] < max(0.5 * want, GVL_MIN):
        bad.append("[gvl wait] %.3f, below %.2f or half of %.3f"
                   % (share["[gvl wait]"], GVL_MIN, want))
    if want < 0.3:
        bad.append("the threads waited only %.3f of their time: no contention to measure" % want)
    if bad:
        print("FAIL: %s: %s" % (label, "; ".join(bad)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
