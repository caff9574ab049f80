#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# unwind/ on real `perf record --call-graph dwarf` data: a -O2
# -fomit-frame-pointer program through a shared library and assembly without
# CFI, and Debian's CPython (no frame pointers) with a thread and zlib.
# Each sample's unwound stack is compared with perf's own (libdw) unwinding.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for perf record"
command -v perf >/dev/null || skip "perf is not installed"
perf record -q --call-graph dwarf -e cpu-clock -o "$E2E_TMP/probe.data" -- true >/dev/null 2>&1 ||
	skip "perf record --call-graph dwarf does not work here"
[ -f "$RT_BUILD/librtperf.a" ] || fail "$RT_BUILD/librtperf.a not built"
src=$RT_TOP/tests/e2e/unwind
cd "$E2E_TMP"

cc -O2 -g -D_GNU_SOURCE -I"$RT_TOP" -I"$RT_TOP/build/libperf/include" -I"$RT_BUILD/libperf/include" \
	-o uwdump "$src/uwdump.c" "$RT_BUILD/librtperf.a" -lelf -ldw -lz -lm -liberty ||
	fail "cannot build uwdump"
cc -O2 -fomit-frame-pointer -shared -fPIC -o libuwchain.so "$src/chainlib.c" || fail "build lib"
cc -O2 -fomit-frame-pointer -o chain "$src/chain.c" "$src/nocfi.s" -L. -luwchain \
	-Wl,-rpath,"$E2E_TMP" || fail "build chain"

value() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$2"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }'; }

# 1. The chain: every sample in c_leaf must unwind through asm_nofp (prologue
#    analysis), asm_fp (frame pointer) and lib_b down to _start.
perf record -q --call-graph dwarf -e cpu-clock -F 999 -o chain.data -- ./chain burn 2 \
	>/dev/null 2>&1 || fail "perf record chain"
./uwdump chain.data >chain.uw 2>chain.err || { cat chain.err; fail "uwdump chain"; }
cat chain.err
perf script -i chain.data --no-inline -F tid,time,ip,sym,dso >chain.ps 2>/dev/null || fail "perf script chain"
python3 "$src/compare.py" chain.uw chain.ps c_leaf >chain.cmp || fail "compare chain"
cat chain.cmp
lt=$(value leaf_total chain.cmp) lo=$(value leaf_ok chain.cmp)
[ "${lt:-0}" -gt 500 ] || fail "too few samples in c_leaf (${lt:-0})"
pf=$(value perf_full chain.cmp) cn=$(value samples chain.cmp)
echo "FIGURE unwind chain (-O2 -fomit-frame-pointer, asm without CFI): $(pct "$lo" "$lt")% of c_leaf samples unwound to _start through asm frames (perf: $(pct "$pf" "$cn")% of samples to an entry)"
[ $((lo * 100)) -ge $((lt * 98)) ] || fail "only $lo of $lt c_leaf samples unwound fully"

# 2. CPython without frame pointers (Debian's, and pyenv's when installed):
#    agreement with perf on the samples perf unwinds fully.
check_python() { # label interpreter
	local label=$1 py=$2 n full agree end
	perf record -q --call-graph dwarf -e cpu-clock -F 999 -o "$label.data" -- "$py" \
		"$src/pywork.py" 2 >/dev/null 2>&1 || fail "perf record $py"
	./uwdump "$label.data" >"$label.uw" 2>"$label.err" || { cat "$label.err"; fail "uwdump $py"; }
	cat "$label.err"
	perf script -i "$label.data" --no-inline -F tid,time,ip,sym,dso >"$label.ps" 2>/dev/null ||
		fail "perf script $py"
	python3 "$src/compare.py" "$label.uw" "$label.ps" >"$label.cmp" || fail "compare $py"
	cat "$label.cmp"
	n=$(value samples "$label.cmp") full=$(value perf_full "$label.cmp")
	agree=$(value agree "$label.cmp") end=$(value our_end "$label.cmp")
	[ "${n:-0}" -gt 1000 ] || fail "too few $label samples (${n:-0})"
	[ "${full:-0}" -gt $((n / 2)) ] || fail "perf unwound only ${full:-0} of $n samples fully"
	echo "FIGURE unwind $label ($py): agreement with perf $(pct "$agree" "$full")% of $full samples perf unwinds fully"
	echo "FIGURE unwind $label: $(pct "$end" "$n")% of $n samples unwound to _start/thread start (perf: $(pct "$full" "$n")%)"
	[ $((agree * 100)) -ge $((full * 99)) ] || fail "$label: agreement $agree/$full below 99%"
}
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
check_python py "$py"
pyenv=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11*/bin/python3.11 2>/dev/null | head -n 1)
if [ -n "$pyenv" ]; then
	check_python pyenv "$pyenv"
else
	note "no pyenv CPython 3.11: checked Debian's only"
fi
n=$(value samples py.cmp)

# 3. Speed: unwinding alone against perf script's whole run on the same file.
t0=$(date +%s.%N)
./uwdump -b py.data 2>speed.err || fail "uwdump -b"
t1=$(date +%s.%N)
perf script -i py.data -F ip,sym >/dev/null 2>&1
t2=$(date +%s.%N)
cat speed.err
ns=$(sed -n 's/.*cached: \([0-9]*\) ns per sample.*/\1/p' speed.err)
first=$(sed -n 's/.* \([0-9]*\) ns per sample unwinding.*/\1/p' speed.err)
echo "FIGURE unwind: ${ns:-?} ns per sample with files cached (${first:-?} ns including first loads); uwdump (2 passes) $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')s vs perf script $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.3f", b-a}')s on $n samples"
echo "unwind_dwarf: ok"
