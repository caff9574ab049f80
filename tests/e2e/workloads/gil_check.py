# SPDX-License-Identifier: GPL-2.0-only
"""Checks rtmerge's views of gil_contention.py: the spinners' [gil wait]
share of their wall time (--wall) against their own timing, and the
--gil view keeping the spinners' samples and leaving out the hasher's
(it hashes with the GIL released).

A thread's own clocks give its time off the CPU (wall - CPU), not why:
on a busy machine part of it is preemption (runnable, no CPU free), which
rtmerge names [preempted].  So [gil wait] + [preempted] must match the
threads' off-CPU share within TOLERANCE points, and [gil wait] must be at
least half of it (other load on the machine preempts them: up to 0.19 of
0.67 was [preempted] on this 2-CPU machine).  --gil must keep 80% of the
spinners' samples and at most 25% of the hasher's samples in the hash
(libcrypto; it sets the hash up and copies its result with the GIL held).

STEAL is the machine's steal time during the recording in seconds (the
hypervisor ran something else): the threads' CPU clocks leave it out, so
they count it off the CPU, while no switch happens and perf's samples go
on.  It may make their off-CPU share higher than rtmerge's by at most
STEAL over their summed wall time, which is allowed on that side.

    gil_check.py LABEL RESULT.json WALL.folded CPU.folded GIL.folded TOLERANCE [STEAL]
"""
import json
import sys


def per_thread(path, leaf=None, hashing=False, within=None):
    """Weights per thread: of stacks ending in @leaf, or (@hashing) of
    stacks in the hash's C code, which runs with the GIL released; only
    of stacks with a frame starting with @within when given."""
    out = {}
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")
            tid = int(frames[0].rsplit("/", 1)[1])
            if leaf is not None and frames[-1] != leaf:
                continue
            if within is not None and not any(fr.startswith(within) for fr in frames):
                continue
            if hashing and not any(("sha" in fr.lower() or "libcrypto" in fr) and " (" not in fr
                                   for fr in frames):
                continue
            out[tid] = out.get(tid, 0) + int(n)
    return out


def off_cpu_mismatch(what, got, want, tol, steal, wall):
    """None when rtmerge's off-CPU share @got matches the threads' own
    @want within @tol points, @want higher by at most what @steal seconds
    over their summed @wall seconds explain; else why not."""
    slack = 100 * steal / wall if wall > 0 else 0
    if -tol - slack <= 100 * (got - want) <= tol:
        return None
    return "%s %.3f vs %.3f (%.1f points allowed, %.1f more below for %.2f s of steal)" % (
        what, got, want, tol, slack, steal)


def main():
    label, result, wall_path, cpu_path, gil_path = sys.argv[1:6]
    tol = float(sys.argv[6])
    steal = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
    res = json.load(open(result))
    # the threads by the recording's ids, found by their functions: in a
    # container the program knows them by its PID namespace's ids
    spinners = sorted(per_thread(wall_path, within="spin ("))
    hashers = sorted(per_thread(wall_path, within="hash_nogil ("))
    hasher = hashers[0] if len(hashers) == 1 else None
    bad = []
    if len(spinners) != len(res["spinners"]) or hasher is None:
        bad.append("threads in the recording: %d spinners (the program says %d), %d hashers"
                   % (len(spinners), len(res["spinners"]), len(hashers)))

    wall = per_thread(wall_path)
    total = max(1, sum(wall.get(t, 0) for t in spinners))
    share = {}
    for leaf in ("[gil wait]", "[preempted]"):
        n = per_thread(wall_path, leaf)
        share[leaf] = sum(n.get(t, 0) for t in spinners) / total
    got = share["[gil wait]"] + share["[preempted]"]
    want = 1 - res["cpu"] / res["wall"]
    print("FIGURE gil %s spinners' wall time: [gil wait] %.3f, [preempted] %.3f, together %.3f "
          "(off the CPU by their own clocks %.3f, %+.1f points; steal %.2f s)"
          % (label, share["[gil wait]"], share["[preempted]"], got, want, 100 * (got - want),
             steal))
    why = off_cpu_mismatch("[gil wait] + [preempted]", got, want, tol, steal, res["wall"])
    if why:
        bad.append(why)
    if share["[gil wait]"] < 0.5 * want:
        bad.append("[gil wait] %.3f is not most of %.3f" % (share["[gil wait]"], want))

    cpu, gil = per_thread(cpu_path), per_thread(gil_path)
    # the hasher's samples in the hash itself (its Python code between the
    # hashes holds the GIL and stays)
    cpu_hash = per_thread(cpu_path, hashing=True).get(hasher, 0)
    gil_hash = per_thread(gil_path, hashing=True).get(hasher, 0)
    kept_spin = sum(gil.get(t, 0) for t in spinners) / max(1, sum(cpu.get(t, 0) for t in spinners))
    kept_hash = gil_hash / max(1, cpu_hash)
    print("FIGURE gil %s --gil keeps %.3f of the spinners' samples, %.3f of the hasher's in the "
          "hash (of %d; %d of its %d samples in all)"
          % (label, kept_spin, kept_hash, cpu_hash, gil.get(hasher, 0), cpu.get(hasher, 0)))
    if kept_spin < 0.8:
        bad.append("--gil kept %.3f of the spinners' samples" % kept_spin)
    if cpu_hash < 3 or kept_hash > 0.25:
        bad.append("--gil kept %d of the hasher's %d samples in the hash" % (gil_hash, cpu_hash))
    if bad:
        print("FAIL: %s: %s" % (label, "; ".join(bad)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
