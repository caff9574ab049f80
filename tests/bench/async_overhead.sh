#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of `rt-bpf async` on a step-heavy asyncio program
# (tests/bench/py_async_steps.py: many tiny tasks yielding with
# asyncio.sleep(0)): wall time of the stepping under the tracer against
# without it, alternating, ROUNDS times; the ratio is the median of the
# per-round ratios, the cost per step the median of the per-round
# differences divided by the steps.
# Usage: async_overhead.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
py=${PY:-/usr/bin/python3.11}
work=$top/tests/bench/py_async_steps.py
skip() { echo "async_overhead: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$py" ] || skip "no $py"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
tmp=$(mktemp -d /tmp/rt-asyncbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { # config -> "steps wall cpu"
	case $1 in
	base) "$py" "$work" 1000 300 ;;
	traced) "$build/rt-bpf" async -- "$py" "$work" 1000 300 2>>"$tmp/rt.err" ;;
	esac | tail -n 1
}

for r in $(seq "$rounds"); do
	for c in base traced; do
		read -r steps wall cpu < <(run "$c")
		[ -n "${wall:-}" ] || { echo "async_overhead: $c produced no timing" >&2; exit 1; }
		echo "$r $c $steps $wall $cpu" >>"$tmp/times"
	done
done
grep -q "steps of" "$tmp/rt.err" || { cat "$tmp/rt.err"; echo "async_overhead: no report" >&2; exit 1; }
python3 - "$tmp/times" "$py" <<'PY'
import statistics, sys
t = {}
for r, c, steps, wall, cpu in (l.split() for l in open(sys.argv[1])):
    t.setdefault(r, {})[c] = (int(steps), float(wall))
steps = next(iter(t.values()))["base"][0]
ratio = statistics.median(v["traced"][1] / v["base"][1] for v in t.values())
cost = statistics.median((v["traced"][1] - v["base"][1]) / steps for v in t.values())
base = statistics.median(v["base"][1] for v in t.values())
print(f"FIGURE async overhead: {sys.argv[2].split('/')[-1]}, {steps} steps in {base:.2f}s "
      f"({steps / base / 1e3:.0f}k steps/s untraced): rt-bpf async slows the stepping "
      f"{ratio:.2f}x, {cost * 1e9:.0f} ns per step (medians of {len(t)} alternating rounds)")
PY
