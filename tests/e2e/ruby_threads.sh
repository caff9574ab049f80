#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf + rtmerge (--call-graph dwarf) on Debian's ruby3.1 with three
# threads, each in its own methods; gamma compresses with zlib, which
# releases the GVL.  Every thread's samples must carry only its own Ruby
# frames, and gamma's must show Zlib::Deflate.deflate with zlib's native
# frames below it (rb_nogvl, then deflate in libz) in that order.
. "$(dirname "$0")/workloads/rb_common.bash"
rb_require
W=$WORKLOADS/rb_threads.rb
rb_record threads "$W" 4 --call-graph dwarf
python3 - "$E2E_TMP/threads.txt" "$RT_TOP/tests/e2e/workloads" <<'PY' || fail "threads wrong"
import sys
sys.path.insert(0, sys.argv[2])
import rb_folded
wrong, total, zlib_ok, zlib_total, counts = rb_folded.threads(sys.argv[1])
print("samples per worker thread:", counts)
print(f"FIGURE ruby3.1 threads: {wrong} of {total} samples with another thread's frames (goal 0)")
print(f"FIGURE ruby3.1 threads: {zlib_ok} of {zlib_total} zlib samples in order deflate method > rb_nogvl > libz")
if not counts or wrong or min(counts.values()) < 30 or zlib_total < 10 or zlib_ok < 0.9 * zlib_total:
    sys.exit(1)
PY
echo ok
