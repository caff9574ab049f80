#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compares rtmerge's per-sample stacks (rtmerge --per-sample) with the
stacks derived from perf script (perfscript_stacks.py), matched by tid and
time.  usage: agreement.py RTMERGE.txt PERFSCRIPT.txt MIN_SHARE [--complete]

With --complete (DWARF unwinding) only samples perf unwound completely (its
root frame is a process or thread entry) count; samples perf truncated and
rtmerge completed are reported as gains.

rtmerge folds a run of one unresolved frame (`[dso]`, repeated where a
broken callchain repeats an address) into one frame; perf's stacks are
compared after the same folding."""
import collections
import sys

ENTRIES = ('_start', 'clone3', 'clone', 'start_thread', '__libc_start_call_main',
           '__libc_start_main', '__clone3', '__clone')


def fold_unresolved_runs(stack):
    out = []
    for f in stack.split(';'):
        if out and f == out[-1] and f.startswith('['):
            continue
        out.append(f)
    return ';'.join(out)


def load(path, ns):
    d = {}
    for line in open(path):
        tid, t, stack = line.rstrip('\n').split(' ', 2)
        if ns:
            t = str(int(t) // 1000)  # perf script prints microseconds
        d[(tid, t)] = fold_unresolved_runs(stack)
    return d


def main():
    rt, ps = load(sys.argv[1], True), load(sys.argv[2], False)
    min_share = float(sys.argv[3])
    complete_only = '--complete' in sys.argv[4:]
    common = set(rt) & set(ps)
    # perf script sometimes prints a sample with no callchain at all (seen
    # for short-lived processes); those are perf's losses, not
    # disagreements: counted and shown, and left out of the share.
    perf_empty = [k for k in common if ';' not in ps[k] and ';' in rt[k]]
    for k in perf_empty:
        common.discard(k)
    unmatched = len(ps) - len(common) - len(perf_empty)
    gains = 0
    if complete_only:
        def complete(stack):
            frames = stack.split(';')
            return len(frames) > 1 and frames[1] in ENTRIES
        gains = sum(1 for k in common if not complete(ps[k]) and complete(rt[k]))
        common = set(k for k in common if complete(ps[k]))
    deeper = 0
    if complete_only:
        # Where perf stops at __libc_start_call_main, rtmerge goes on to
        # __libc_start_main and _start: perf's frames are then the leafward
        # part of ours, which counts as agreement (and is reported).
        for k in list(common):
            a, b = rt[k].split(';'), ps[k].split(';')
            if len(a) > len(b) and a[0] == b[0] and a[len(a) - len(b) + 1:] == b[1:]:
                rt[k] = ps[k]
                deeper += 1
    same = sum(1 for k in common if rt[k] == ps[k])
    kinds = collections.Counter()
    examples = {}
    for k in common:
        a, b = rt[k].split(';'), ps[k].split(';')
        if a == b:
            continue
        i = 0
        while i < min(len(a), len(b)) and a[i] == b[i]:
            i += 1
        kind = '%s vs %s' % (a[i] if i < len(a) else '<end>', b[i] if i < len(b) else '<end>')
        kinds[kind] += 1
        examples.setdefault(kind, (rt[k], ps[k]))
    total = len(common)
    share = same / total if total else 0
    print('samples: perf script %d, rtmerge %d, compared %d, equal stacks %d' %
          (len(ps), len(rt), total, same))
    print('FIGURE agreement with perf script%s: %.4f%% of %d samples '
          '(%d more with no callchain from perf script)' %
          (' (samples perf unwinds completely)' if complete_only else '', 100 * share, total,
           len(perf_empty)))
    if complete_only:
        print('FIGURE samples perf truncated and rtmerge unwound to the entry: %d; '
              'equal samples where rtmerge has more rootward frames than perf: %d' % (gains, deeper))
    for k in perf_empty[:3]:
        print('  perf printed no callchain for: %s' % rt[k])
    for kind, n in kinds.most_common(10):
        print('  difference %6d: %s' % (n, kind))
        print('      rtmerge: %s\n      perf:    %s' % examples[kind])
    if unmatched > len(ps) // 1000:
        print('%d samples of perf script have no rtmerge sample with the same tid and time' %
              unmatched)
        sys.exit(1)
    if total < 1000:
        print('too few samples: %d' % total)
        sys.exit(1)
    if share < min_share:
        print('agreement below %.1f%%' % (100 * min_share))
        sys.exit(1)


if __name__ == '__main__':
    main()
