#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rtmerge --inline on native code: a C++ program whose hot code is inlined
# templates (std::sort's helpers, a method), built -O2 -g without frame
# pointers and recorded with --call-graph dwarf.  Per sample, rtmerge
# --inline must equal `perf script` (inline frames on, its default) on at
# least 99% of the samples perf unwinds completely, with C++ names demangled
# as perf prints them.
source "$(dirname "$0")/lib.sh"
require_perf
command -v g++ >/dev/null || skip "g++ is not installed"
cd "$E2E_TMP"
g++ -O2 -g -fomit-frame-pointer -o sorter "$RT_TOP/tests/e2e/progs/inline_sort.cc" ||
	fail "build sorter"
perf record -q --call-graph dwarf -e cpu-clock -F 999 -o cxx.data -- ./sorter 3 2>/dev/null ||
	fail "perf record"
"$RTMERGE" --inline --per-sample rt.txt cxx.data >cxx.folded 2>rt.err || { cat rt.err; fail "rtmerge"; }
cat rt.err
perf script -i cxx.data -F comm,tid,time,ip,sym,dso >ps.raw 2>/dev/null || fail "perf script"
grep -q '(inlined)$' ps.raw || fail "perf script showed no inlined frame"
python3 "$RT_TOP/tests/e2e/perfscript_stacks.py" <ps.raw >ps.txt || fail "perfscript_stacks"
python3 "$RT_TOP/tests/e2e/agreement.py" rt.txt ps.txt 0.99 --complete || exit 1
# the inlined method and std::sort's inlined helpers are frames
n=$(folded_count cxx.folded ';main;ns::work<long>;ns::Acc<long>::add$')
[ "$n" -gt 0 ] || fail "no inlined ns::Acc<long>::add frame"
n=$(folded_count cxx.folded ';ns::work<long>;std::sort<[^;]*;std::__sort<')
[ "$n" -gt 100 ] || fail "std::sort's inlined chain in $n samples"
echo "inline_cxx: ok"
