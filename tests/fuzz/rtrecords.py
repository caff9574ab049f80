#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the rt-bpf records of a recording (the raw data of its bpf-output
samples, as `perf script` prints them) as a decoder fuzzer input: each
record as a 2-byte little-endian length and its bytes, the first LIMIT
bytes of input at most.

usage: rtrecords.py PERF.DATA OUT [LIMIT] [--last]  (--last: the last records
of each kind instead of the first)"""
import re
import struct
import subprocess
import sys

PER_KIND = 6


def records(path):
    out = subprocess.run(["perf", "script", "-i", path, "-G", "-F", "event,bpf-output"],
                         capture_output=True, text=True, errors="replace").stdout
    cur = None
    for line in out.splitlines():
        m = re.match(r"\s*(?:BPF output: )?([0-9a-f]{4}): ((?:[0-9a-f]{2} ?)+)", line.strip())
        if m:
            if m[1] == "0000":
                if cur:
                    yield cur
                cur = b""
            if cur is not None:
                cur += bytes.fromhex(m[2].replace(" ", ""))
        elif cur:
            yield cur
            cur = None
    if cur:
        yield cur


def main():
    path, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 65536
    data, kinds = b"", {}
    every = list(records(path))
    if "--last" in sys.argv[3:]:
        # the last few of each kind (stacks that name chunks sent earlier)
        keep, seen = set(), {}
        for i in range(len(every) - 1, -1, -1):
            rec = every[i]
            kind = struct.unpack_from("<I", rec, 8)[0] if len(rec) >= 12 else None
            if seen.get(kind, 0) < PER_KIND:
                seen[kind] = seen.get(kind, 0) + 1
                keep.add(i)
        every = [r for i, r in enumerate(every) if i in keep]
    for rec in every:
        # the record's own size, from its header: perf pads the raw data
        if len(rec) >= 16:
            size = struct.unpack_from("<I", rec, 12)[0]
            rec = rec[:size] if 16 <= size <= len(rec) else rec
        rec = rec[:65535]
        kind = struct.unpack_from("<I", rec, 8)[0] if len(rec) >= 12 else None
        # a few of each kind, in the recording's order (code records and
        # chunks before the stacks that name them)
        if kinds.get(kind, 0) >= PER_KIND or len(data) + 2 + len(rec) > limit:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        data += struct.pack("<H", len(rec)) + rec
    if not data:
        sys.exit("no rt-bpf records in " + path)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
