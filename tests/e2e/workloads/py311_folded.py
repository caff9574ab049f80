# SPDX-License-Identifier: GPL-2.0-only
"""Reads `rtmerge --tid` folded output for the tests/e2e/py311_*.sh checks.

A folded line is `comm-PID/TID;frame;...;frame COUNT`, root first.  An
interpreter frame reads `function (dir/file.py:LINE)`; everything else is a
native frame.
"""
import os
import re

_ROOT = re.compile(r"^(?P<comm>.*)-(?P<pid>\d+)/(?P<tid>\d+)$")
_INTERP = re.compile(r"^(?P<func>.+) \((?P<file>[^()]*\.py|<[^<>()]+>)(?::(?P<line>\d+))?\)$")
EVAL_LOOP = "_PyEval_EvalFrameDefault"


class Stack:
    def __init__(self, pid, tid, frames, count, time=None):
        self.pid, self.tid, self.frames, self.count = pid, tid, frames, count
        self.time = time
        # (position, function, file, line) of each interpreter frame
        self.interp = []
        for i, f in enumerate(frames):
            m = _INTERP.match(f)
            if m:
                self.interp.append((i, m["func"], m["file"], int(m["line"] or 0)))

    def funcs(self):
        return [x[1] for x in self.interp]

    def func_lines(self):
        return [(x[1], x[3]) for x in self.interp]

    def native_after_interp(self):
        """native frames leafward of the leafmost interpreter frame"""
        if not self.interp:
            return []
        return self.frames[self.interp[-1][0] + 1:]

    def interp_contiguous_from_root(self):
        """interpreter frames start right after the root and are not
        interleaved with native frames (what -g gives on CPython builds
        without frame pointers)"""
        pos = [x[0] for x in self.interp]
        return bool(pos) and pos == list(range(1, 1 + len(pos)))


def short(workload):
    """the path rtmerge prints for a workload file: its last two components"""
    return "/".join(os.path.abspath(workload).split("/")[-2:])


def load(path, workload, per_sample=False):
    """Stacks of the processes that ran workload (others were sampled too:
    rt-bpf record runs perf system-wide).  per_sample: path is rtmerge's
    --per-sample output ("TID TIME stack"), one Stack per sample with its
    time."""
    stacks = []
    for line in open(path):
        line = line.rstrip("\n")
        if per_sample:
            _, time, stack = line.split(" ", 2)
            time, count = int(time), "1"
        else:
            stack, _, count = line.rpartition(" ")
            time = None
        frames = stack.split(";")
        m = _ROOT.match(frames[0])
        if not m:
            raise SystemExit(f"{path}: root frame {frames[0]!r} is not comm-PID/TID (--tid?)")
        stacks.append(Stack(int(m["pid"]), int(m["tid"]), frames, int(count), time))
    mark = f"({short(workload)}:"
    pids = {s.pid for s in stacks if any(mark in f for f in s.frames)}
    return [s for s in stacks if s.pid in pids]


def completeness(stacks, workload, roots=("<module>",), tids=None, after=None):
    """(eval-loop samples, complete ones): a sample counts when it carries a
    frame of workload, or a native eval-loop frame without any interpreter
    frame (a stack the walker missed).  Complete: the rootmost interpreter
    frame, right after the root, is one of roots (`<module>` must be the
    workload's own).  after: {pid: time}, only samples from then on."""
    mark = f"({short(workload)}:"
    total = complete = 0
    for s in stacks:
        if tids is not None and s.tid not in tids:
            continue
        if after is not None and (s.pid not in after or s.time < after[s.pid]):
            continue
        has_wl = any(mark in f for f in s.frames)
        if not has_wl and not (not s.interp and EVAL_LOOP in s.frames):
            continue
        total += s.count
        if not s.interp or s.interp[0][0] != 1 or s.interp[0][1] not in roots:
            continue
        if s.interp[0][1] == "<module>" and s.interp[0][2] != short(workload):
            continue
        complete += s.count
    return total, complete


def discovered(stacks):
    """{pid: time of its first sample with interpreter frames}: when rt-bpf
    had found the process (its tracker rescans /proc every 100 ms)"""
    first = {}
    for s in stacks:
        if s.interp and (s.pid not in first or s.time < first[s.pid]):
            first[s.pid] = s.time
    return first


def completeness_figure(kind, name, stacks, workload, roots=("<module>",)):
    """prints the FIGURE line for per-sample stacks; returns
    (eval-loop samples, complete, same two after rt-bpf found the process)"""
    total, complete = completeness(stacks, workload, roots)
    found = discovered(stacks)
    t2, c2 = completeness(stacks, workload, roots, after=found)
    print(f"FIGURE py311 complete stacks {kind} {name}: {100.0 * complete / max(total, 1):.1f}% "
          f"of {total} eval-loop samples down to {'/'.join(roots)}; "
          f"{100.0 * c2 / max(t2, 1):.1f}% of {t2} once rt-bpf had found the process")
    return total, complete, t2, c2


def examples(stacks, pred, n=3, width=400):
    """a few stacks matching pred, for failure messages"""
    out = [";".join(s.frames)[:width] for s in stacks if pred(s)]
    return out[:n]
