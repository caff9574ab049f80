#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the rt-bpf records of a recording (the raw data of its bpf-output
samples, read as `perf script` prints them) as a decoder fuzzer input: each
record as a 2-byte little-endian length and its bytes, at most six records
of a kind and LIMIT bytes in all.

usage: rtrecords.py PERF.DATA OUT [LIMIT] [--last]  (--last: the last records
of each kind instead of the first)"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e', 'attach'))
from check import samples  # noqa: E402  (the perf script reader the attach tests use)

PER_KIND = 6


def trimmed(rec):
    """@rec cut to its header's size (perf pads the raw data) and to what a
    2-byte length holds."""
    if len(rec) >= 16:
        size = struct.unpack_from("<I", rec, 12)[0]
        if 16 <= size <= len(rec):
            rec = rec[:size]
    return rec[:65535]


def kind_of(rec):
    return struct.unpack_from("<I", rec, 8)[0] if len(rec) >= 12 else None


def main():
    path, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 65536
    every = [trimmed(s['raw']) for s in samples(path) if s['event'] == 'rt' and s['raw']]
    order = range(len(every))
    if "--last" in sys.argv[3:]:
        order = reversed(order)  # stacks that name chunks sent earlier
    keep, per_kind, size = set(), {}, 0
    for i in order:
        kind = kind_of(every[i])
        if per_kind.get(kind, 0) >= PER_KIND or size + 2 + len(every[i]) > limit:
            continue
        per_kind[kind] = per_kind.get(kind, 0) + 1
        size += 2 + len(every[i])
        keep.add(i)
    # in the recording's order: code records and chunks before the stacks
    # that name them
    data = b"".join(struct.pack("<H", len(r)) + r for i, r in enumerate(every) if i in keep)
    if not data:
        sys.exit("no rt-bpf records in " + path)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
