#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf + rtmerge (--call-graph dwarf) on Debian's ruby3.1 with three
# threads, each in its own methods; gamma compresses with zlib, which
# releases the GVL.  Every thread's samples must carry only its own Ruby
# frames, and gamma's must show Zlib::Deflate.deflate with zlib's native
# frames below it (rb_nogvl, then deflate in libz) in that order; the Ruby
# frames must sit directly below rb_vm_exec (spliced at the VM loop).
. "$(dirname "$0")/workloads/rb_common.bash"
rb_require
W=$WORKLOADS/rb_threads.rb
rb_record threads "$W" 4 --call-graph dwarf
python3 - "$E2E_TMP/threads.txt" "$RT_TOP/tests/e2e/workloads" <<'PY' || fail "threads wrong"
import sys
sys.path.insert(0, sys.argv[2])
import rb_folded
wrong, total, zlib_ok, zlib_total, counts = rb_folded.threads(sys.argv[1])
spliced, with_rb = rb_folded.spliced(sys.argv[1], "rb_threads.rb")
print("samples per worker thread:", counts)
print(f"FIGURE ruby3.1 threads: {wrong} of {total} samples with another thread's frames (goal 0)")
print(f"FIGURE ruby3.1 threads: {zlib_ok} of {zlib_total} zlib samples in order deflate method > rb_nogvl > libz")
print(f"FIGURE ruby3.1 threads: {100.0 * spliced / max(with_rb, 1):.1f}% of {with_rb} samples with each run of Ruby frames directly below rb_vm_exec (spliced at the VM loop)")
# ten recordings gave 97.9-99.0% (the rest: samples in rb_vm_exec itself, whose
# place the Ruby frames take, and startup)
if not counts or wrong or min(counts.values()) < 30 or zlib_total < 10 or zlib_ok < 0.9 * zlib_total or \
        spliced < 0.9 * with_rb:
    sys.exit(1)
PY
echo ok
