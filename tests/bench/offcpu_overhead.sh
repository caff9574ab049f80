#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of rt-bpf record --off-cpu on its worst case: two Python threads
# ping-ponging over pipes (tests/bench/pingpong.py), every round trip two
# switches out per thread.  The two threads are pinned to one CPU (CPU, default 1;
# perf and rt-bpf stay free to run on the others): unpinned, the baseline
# alone moves by a factor of 3 with whether the scheduler puts them on one
# CPU or two.  Configurations, alternating ROUNDS times: no
# profiling, rt-bpf record (on-CPU samples only), rt-bpf record --off-cpu;
# each slowdown is the median over rounds of (time / the round's baseline).
# The off-CPU program's BPF time per scheduler switch comes from the kernel's
# statistics (every switch of the system runs it; the walked ones cost more).
# Usage: offcpu_overhead.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/bench/rounds.bash"
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
trips=${TRIPS:-300000}
py=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x "$py" ] || py=/usr/bin/python3.11
work=$top/tests/bench/pingpong.py
cpu=${CPU:-1}
skip() { echo "offcpu_overhead: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$py" ] || skip "no CPython 3.11"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
command -v perf >/dev/null || skip "perf is not installed"
command -v taskset >/dev/null || skip "taskset is not installed"
cmd=(taskset -c "$cpu" "$py" "$work" "$trips")
tmp=$(mktemp -d /tmp/rt-offbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { # config -> seconds of the round trips
	case $1 in
	base) "${cmd[@]}" ;;
	rt) "$build/rt-bpf" record -F 99 -o "$tmp/r.data" -- "${cmd[@]}" 2>>"$tmp/rt.err" ;;
	off) "$build/rt-bpf" record --off-cpu -F 99 -o "$tmp/o.data" -- "${cmd[@]}" 2>>"$tmp/off.err" ;;
	pre) "$RT_BPF_BEFORE" record --off-cpu -F 99 -o "$tmp/p.data" -- "${cmd[@]}" 2>>"$tmp/pre.err" ;;
	esac | tail -n 1 | cut -d' ' -f1
}

bench_rounds offcpu_overhead "$rounds" "$tmp/times" "produced no timing" || exit 1
bench_slowdowns "$tmp/times" "offcpu_overhead: $trips round trips on one CPU, baseline median {base:.3f}s \
({us_each:.1f} us per round trip), {rounds} rounds" "offcpu pingpong" "$trips"
# the kernel's statistics: every switch of the system, and the walked ones
# bpf_time ERR-FILE LABEL: the FIGURE line of one build's runs
bpf_time() {
	sed -n 's/.*off-CPU program: \([0-9]*\) scheduler switches, mean \([0-9]*\) ns each.*/\1 \2/p' \
		"$1" | sort -n | tail -1 | while read -r n ns; do
		walked=$(sed -n 's/.*off-CPU: switches out=\([0-9]*\),.*/\1/p' "$1" | sort -n | tail -1)
		awk -v n="$n" -v ns="$ns" -v w="$walked" -v l="$2" 'BEGIN { printf "FIGURE offcpu BPF time per scheduler switch%s: mean %d ns over %d switches of the system, %d ns per switch out of a walked thread (%d, all the program'"'"'s time charged to them)\n", l, ns, n, n * ns / w, w }'
	done
}
bpf_time "$tmp/off.err" ""
[ -s "$tmp/pre.err" ] && bpf_time "$tmp/pre.err" " (RT_BPF_BEFORE's build)"
summed_share "$tmp/off.err" "offcpu pingpong"
true
