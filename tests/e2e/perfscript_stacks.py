#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Per-sample folded stacks from `perf script -F comm,tid,time,ip,sym,dso`,
applying stackcollapse-perf.pl's naming rules, as "TID TIME_US stack" lines.
The reference side of the rtmerge/perf agreement test."""
import re
import sys

head = re.compile(r'^(\S.*?)\s+(\d+)\s+(\d+)\.(\d+):\s*$')
frame = re.compile(r'^\s*([0-9a-f]+)\s+(.+) \(((?:/|\[).*)\)$')
# A function inlined at the address (perf script's default, --inline): its
# name only; the function it was inlined into follows on the next line.
inlined = re.compile(r'^\s*([0-9a-f]+)\s+(.+) \(inlined\)$')


def tidy(func, mod):
    func = re.sub(r'\+0x[0-9a-f]+$', '', func)
    if func == '[unknown]':
        if mod != '[unknown]':
            return '[' + mod.rsplit('/', 1)[-1] + ']'
        return '[unknown]'
    func = func.replace(';', ':')
    if not re.search(r'\.\(.*\)\.', func):
        func = re.sub(r'\((?!anonymous namespace\)).*', '', func)
    return func.replace('"', '').replace("'", '')


def main():
    out = sys.stdout
    cur = None
    frames = []

    def flush():
        if cur is not None:
            comm, tid, t = cur
            out.write('%s %s %s\n' % (tid, t, ';'.join([comm] + frames[::-1])))

    for line in sys.stdin:
        line = line.rstrip('\n')
        if not line.strip():
            continue
        m = head.match(line)
        if m:
            flush()
            comm = m.group(1).strip().replace(' ', '_')
            cur = (comm, m.group(2), m.group(3) + m.group(4).ljust(6, '0')[:6])
            frames = []
            continue
        m = inlined.match(line)
        if m and cur is not None:
            frames.append(tidy(m.group(2), ''))
            continue
        m = frame.match(line)
        if m and cur is not None:
            # stackcollapse-perf.pl also drops frames starting with "(",
            # a rule for process names in old perf output; modern perf
            # prints none there, and C++'s "(anonymous namespace)::f" is a
            # real frame, so it is kept.
            frames.append(tidy(m.group(2), m.group(3)))
    flush()


if __name__ == '__main__':
    main()
