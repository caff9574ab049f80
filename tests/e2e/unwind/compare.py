#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare uwdump's unwinding with `perf script --no-inline -F tid,time,ip,sym,dso`.

Samples are matched by (tid, time in microseconds).  perf prints user
addresses as file offsets, the sampled ip exactly and callers at ip - 1, as
uwdump does; an "(inlined)" line followed by the same address is an inline
expansion, not a frame.  A sample counts as unwound fully by perf when its
last frame is a process or thread entry; there perf's frames must equal our
first frames (perf often stops one or two frames short of the entry:
__libc_start_call_main, start_thread).  Prints key=value lines.
"""
import re
import sys

HEADER = re.compile(r"^\s*(\d+)\s+(\d+\.\d+):\s*$")

ENTRY = {"_start", "clone3", "__clone3", "clone", "__clone", "start_thread",
         "__libc_start_call_main", "__libc_start_main", "__libc_start_main@@GLIBC_2.34"}


def read_uwdump(path):
    samples, cur = {}, None
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "S":
                t = int(p[2])
                key = (int(p[1]), "%d.%06d" % (t // 10**9, (t % 10**9) // 1000))
                cur = {"stop": p[3], "frames": []}
                samples[key] = cur
            elif p[0] == "F" and cur is not None:
                cur["frames"].append((int(p[3], 16), p[4] if len(p) > 4 else "?"))
    return samples


def read_perf(path):
    samples, key, frames = {}, None, []
    with open(path, errors="replace") as f:
        for line in f:
            if line.strip() == "":
                if key:
                    samples[key] = frames
                key, frames = None, []
                continue
            # "TID TIME:" (perf pads the tid to a width: it may start with
            # spaces); frame lines are "ADDR SYM (DSO)"
            head = HEADER.match(line)
            if head:
                key = (int(head.group(1)), head.group(2))
                frames = []
                continue
            p = line.split(None, 1)
            if len(p) < 2 or "[kernel.kallsyms]" in p[1]:
                continue
            rest = p[1].rstrip().rsplit(" (", 1)
            frames.append((int(p[0], 16), rest[0].strip(), rest[-1] == "inlined)"))
    if key:
        samples[key] = frames
    for key, frames in samples.items():
        samples[key] = [(a, n) for i, (a, n, inl) in enumerate(frames)
                        if not (inl and i + 1 < len(frames) and frames[i + 1][0] == a)]
    return samples


def main():
    ours, perf = read_uwdump(sys.argv[1]), read_perf(sys.argv[2])
    leaf = sys.argv[3] if len(sys.argv) > 3 else None
    matched = full = agree = our_end = longer = 0
    leaf_total = leaf_ok = 0
    shown = 0
    for key, o in ours.items():
        if o["stop"] == "end":
            our_end += 1
        if leaf and o["frames"] and o["frames"][0][1] == leaf:
            leaf_total += 1
            names = [n for _, n in o["frames"]]
            if o["stop"] == "end" and "asm_fp" in names and "lib_b" in names and "main" in names:
                leaf_ok += 1
        p = perf.get(key)
        if p is None:
            continue
        matched += 1
        if not p or p[-1][1] not in ENTRY:
            continue
        full += 1
        mine = [off for off, _ in o["frames"]]
        theirs = [off for off, _ in p]
        if mine[:len(theirs)] == theirs:
            agree += 1
            longer += len(mine) > len(theirs)
        elif shown < 5:
            shown += 1
            print("differs %s: ours %s | perf %s" % (
                key, " ".join("%x:%s" % f for f in o["frames"]),
                " ".join("%x:%s" % f for f in p)), file=sys.stderr)
    print("samples=%d matched=%d perf_full=%d agree=%d longer=%d our_end=%d leaf_total=%d "
          "leaf_ok=%d" % (len(ours), matched, full, agree, longer, our_end, leaf_total, leaf_ok))


main()
