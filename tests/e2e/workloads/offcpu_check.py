# SPDX-License-Identifier: GPL-2.0-only
"""Compares rtmerge's --wall and --off-cpu views of offcpu_truth.{py,rb}'s
main thread with what the program measured itself.

    offcpu_check.py LABEL TRUTH.json WALL.folded OFF.folded TOLERANCE SLEEP_LEAF PIPE_LEAF

Prints FIGURE lines; exits 1 when a share of the slices' time, or a
kind's time as a share of the program's wall, is off by more than
TOLERANCE (points), or when most of a kind's blocked time does not end in the
leaf frame expected for it ("[syscall] clock_nanosleep", ...).
"""
import json
import sys

KINDS = ("compute", "sleep", "pipe")


def read_folded(path):
    out = []
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if stack:
                out.append((stack.split(";"), int(n)))
    return out


def kind_of(frames):
    for fr in frames:
        for k in KINDS:
            if fr.startswith(k + "_slice ("):
                return k
    return None


def main():
    label, truth_path, wall_path, off_path = sys.argv[1:5]
    tol = float(sys.argv[5])
    leaves = {"sleep": sys.argv[6], "pipe": sys.argv[7]}
    truth = json.load(open(truth_path))
    bad = []

    wall = read_folded(wall_path)
    total = sum(n for _, n in wall)
    if not total:
        print("FAIL: %s: empty --wall output" % label)
        return 1
    # Shares of the time inside the slices, the window the program's own
    # clock measured: the thread's time before it (interpreter start-up,
    # imports: 0.03-0.05 s, 0.18 s on a busy machine) is in --wall's total
    # but not in the program's, and would dilute every share
    got = {k: sum(n for f, n in wall if kind_of(f) == k) for k in KINDS}
    got_slices = max(1, sum(got.values()))
    truth_slices = sum(truth[k] for k in KINDS)
    for k in KINDS:
        share, want = got[k] / got_slices, truth[k] / truth_slices
        print("FIGURE offcpu %s wall share %s: %.3f (truth %.3f, %+.1f points)"
              % (label, k, share, want, 100 * (share - want)))
        if abs(share - want) * 100 > tol:
            bad.append("wall %s %.3f vs %.3f" % (k, share, want))
        # the time itself, against the program's wall: periods and
        # interval lengths in the right units
        diff = (got[k] / 1e6 - truth[k]) / truth["wall"]
        print("FIGURE offcpu %s wall time %s: %.3f s (truth %.3f s, %+.1f points of its wall)"
              % (label, k, got[k] / 1e6, truth[k], 100 * diff))
        if abs(diff) * 100 > tol:
            bad.append("wall time %s %.3f s vs %.3f s" % (k, got[k] / 1e6, truth[k]))
    print("FIGURE offcpu %s wall total: %.3f s (program's own wall %.3f s; outside the slices "
          "%.3f s)" % (label, total / 1e6, truth["wall"], (total - sum(got.values())) / 1e6))

    off = read_folded(off_path)
    blocked = {k: sum(n for f, n in off if kind_of(f) == k) for k in ("sleep", "pipe")}
    both = blocked["sleep"] + blocked["pipe"]
    if not both:
        print("FAIL: %s: no sleep or pipe time in --off-cpu" % label)
        return 1
    got = blocked["sleep"] / both
    want = truth["sleep"] / (truth["sleep"] + truth["pipe"])
    print("FIGURE offcpu %s off-cpu sleep:pipe split: %.3f (truth %.3f, %+.1f points)"
          % (label, got, want, 100 * (got - want)))
    if abs(got - want) * 100 > tol:
        bad.append("off-cpu split %.3f vs %.3f" % (got, want))
    for k, leaf in leaves.items():
        with_leaf = sum(n for f, n in off if kind_of(f) == k and f[-1] == leaf)
        share = with_leaf / blocked[k] if blocked[k] else 0
        print("FIGURE offcpu %s %s time with leaf %s: %.3f" % (label, k, leaf, share))
        if share < 0.9:
            bad.append("%s leaf %s on %.3f" % (k, leaf, share))
    if bad:
        print("FAIL: %s: %s" % (label, "; ".join(bad)))
        return 1
    return 0


sys.exit(main())
