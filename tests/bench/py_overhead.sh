#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Slowdown of a CPU-bound pure-Python program (tests/bench/py_nbody.py, a
# fixed number of n-body steps, ~4 s) under `rt-bpf record` at 99 and 999 Hz
# per CPU, against no profiling, in the same run; `perf record` alone with
# the same events at the same rates separates perf's cost from the walker's.
# The five configurations alternate, ROUNDS times; each ratio is the median
# over rounds of (time under profiling / baseline time of the same round).
# Usage: py_overhead.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-7}
steps=${STEPS:-1350000}
py=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x "$py" ] || py=/usr/bin/python3.11
work=$top/tests/bench/py_nbody.py
skip() { echo "py_overhead: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$py" ] || skip "no CPython 3.11"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
command -v perf >/dev/null || skip "perf is not installed"
tmp=$(mktemp -d /tmp/rt-pybench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { # config -> "wall cpu" of the computation
	case $1 in
	base) "$py" "$work" "$steps" ;;
	perf99 | perf999)
		perf record -q -a -g -k mono -e cpu-clock -F "${1#perf}" \
			-e 'bpf-output/no-inherit,name=rt/' -o "$tmp/p.data" -- "$py" "$work" "$steps" 2>/dev/null ;;
	rt99 | rt999)
		"$build/rt-bpf" record -F "${1#rt}" -o "$tmp/r.data" -- "$py" "$work" "$steps" \
			2>>"$tmp/rt.err" ;;
	esac | tail -n 1
}

configs=(base perf99 rt99 perf999 rt999)
for r in $(seq "$rounds"); do
	# rotate the order so no configuration always runs first
	k=$(((r - 1) % ${#configs[@]}))
	order=("${configs[@]:k}" "${configs[@]:0:k}")
	for c in "${order[@]}"; do
		read -r wall cpu < <(run "$c")
		[ -n "${wall:-}" ] || { echo "py_overhead: $c produced no timing" >&2; exit 1; }
		echo "$r $c $wall $cpu" >>"$tmp/times"
	done
	echo "py_overhead: round $r: $(awk -v r="$r" '$1 == r { printf "%s %ss  ", $2, $3 }' "$tmp/times")"
done

python3 - "$tmp/times" "$py" "$steps" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
t = {}
for r, c, wall, cpu in rows:
    t.setdefault(int(r), {})[c] = (float(wall), float(cpu))
def ratio(c, k):
    return statistics.median(t[r][c][k] / t[r]["base"][k] for r in t)
base = statistics.median(t[r]["base"][0] for r in t)
label = sys.argv[2].split("/")[-1] + (" (pyenv)" if "pyenv" in sys.argv[2] else "")
print(f"py_overhead: {label}, {sys.argv[3]} n-body steps, baseline median {base:.2f}s, {len(t)} rounds")
def best(c):
    # other load only adds time: the fastest run is the least disturbed one
    return min(t[r][c][0] for r in t)
spread = (max(t[r]["base"][0] for r in t) / best("base") - 1) * 100
print(f"py_overhead: baseline runs spread {spread:.0f}% above the fastest (load from other work)")
for hz in ("99", "999"):
    p, r = ratio("perf" + hz, 0), ratio("rt" + hz, 0)
    pc, rc = ratio("perf" + hz, 1), ratio("rt" + hz, 1)
    print(f"FIGURE python overhead {hz} Hz: rt-bpf record {100 * (r - 1):+.1f}% wall "
          f"({100 * (rc - 1):+.1f}% CPU), perf record alone {100 * (p - 1):+.1f}% wall "
          f"({100 * (pc - 1):+.1f}% CPU) (medians of per-round ratios against no profiling); "
          f"best runs: rt-bpf {100 * (best('rt' + hz) / best('base') - 1):+.1f}%, "
          f"perf alone {100 * (best('perf' + hz) / best('base') - 1):+.1f}%")
PY
# The walker's own share of a CPU follows from the kernel's BPF statistics:
# mean run time per sample times samples per second.
ns=$(sed -n 's/.*BPF run time: \([0-9]*\) runs, mean \([0-9]*\) ns.*/\1 \2/p' "$tmp/rt.err" |
	sort -n | tail -1 | cut -d' ' -f2)
[ -n "$ns" ] && awk -v ns="$ns" 'BEGIN { printf "FIGURE python overhead walker CPU share: %.2f%% of a CPU at 999 Hz, %.3f%% at 99 Hz (mean %d ns per sample over all processes, longest 999 Hz run)\n", ns * 999 / 1e7, ns * 99 / 1e7, ns }'
true
