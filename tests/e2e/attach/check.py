#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks a perf.data recorded with tests/e2e/attach/echo.bpf.c attached.

usage: check.py PERF_DATA TGID MODE [LABEL]   (MODE: attached = attached all along,
killed = the attacher was SIGKILLed mid-run)
Every rt (bpf-output) sample must carry the echo magic, its own tid in the
record, belong to TGID and have a callchain through spin_inner; native
samples of TGID must keep coming after the attacher died.  Prints FIGURE
lines; exits 1 on a failed check.
"""
import re
import struct
import subprocess
import sys

MAGIC = 0x5254454348
# a sample without a callchain has its address and symbol on this line
HEADER = re.compile(r'^(.+?)\s+(\d+)\s+(?:\[(\d+)\]\s+)?(\d+\.\d+):\s+(\d+)\s+(\S+):'
                    r'(?:\s+[0-9a-f]+\s+(\S+).*)?\s*$')
HEX = re.compile(r'^\s*(?:BPF output:\s*)?([0-9a-f]{4}):((?:\s[0-9a-f]{2})+)')


def samples(path):
    fields = 'comm,tid,cpu,time,period,event,ip,sym,bpf-output'
    run = subprocess.run(['perf', 'script', '-i', path, '-F', fields], capture_output=True)
    if run.returncode:  # per-thread recordings have no CPU field
        fields = fields.replace('cpu,', '')
        run = subprocess.run(['perf', 'script', '-i', path, '-F', fields],
                             capture_output=True, check=True)
    out = run.stdout.decode('utf-8', 'replace')
    cur = None
    for line in out.splitlines():
        m = HEADER.match(line)
        if m:
            if cur:
                yield cur
            cur = {'comm': m.group(1).strip(), 'tid': int(m.group(2)), 'cpu': int(m.group(3) or -1),
                   'time': float(m.group(4)), 'event': m.group(6), 'raw': b'',
                   'syms': [m.group(7).split('+')[0]] if m.group(7) else []}
            continue
        if cur is None:
            continue
        h = HEX.match(line)
        if h:
            cur['raw'] += bytes(int(x, 16) for x in h.group(2).split())
            continue
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r'[0-9a-f]+', parts[0]):
            cur['syms'].append(parts[1].split('+')[0])
    if cur:
        yield cur


def main():
    path, tgid, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    label = sys.argv[4] if len(sys.argv) > 4 else mode
    rt, native = [], []
    for s in samples(path):
        (rt if s['event'] == 'rt' else native).append(s)
    tids = {tgid}  # the busy program is single-threaded
    busy_native = [s for s in native if s['event'] == 'cpu-clock' and s['tid'] in tids]
    bad, strangers = [], []
    magic_ok = tid_ok = chain_ok = 0
    for s in rt:
        raw = s['raw']
        # perf script dumps RAW without its u32 size, padding included.
        if len(raw) >= 24:
            magic, length, tid, pid = struct.unpack_from('<QIII', raw, 0)
            magic_ok += magic == MAGIC and length == 24
            tid_ok += tid == s['tid'] and pid == tgid
        chain_ok += 'spin_inner' in s['syms']
        if s['tid'] not in tids:
            strangers.append('%d (%s)' % (s['tid'], s['comm']))
    # Each companion record sits next to its native sample (same tid, a few us apart).
    native_times = sorted(s['time'] for s in busy_native)
    paired = 0
    j = 0
    for s in sorted(rt, key=lambda s: s['time']):
        while j < len(native_times) and native_times[j] < s['time'] - 0.001:
            j += 1
        paired += j < len(native_times) and abs(native_times[j] - s['time']) <= 0.001
    last_rt = max((s['time'] for s in rt), default=0.0)
    after = sum(1 for t in native_times if t > last_rt + 0.1)
    while_attached = sum(1 for t in native_times if t <= last_rt)

    print('FIGURE attach %s: rt=%d native_busy=%d native_busy_while_attached=%d '
          'paired=%d magic_ok=%d tid_ok=%d chain_spin_inner=%d native_after_kill=%d'
          % (label, len(rt), len(busy_native), while_attached, paired, magic_ok, tid_ok,
             chain_ok, after))
    if strangers:
        bad.append('%d rt samples of other threads: %s' % (len(strangers), ' '.join(strangers[:5])))
    if len(rt) < 50:
        bad.append('only %d rt samples' % len(rt))
    if magic_ok != len(rt) or tid_ok != len(rt):
        bad.append('%d/%d records with magic, %d/%d with the right tid'
                   % (magic_ok, len(rt), tid_ok, len(rt)))
    if chain_ok < 0.9 * len(rt):
        bad.append('only %d/%d rt callchains through spin_inner' % (chain_ok, len(rt)))
    if paired < 0.95 * len(rt):
        bad.append('only %d/%d rt samples next to a native one' % (paired, len(rt)))
    # Every native sample while attached has its companion (the program returns 1).
    if len(rt) < 0.9 * while_attached:
        bad.append('%d rt samples for %d native ones while attached' % (len(rt), while_attached))
    if mode == 'killed' and after < 50:
        bad.append('only %d native samples after the attacher was killed' % after)
    for b in bad:
        print('check: ' + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
