#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: rtmerge against `perf script > /dev/null` on the same
# system-wide `perf record -a -g` file of at least 100,000 samples and on
# one of about 49,000 (where fixed costs weigh most), as wall-time ratios
# measured in this run, plus rtmerge's peak memory on a
# recording and on one twice as long (memory must follow distinct stacks,
# not file size).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export RT_BUILD=${RT_BUILD:-$top/${1:-build}}
source "$top/tests/e2e/lib.sh"
require_perf
build_progs
cd "$E2E_TMP"

record() { # seconds output
	perf record -q -a -g -e cpu-clock -c 250000 -o "$2" -- sh -c \
		"./calltree $1 & ./threads $1 & ./uselib $1 & wait" 2>/dev/null || fail "perf record"
}
# perf script hands inline-frame lookups to addr2line processes that are
# still running for tens of milliseconds after perf script has exited: wait
# for them (5 s at most), so that no run is timed while the previous one's
# work still holds a CPU.
settle() {
	local i
	for i in $(seq 100); do
		pgrep -x addr2line >/dev/null || return 0
		sleep 0.05
	done
}
measure() { # label command... -> "seconds cpu_seconds maxrss_kb"
	local t0 t1
	settle
	# bash's own clock: a `date` process on each side would add its start-up
	# (about a millisecond each) to every tool's time
	local LC_NUMERIC=C # $EPOCHREALTIME's decimal point
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%e %U %S %M' -o "$E2E_TMP/time.$1" "${@:2}" >/dev/null 2>"$E2E_TMP/err.$1" ||
		{ cat "$E2E_TMP/err.$1"; fail "$1 failed"; }
	t1=$EPOCHREALTIME
	# wall time to the millisecond (time's %e has 10 ms steps); CPU and RSS from time
	tail -n 1 "$E2E_TMP/time.$1" |
		awk -v a="$t0" -v b="$t1" '{ printf "%.3f %.2f %s\n", b - a, $2 + $3, $4 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

record 14 big.data
record 7 half.data
sync big.data half.data # the kernel's writeback of them must not run during the timings
samples=$(perf script -i big.data -F tid 2>/dev/null | wc -l)
echo "bench: $samples samples in big.data ($(du -h big.data | cut -f1))"
[ "$samples" -ge 100000 ] || echo "bench: warning: fewer than 100000 samples"

# Alternate the two tools on file $1, five times each, and compare medians:
# sets ps_s ps_cpu ps_kb rt_s rt_cpu rt_kb ratio cpu_ratio.
race() { # file
	: >ps.runs; : >rt.runs
	for i in 1 2 3 4 5; do
		measure perfscript perf script -i "$1" >>ps.runs
		measure rtmerge "$RTMERGE" "$1" >>rt.runs
	done
	ps_s=$(cut -d' ' -f1 ps.runs | median); ps_cpu=$(cut -d' ' -f2 ps.runs | median)
	rt_s=$(cut -d' ' -f1 rt.runs | median); rt_cpu=$(cut -d' ' -f2 rt.runs | median)
	ps_kb=$(cut -d' ' -f3 ps.runs | median); rt_kb=$(cut -d' ' -f3 rt.runs | median)
	ratio=$(awk -v a="$ps_s" -v b="$rt_s" 'BEGIN { printf "%.1f", a / (b > 0.005 ? b : 0.005) }')
	cpu_ratio=$(awk -v a="$ps_cpu" -v b="$rt_cpu" 'BEGIN { printf "%.1f", a / (b > 0.005 ? b : 0.005) }')
}

# A smaller file, where rtmerge's fixed costs (kernel symbols, tables)
# weigh most: about 49,000 samples, 10 s at 2,500 Hz on two cores.
perf record -q -a -g -e cpu-clock -F 2500 -o small.data -- sh -c \
	"./calltree 10 & ./threads 10 & ./uselib 10 & wait" 2>/dev/null || fail "perf record small"
sync small.data
ssamples=$(perf script -i small.data -F tid 2>/dev/null | wc -l)
race small.data
echo "FIGURE bench fp small: perf script ${ps_s}s, rtmerge ${rt_s}s (medians of 5): rtmerge is ${ratio}x faster in wall time, ${cpu_ratio}x in CPU time ($ssamples samples, $(du -h small.data | cut -f1))"

race big.data
read -r rth_s rth_cpu rth_kb < <(measure rtmerge-half "$RTMERGE" half.data)
echo "FIGURE bench fp: perf script ${ps_s}s, rtmerge ${rt_s}s (medians of 5): rtmerge is ${ratio}x faster in wall time, ${cpu_ratio}x in CPU time ($samples samples)"
echo "FIGURE bench memory: rtmerge peak RSS ${rt_kb} kB on $(du -h big.data | cut -f1), ${rth_kb} kB on $(du -h half.data | cut -f1) (perf script ${ps_kb} kB)"

# --call-graph dwarf: rtmerge's own unwinding against perf script (libdw) on
# at least 30,000 samples of interpreters and a C program, none with frame
# pointers (Debian's python3.11, pyenv's 3.11.7 when present).
nofp="-O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls"
cc $nofp -o calltree-nofp "$RT_TOP/tests/e2e/progs/calltree.c" || fail "build calltree-nofp"
cat >pywork.py <<'PY'
import json, sys, time, zlib
def leaf(n):
    return zlib.compress(json.dumps(list(range(n))).encode(), 6)
def recurse(depth, n):
    return leaf(n) if depth == 0 else recurse(depth - 1, n)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    recurse(30, 300)
PY
py1=/usr/bin/python3.11; [ -x "$py1" ] || py1=$(command -v python3)
py2=/root/.pyenv/versions/3.11.7/bin/python3.11; [ -x "$py2" ] || py2=$py1
perf record -q --call-graph dwarf -e cpu-clock -F 999 -o dwarf.data -- sh -c \
	"$py1 pywork.py 17 & $py2 pywork.py 17 & ./calltree-nofp 17 & wait" 2>/dev/null ||
	fail "perf record dwarf"
sync dwarf.data # the kernel's writeback of it must not run during the timings
dsamples=$(perf script -i dwarf.data -F tid 2>/dev/null | wc -l)
echo "bench: $dsamples samples in dwarf.data ($(du -h dwarf.data | cut -f1))"
[ "$dsamples" -ge 30000 ] || echo "bench: warning: fewer than 30000 samples"
# perf script shows inlined functions by default; rtmerge with --inline.
: >dps.runs; : >drt.runs; : >dri.runs
for i in 1 2 3 4 5; do
	measure perfscript-dwarf perf script -i dwarf.data >>dps.runs
	measure rtmerge-dwarf "$RTMERGE" dwarf.data >>drt.runs
	measure rtmerge-dwarf-inline "$RTMERGE" --inline dwarf.data >>dri.runs
done
dps_s=$(cut -d' ' -f1 dps.runs | median); dps_cpu=$(cut -d' ' -f2 dps.runs | median)
drt_s=$(cut -d' ' -f1 drt.runs | median); drt_cpu=$(cut -d' ' -f2 drt.runs | median)
dps_kb=$(cut -d' ' -f3 dps.runs | median); drt_kb=$(cut -d' ' -f3 drt.runs | median)
dratio=$(awk -v a="$dps_s" -v b="$drt_s" 'BEGIN { printf "%.1f", a / (b > 0.005 ? b : 0.005) }')
dcpu=$(awk -v a="$dps_cpu" -v b="$drt_cpu" 'BEGIN { printf "%.1f", a / (b > 0.005 ? b : 0.005) }')
entry=$(sed -n 's/.* to the process or thread entry (\([0-9.]*\)%).*/\1/p' "$E2E_TMP/err.rtmerge-dwarf")
echo "FIGURE bench dwarf: perf script ${dps_s}s, rtmerge ${drt_s}s (medians of 5): rtmerge is ${dratio}x faster in wall time, ${dcpu}x in CPU time ($dsamples samples, ${entry}% unwound to the process or thread entry, rtmerge peak RSS ${drt_kb} kB, perf script ${dps_kb} kB)"
dri_s=$(cut -d' ' -f1 dri.runs | median); dri_cpu=$(cut -d' ' -f2 dri.runs | median)
dri_kb=$(cut -d' ' -f3 dri.runs | median)
iratio=$(awk -v a="$dps_s" -v b="$dri_s" 'BEGIN { printf "%.1f", a / (b > 0.005 ? b : 0.005) }')
icpu=$(awk -v a="$dps_cpu" -v b="$dri_cpu" 'BEGIN { printf "%.1f", a / (b > 0.005 ? b : 0.005) }')
inl=$(sed -n 's/^rtmerge: \([0-9]*\) of them inlined functions.*/\1/p' "$E2E_TMP/err.rtmerge-dwarf-inline")
echo "FIGURE bench inline: perf script ${dps_s}s (inlined frames on, its default), rtmerge --inline ${dri_s}s (medians of 5): rtmerge is ${iratio}x faster in wall time, ${icpu}x in CPU time ($dsamples samples, ${inl} inlined frames, rtmerge peak RSS ${dri_kb} kB)"

# CPython under rt-bpf: slowdown at 99 and 999 Hz against no profiling
bash "$top/tests/bench/py_overhead.sh" "${1:-build}"
bash "$top/tests/bench/async_overhead.sh" "${1:-build}"
bash "$top/tests/bench/offcpu_overhead.sh" "${1:-build}"
bash "$top/tests/bench/offcpu_service.sh" "${1:-build}"
