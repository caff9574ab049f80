#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes crafted perf.data files for tests/e2e/hostile_inputs.sh: each one
aims at a weakness a perf.data handed over by someone else could exploit
(docs/threat-model.md), paired where it matters with a benign file of the
same size for time and memory ratios.

usage: mkhostile.py CASE OUT [ARG]"""
import random
import struct
import sys

MMAP2, COMM, FORK, SAMPLE = 10, 3, 7, 9
HEADER_ATTR, HEADER_BUILD_ID, FINISHED_ROUND = 64, 67, 68
S_IP, S_TID, S_TIME, S_CPU, S_PERIOD, S_CALLCHAIN, S_IDENT = 1, 2, 4, 128, 256, 32, 1 << 16
SAMPLE_TYPE = S_IDENT | S_IP | S_TID | S_TIME | S_CPU | S_PERIOD | S_CALLCHAIN
CTX_USER = (1 << 64) - 512
PIPE_HEADER = b'PERFILE2' + struct.pack('<Q', 16)


def pad8(b):
    return b + b'\0' * (-len(b) % 8)


def record(rtype, body, misc=0):
    body = pad8(body)
    return struct.pack('<IHH', rtype, misc, 8 + len(body)) + body


def attr_bytes(config):
    # struct perf_event_attr, 128 bytes; software event, sample_id_all
    a = struct.pack('<IIQQQQQ', 1, 128, config, 1, SAMPLE_TYPE, 0, 1 << 18)
    return a + b'\0' * (128 - len(a))


def attr(config, ids):
    return record(HEADER_ATTR, attr_bytes(config) + b''.join(struct.pack('<Q', i) for i in ids))


def trailer(pid, tid, time, ident=1):
    return struct.pack('<IIQIIQ', pid, tid, time, 0, 0, ident)


def comm(pid, name, time):
    return record(COMM, struct.pack('<II', pid, pid) + pad8(name + b'\0') +
                  trailer(pid, pid, time), misc=1 << 13)


def mmap2(pid, start, length, path, time):
    body = struct.pack('<IIQQQIIQQII', pid, pid, start, length, 0, 0, 0, 0, 0, 5, 2)
    return record(MMAP2, body + pad8(path.encode() + b'\0') + trailer(pid, pid, time), misc=2)


def fork(pid, ppid, time):
    return record(FORK, struct.pack('<IIIIQ', pid, ppid, pid, ppid, time) + trailer(pid, pid, time))


def sample(pid, time, chain, ident=1):
    body = struct.pack('<QQIIQIIQ', ident, chain[0], pid, pid, time, 0, 0, 1)
    ips = [CTX_USER] + chain
    body += struct.pack('<Q', len(ips)) + b''.join(struct.pack('<Q', ip) for ip in ips)
    return record(SAMPLE, body, misc=2)


def rounds():
    # perf writes FINISHED_ROUND regularly: after two, the samples before
    # the first are delivered, before anything later is read.
    return record(FINISHED_ROUND, b'') * 2


def build_id(pid, path):
    body = struct.pack('<i', pid) + bytes(range(20)) + b'\0' * 4
    return record(HEADER_BUILD_ID, body + pad8(path.encode() + b'\0'))


def file_mode(nr_events, nr_ids, shared, data):
    """A file-mode perf.data: nr_events cpu-clock events whose id sections
    are one shared section (shared) or each their own, then data."""
    entry = 128 + 16
    attrs_off = 104
    ids_off = attrs_off + nr_events * entry
    ids = b''.join(struct.pack('<Q', 1 + i) for i in range(nr_ids))
    nr_sections = 1 if shared else nr_events
    data_off = ids_off + nr_sections * len(ids)
    out = b''
    for i in range(nr_events):
        off = ids_off if shared else ids_off + i * len(ids)
        out += attr_bytes(0) + struct.pack('<QQ', off, len(ids))
    body = out + ids * nr_sections
    header = b'PERFILE2' + struct.pack('<QQ', 104, entry)
    header += struct.pack('<QQQQQQ', attrs_off, nr_events * entry, data_off, len(data), 0, 0)
    header += b'\0' * 32
    return header + body + data


def main():
    case, out = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    pid, base = 100, 0x400000
    head = comm(pid, b'app', 1) + mmap2(pid, base, 0x10000, '/nonexistent/app', 2)
    if case == 'attrs-after-samples':
        # Attribute records after samples grow the reader's event array.
        b = attr(0, [1]) + head
        b += b''.join(sample(pid, 10 + i, [base + 16 * i]) for i in range(10)) + rounds()
        b += b''.join(attr(9, [1000 + i]) for i in range(300))
        b += b''.join(sample(pid, 1000 + i, [base + 16 * i]) for i in range(10))
        b = PIPE_HEADER + b
    elif case == 'buildids-after-sample':
        # Build-id records after the first sample grow the reader's list.
        # The first sample finds the map's build id; 300 more records move
        # the list; later samples use new addresses, so each is resolved.
        b = attr(0, [1]) + head + build_id(pid, '/nonexistent/app')
        b += sample(pid, 10, [base]) + rounds()
        b += b''.join(build_id(pid, '/lib/x%d.so' % i) for i in range(300))
        b += b''.join(sample(pid, 20 + i, [base + 16 * i + 8]) for i in range(20))
        b = PIPE_HEADER + b
    elif case == 'forged-comm':
        name = arg.encode() if arg else b'x\t9999999\nforged'
        b = PIPE_HEADER + attr(0, [1]) + comm(pid, name, 1)
        b += b''.join(sample(pid, 10 + i, [base + 16 * i]) for i in range(5))
    elif case == 'mapped-path':
        # A map whose file is arg (a FIFO, a device...), sampled in.
        b = PIPE_HEADER + attr(0, [1]) + comm(pid, b'app', 1) + mmap2(pid, base, 0x10000, arg, 2)
        b += b''.join(sample(pid, 10 + i, [base + 16 * i]) for i in range(5))
    elif case in ('cache-aimed', 'cache-benign'):
        # 64 Ki distinct addresses: i << 40 (one slot for a weak hash) or random.
        rnd = random.Random(1)
        n = int(arg or 65536)
        addrs = [(i + 1) << 40 if case == 'cache-aimed' else (1 << 40) + rnd.getrandbits(56)
                 for i in range(n)]
        # One map covers them all, so that each address is resolved once and cached.
        b = PIPE_HEADER + attr(0, [1]) + comm(pid, b'app', 1)
        b += mmap2(pid, 1 << 40, 1 << 57, '/nonexistent/big', 2)
        b += b''.join(sample(pid, 10 + i, addrs[i * 64:i * 64 + 64]) for i in range(n // 64))
    elif case in ('maps-desc', 'maps-asc'):
        n = int(arg or 80000)
        order = range(n - 1, -1, -1) if case == 'maps-desc' else range(n)
        b = PIPE_HEADER + attr(0, [1]) + comm(pid, b'app', 1)
        b += b''.join(mmap2(pid, base + 0x2000 * i, 0x1000, '/nonexistent/lib', 2) for i in order)
        b += sample(pid, 10, [base])
    elif case in ('forks', 'forks-benign'):
        # 2,000 maps, then 20,000 children (or 20,000 renames of the parent).
        nmaps, nkids = 2000, int(arg or 20000)
        b = PIPE_HEADER + attr(0, [1]) + comm(pid, b'app', 1)
        b += b''.join(mmap2(pid, base + 0x2000 * i, 0x1000, '/nonexistent/lib', 2)
                      for i in range(nmaps))
        if case == 'forks':
            b += b''.join(fork(1000 + i, pid, 3) for i in range(nkids))
        else:
            b += b''.join(comm(pid, b'app%05d' % i, 3) for i in range(nkids))
        b += sample(pid, 10, [base])
    elif case in ('ids-shared', 'ids-benign'):
        # 4,096 events naming one section of 32,768 ids, against one event
        # with the same ids and a data section that makes the sizes equal.
        data = comm(pid, b'app', 1) + sample(pid, 10, [base])
        if case == 'ids-shared':
            b = file_mode(4096, 32768, True, data)
        else:
            small = file_mode(1, 32768, True, data)
            pad = len(file_mode(4096, 32768, True, data)) - len(small)
            filler = comm(pid, b'app', 1)
            data = filler * (pad // len(filler)) + data
            b = file_mode(1, 32768, True, data)
    else:
        sys.exit('unknown case ' + case)
    with open(out, 'wb') as f:
        f.write(b)


main()
