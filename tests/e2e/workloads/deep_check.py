# SPDX-License-Identifier: GPL-2.0-only
"""Checks rtmerge's folded output of a deep recursion (py_recurse.py or
rb_deep.rb DEPTH deep) for tests/e2e/deep_stacks.sh and the kernel guests
(tests/kernels/cases.sh deep): every sample in leaf has every interpreter
frame from the root in order with the lines the workload's markers name;
deeper than the walker's 4,096 frames, the leafmost 4,096 and
`[truncated]` at the root; a walk stopped by a read fault, its leafmost
frames and `[incomplete]` at the root (at most 2% of the samples).  Chunk records (rt-bpf's log) must be sent
once, not per sample: at most three times the final stack's whole chunks.

    deep_check.py FOLDED RT-BPF-LOG NAME py|rb DEPTH WORKLOAD MIN_GOOD
"""
import re, sys
folded, log, name, kind, depth, src, least = sys.argv[1:8]
least = int(least)
depth = int(depth)
line_of = {}
for n, text in enumerate(open(src), 1):
    m = re.search(r"# ([A-Z_]+_LINE)$", text)
    if m:
        line_of[m.group(1)] = n
FRAME = re.compile(r"^(?P<f>.+) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
base = src.rsplit("/", 1)[1]
if kind == "py":
    head = [("<module>", line_of["MODULE_LINE"]), ("main", line_of["MAIN_LINE"])]
    rec = "recurse"
else:
    head = [("<main>", line_of["MAIN_LINE"])]
    rec = "rec"
want = head + [(rec, line_of["RECURSE_LINE" if kind == "py" else "REC_LINE"])] * (depth - 1) + \
    [(rec, line_of["CALL_LEAF_LINE"]), ("leaf", line_of["LEAF_LINE"])]
LIMIT = 4096  # RT_REC_MAX_DEPTH
cut = len(want) > LIMIT
if cut:  # the walker keeps the leafmost frames
    want = want[-LIMIT:]
good = bad = incomplete = 0
others = []
for line in open(folded):
    stack, count = line.rstrip("\n").rsplit(" ", 1)
    frames = stack.split(";")[1:]
    interp = []
    marked = stopped = False
    for f in frames:
        m = FRAME.match(f)
        if m and m["file"].endswith(base):
            interp.append((m["f"], int(m["line"] or 0)))
        elif f == "[truncated]":
            marked = True
        elif f == "[incomplete]":
            stopped = True
    if not any(f[0] == "leaf" for f in interp):
        # start-up, the way down, exit: shown when nothing else is right
        others.append((int(count), len(interp), interp[-2:], frames[-2:]))
        continue
    # the leaf runs its loop's line or (CPython) the line in its body
    leaf_ok = interp and interp[-1][1] in (want[-1][1], want[-1][1] + (kind == "py"))
    if stopped:
        # the walk met memory it could not read (rt-bpf's "read faults"):
        # what it got must be the leafmost frames, marked at the root
        if leaf_ok and interp[:-1] == want[-len(interp):-1]:
            incomplete += int(count)
        else:
            bad += int(count)
            print(name, "bad incomplete:", len(interp), "frames", interp[:3], "...", interp[-3:])
        continue
    if leaf_ok and interp[:-1] == want[:-1] and marked == cut and (not cut or frames.index("[truncated]") < 2):
        good += int(count)
    else:
        bad += int(count)
        if bad <= 2:
            print(name, "bad:", len(interp), "frames, marked" if marked else "frames",
                  interp[:3], "...", interp[-3:])
stats = open(log).read()
stacks = int(re.findall(r" stacks=(\d+)", stats)[-1])
chunks = int(re.findall(r"stack chunks=(\d+)", stats)[-1])
med = re.findall(r"median (\d+)-\d+ us", stats)
print(f"{name}: {good} leaf samples with the {len(want)} frames in order"
      f"{' and [truncated] at the root' if cut else ''}, {incomplete} cut short by a read "
      f"fault and marked [incomplete], {bad} wrong; {chunks} chunk records for {stacks} stack records")
if good < least:
    for n, depth_seen, tail, native in sorted(others, reverse=True)[:3]:
        print(f"{name}: {n} samples without leaf: {depth_seen} frames, ending {tail} {native}")
if med:
    print(f"FIGURE deep stacks {name}: BPF walker median {med[-1]} us per sample at {len(want)} frames")
# every leaf sample right; chunks sent once, not per sample: at most three
# times the whole chunks of the final stack (the way down sends the same
# ones; a cut stack's chunks move while it grows past the cut), however
# many samples there are
# a walk stopped by a read fault: 1 of 582 leaf samples in a TCG guest,
# none on the host; up to 2% of them may be
sys.exit(0 if good >= least and bad == 0 and incomplete <= 0.02 * (good + incomplete) and
         chunks <= 3 * (len(want) // 256) else 1)
