#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of `rt-bpf async` on step-heavy programs: asyncio
# (tests/bench/py_async_steps.py: many tiny tasks yielding with
# asyncio.sleep(0)) and, when cargo and Debian's tokio crate are there,
# tokio (tests/e2e/tokio/src/bin/tokbench.rs: tasks yielding with
# yield_now).  Wall time of the stepping under the tracer against without
# it, alternating, ROUNDS times; the ratio is the median of the per-round
# ratios, the cost per step the median of the per-round differences
# divided by the steps.
# Usage: async_overhead.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
py=${PY:-/usr/bin/python3.11}
skip() { echo "async_overhead: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
tmp=$(mktemp -d /tmp/rt-asyncbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# measure LABEL CMD... : prints the FIGURE line for CMD (which prints
# "steps wall_seconds ..." last) run plain and under rt-bpf async
measure() {
	local label=$1 r steps wall rest
	shift
	: >"$tmp/times"
	for r in $(seq "$rounds"); do
		read -r steps wall rest < <("$@" | tail -n 1)
		[ -n "${wall:-}" ] || { echo "async_overhead: $label produced no timing" >&2; exit 1; }
		echo "$r base $steps $wall" >>"$tmp/times"
		read -r steps wall rest < <("$build/rt-bpf" async -- "$@" 2>>"$tmp/rt.err" | tail -n 1)
		[ -n "${wall:-}" ] || { echo "async_overhead: $label traced produced no timing" >&2; exit 1; }
		echo "$r traced $steps $wall" >>"$tmp/times"
	done
	grep -q "steps of" "$tmp/rt.err" || { cat "$tmp/rt.err"; echo "async_overhead: no report" >&2; exit 1; }
	python3 - "$tmp/times" "$label" <<'PY'
import statistics, sys
t = {}
for r, c, steps, wall in (l.split() for l in open(sys.argv[1])):
    t.setdefault(r, {})[c] = (int(steps), float(wall))
steps = next(iter(t.values()))["base"][0]
ratio = statistics.median(v["traced"][1] / v["base"][1] for v in t.values())
cost = statistics.median((v["traced"][1] - v["base"][1]) / steps for v in t.values())
base = statistics.median(v["base"][1] for v in t.values())
print(f"FIGURE async overhead: {sys.argv[2]}, {steps} steps in {base:.2f}s "
      f"({steps / base / 1e3:.0f}k steps/s untraced): rt-bpf async slows the stepping "
      f"{ratio:.2f}x, {cost * 1e9:.0f} ns per step (medians of {len(t)} alternating rounds)")
PY
}

if [ -x "$py" ]; then
	measure "asyncio $(basename "$py")" "$py" "$top/tests/bench/py_async_steps.py" 1000 300
else
	echo "async_overhead: asyncio skipped: no $py"
fi

tokrc=0
tok=$(bash "$top/tests/e2e/tokio/build.sh" "$tmp/tok" 2>"$tmp/tok.err") || tokrc=$?
if [ $tokrc -eq 0 ]; then
	measure "tokio current_thread" "$(dirname "$tok")/tokbench" 1000 1000
elif [ $tokrc -eq 77 ]; then
	echo "async_overhead: tokio skipped: $(tail -n 1 "$tmp/tok.err")"
else
	cat "$tmp/tok.err" >&2
	echo "async_overhead: cannot build tokbench" >&2
	exit 1
fi
