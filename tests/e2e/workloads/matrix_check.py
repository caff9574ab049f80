# SPDX-License-Identifier: GPL-2.0-only
# Checks rt-decode's output for one workload run of tests/e2e/py_matrix.sh
# and prints one result line:
#   RESULT kind samples python_samples complete_pct hotline_pct wrong_thread
# samples: stacks from the workload's process; python_samples: those with
# Python frames; complete: the walk reached the chain's end with every
# frame named (no truncation, read fault or unknown code), rooted at the
# workload's <module> (or thread bootstrap) when it runs workload code and,
# where the workload fixes it, the exact expected chain;
# hotline: samples in the hot function on its loop lines (threads: the
# spinners' spin(); the hasher must show its hashing line); wrong_thread:
# worker samples carrying another worker's frames.
# The workload may be given as NAME=FILE: the stacks name it NAME (its path
# inside a container), its source is FILE.  An optional fifth argument names a file of "namespace-tid host-tid" lines:
# a workload in its own PID namespace prints the tids it sees there.
# Also prints "MODULE pct" (the main thread's samples running workload
# code whose outermost frame is the workload's <module>) and, for the split, "SHARE a" (the
# share of branch_a among the samples in work()).
import re
import sys

kind, txt, workload, out = sys.argv[1:5]
source = workload
if "=" in workload:
    # NAME=FILE: stacks name the workload NAME (its path inside a container)
    workload, source = workload.split("=", 1)
tidmap = {}
if len(sys.argv) > 5:
    for l in open(sys.argv[5]):
        ns, host = l.split()
        tidmap[int(ns)] = int(host)
src = open(source).read().splitlines()


def line_of(marker):
    for i, l in enumerate(src, 1):
        if marker in l:
            return i
    raise SystemExit("no marker %s in %s" % (marker, workload))


def frames_of(stack):
    res = []
    for f in stack.split(";"):
        m = re.match(r"^\+?(.*)@(.*):(\d+)$", f)
        res.append((m.group(1), m.group(2), int(m.group(3))) if m else (f, "", 0))
    return res


pid = None
role = {}
if kind == "threads":
    for l in open(out):
        tid, fn = l.split()
        role[tidmap.get(int(tid), int(tid))] = fn
stacks = []
for l in open(txt):
    parts = l.rstrip("\n").split(" ", 2)
    if len(parts) < 2 or "/" not in parts[0]:
        continue
    p, t = (int(x) for x in parts[0].split("/"))
    fr = frames_of(parts[2]) if len(parts) > 2 and parts[2] else []
    stacks.append((p, t, fr, parts[1] == "-"))
# the workload's process: the one whose stacks name the workload file
pids = {}
for p, t, fr, clean in stacks:
    if any(f[1] == workload for f in fr):
        pids[p] = pids.get(p, 0) + 1
pid = max(pids, key=pids.get) if pids else -1
mine = [(t, fr, clean) for p, t, fr, clean in stacks if p == pid]
py = [(t, fr, clean) for t, fr, clean in mine if fr]
complete = hot = hot_total = wrong = 0
shown = []


def whole(fr, clean, rooted_in_workload):
    """Complete: the walk reached the chain's end with every frame named;
    a stack that runs workload code must start at its root (startup and
    shutdown stacks, imports run from C, have other roots)."""
    if not clean or not all(f[1] for f in fr):
        return False
    return rooted_in_workload or not any(f[1] == workload for f in fr)


def note(ok, t, fr):
    if not ok and len(shown) < 3:
        shown.append(1)
        print("not complete: tid %d: %s" % (t, ";".join("%s:%d" % (f[0], f[2]) for f in fr[:3] + [('...', '', 0)] + fr[-2:])))
    return ok


if kind == "recursion":
    leaf_l, call_l, rec_l = line_of("# LEAF_LINE"), line_of("# CALL_LEAF_LINE"), line_of("# RECURSE_LINE")
    main_l, mod_l = line_of("# MAIN_LINE"), line_of("# MODULE_LINE")
    for t, fr, clean in py:
        names = [f[0] for f in fr]
        rooted = whole(fr, clean, fr[0][:2] == ("<module>", workload))
        if "leaf" in names:
            want = ["<module>", "main"] + ["recurse"] * 200 + ["leaf"]
            lines = [f[2] for f in fr]
            ok = (names == want and lines[0] == mod_l and lines[1] == main_l and
                  all(x == rec_l for x in lines[2:201]) and lines[201] == call_l)
            hot_total += 1
            hot += lines[-1] in (leaf_l, leaf_l + 1)
            complete += note(ok, t, fr)
        else:
            complete += note(rooted, t, fr)
elif kind == "split":
    work_l, a_l, b_l = line_of("# WORK_LINE"), line_of("# A_LINE"), line_of("# B_LINE")
    in_a = in_b = 0
    for t, fr, clean in py:
        names = [f[0] for f in fr]
        complete += note(whole(fr, clean, fr[0][:2] == ("<module>", workload)), t, fr)
        if names[-1:] == ["work"]:
            in_a += "branch_a" in names
            in_b += "branch_b" in names
            hot_total += 1
            hot += fr[-1][2] in (work_l, work_l + 1) and \
                (fr[-2][2] == a_l if fr[-2][0] == "branch_a" else fr[-2][2] == b_l)
elif kind == "threads":
    workers = dict((t, f) for t, f in role.items() if f != "main")
    hash_l = line_of("GIL released while hashing")
    spin_lines = set()
    for i, l in enumerate(src, 1):
        if l.strip().startswith("def spin("):
            spin_lines = set([i + 2, i + 3])  # the while line and its body
    at_hash = 0
    per_role = dict((f, 0) for f in workers.values())
    for t, fr, clean in py:
        names = [f[0] for f in fr]
        # thread stacks start in threading's bootstrap, not in <module>
        root_ok = (t not in workers and fr[0][:2] == ("<module>", workload)) or \
                  (t in workers and names[0].split(".")[-1] in ("_bootstrap", "__bootstrap"))
        complete += note(whole(fr, clean, root_ok), t, fr)
        if t in workers:
            others = set(workers.values()) - set([workers[t]])
            if others.intersection(names):
                wrong += 1
            per_role[workers[t]] += workers[t] in names
            # the spinners' leaf is spin() on its loop lines; the hasher's
            # line depends on GIL hand-offs, so it only has to show up
            if names[-1:] == ["spin"]:
                hot_total += 1
                hot += fr[-1][2] in spin_lines
            at_hash += names[-1:] == ["hasher_epsilon"] and fr[-1][2] == hash_l
    missing = [f for f in ("worker_alpha", "worker_beta", "worker_gamma", "hasher_epsilon")
               if not per_role.get(f)]
    if missing or not at_hash:
        print("threads without a sample in their function: %s; samples per thread: %s; "
              "hasher samples at its hashing line: %d" % (" ".join(missing), per_role, at_hash))
        wrong += 1000  # reported as a failure
print("PID %d" % pid)
main_py = [fr for t, fr, clean in py if t == pid and any(f[1] == workload for f in fr)]
print("MODULE %.1f" % (100.0 * sum(fr[0][:2] == ("<module>", workload) for fr in main_py) /
                       len(main_py) if main_py else 0.0))
if kind == "split":
    print("SHARE %.3f" % (in_a / float(in_a + in_b) if in_a + in_b else 0.0))
pct = lambda a, b: 100.0 * a / b if b else 0.0
print("RESULT %s %d %d %.1f %.1f %d" % (kind, len(mine), len(py), pct(complete, len(py)),
                                         pct(hot, hot_total), wrong))
