#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --call-graph dwarf: rtmerge's own unwinding of the user stack copies
# against perf's (libdw).  On programs built without frame pointers (with a
# shared library) and Debian's python3.11 calling into zlib, rtmerge's stack
# must equal `perf script`'s for at least 99% of the samples perf unwinds
# completely; samples perf truncates but rtmerge completes are reported.
source "$(dirname "$0")/lib.sh"
require_perf
cd "$E2E_TMP"
p=$RT_TOP/tests/e2e/progs
nofp="-O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls"
cc $nofp -o calltree "$p/calltree.c" || fail "build calltree"
cc $nofp -pthread -o threads "$p/threads.c" || fail "build threads"
cc $nofp -shared -fPIC -o libcallee.so "$p/libcallee.c" || fail "build lib"
cc $nofp -o uselib "$p/uselib.c" -L. -lcallee -Wl,-rpath,"$E2E_TMP" || fail "build uselib"
py=/usr/bin/python3.11
[ -x "$py" ] || py=$(command -v python3)
cat >zwork.py <<'PY'
import time, zlib
def compress_it(data):
    return zlib.compress(data, 9)
def main():
    data = bytes(range(256)) * 2000
    end = time.time() + 2
    while time.time() < end:
        compress_it(data)
main()
PY
perf record -q --call-graph dwarf -e cpu-clock -F 999 -o dwarf.data -- sh -c \
	"./calltree 2 & ./threads 2 & ./uselib 2 & $py zwork.py & wait" 2>/dev/null || fail "perf record"
"$RTMERGE" --per-sample rt.txt dwarf.data >/dev/null 2>rt.err || { cat rt.err; fail "rtmerge"; }
cat rt.err
grep -q 'samples unwound from stack copies' rt.err || fail "no sample was unwound"
perf script -i dwarf.data --no-inline -F comm,tid,time,ip,sym,dso 2>/dev/null |
	python3 "$RT_TOP/tests/e2e/perfscript_stacks.py" >ps.txt || fail "perf script"
python3 "$RT_TOP/tests/e2e/agreement.py" rt.txt ps.txt 0.99 --complete || exit 1
share=$(sed -n 's/.* to the process or thread entry (\([0-9.]*\)%).*/\1/p' rt.err)
echo "FIGURE dwarf: share of samples rtmerge unwound to the process or thread entry: ${share}%"
# The known chains must be complete, from the entry down.
"$RTMERGE" dwarf.data >dwarf.folded 2>/dev/null || fail "rtmerge folded"
n=$(folded_count dwarf.folded '^calltree;_start;.*main;work;branch_a;burn$')
[ "$n" -gt 100 ] || { grep '^calltree' dwarf.folded | head; fail "calltree chains incomplete ($n)"; }
n=$(folded_count dwarf.folded '^uselib;_start;.*main;call_lib;lib_entry;lib_leaf$')
[ "$n" -gt 100 ] || fail "library chains incomplete ($n)"
n=$(folded_count dwarf.folded '^worker-a;.*(clone3|start_thread);.*alpha_loop;alpha_leaf$')
[ "$n" -gt 100 ] || fail "thread chains incomplete ($n)"
echo "perf_agreement_dwarf: ok"
