#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `rt-bpf trace` on a call-heavy program (tests/bench/py_calls.py: fib(N),
# every call traced with its lines) with Debian's /usr/bin/python3.11 (or
# the interpreter PY names: one without USDT probes, such as pyenv's, is
# traced by the uprobe fallback, calls and returns without lines): the
# slowdown against the untraced program and against the same program
# recording itself with sys.settrace (calls, returns, lines) and with
# sys.setprofile (calls and returns), medians over ROUNDS rounds of ratios
# of times measured in the same round; and the records per second rt-bpf
# sustained (records / traced computation time), with the records lost
# (the ring buffer's drops), which must be none.
# Usage: [PY=python] trace_overhead.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
n=${FIB:-24}
py=${PY:-/usr/bin/python3.11}
work=$top/tests/bench/py_calls.py
skip() { echo "trace_overhead: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$py" ] || skip "no $py"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
tmp=$(mktemp -d /tmp/rt-tracebench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for r in $(seq "$rounds"); do
	read -r base _ < <("$py" "$work" "$n")
	read -r st events < <("$py" "$work" "$n" --settrace)
	read -r sp pevents < <("$py" "$work" "$n" --setprofile)
	rm -rf "$tmp/tr"
	"$build/rt-bpf" trace -o "$tmp/tr" -- "$py" "$work" "$n" >"$tmp/out" 2>"$tmp/err"
	read -r rt _ < "$tmp/out"
	records=$(sed -n 's/^rt-bpf: trace: \([0-9]*\) records.*/\1/p' "$tmp/err")
	lost=$(sed -n 's/^rt-bpf: warning: \([0-9]*\) records lost.*/\1/p' "$tmp/err")
	[ -n "$records" ] || { cat "$tmp/err"; echo "trace_overhead: no record count" >&2; exit 1; }
	echo "$r $base $st $rt $records ${lost:-0} $events $sp" >> "$tmp/times"
	echo "trace_overhead: round $r ($py): base ${base}s settrace ${st}s ($events events) setprofile ${sp}s ($pevents events) rt-bpf trace ${rt}s ($records records, ${lost:-0} lost; $(sed -n 's/.* \([0-9]*\) calls,.*/\1/p' "$tmp/err") calls)"
done
awk '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ k++; vb[k] = $4 / $2; vs[k] = $4 / $3; sb[k] = $3 / $2; rate[k] = $5 / $4; lost += $6
	  vp[k] = $4 / $8; pb[k] = $8 / $2 }
	END {
		printf "FIGURE bench trace: rt-bpf trace / untraced %.1fx, sys.settrace recorder / untraced %.1fx, rt-bpf trace / sys.settrace %.2fx (fib('"$n"'), '"$py"', medians of %d rounds)\n", median(vb, k), median(sb, k), median(vs, k), k
		printf "FIGURE bench trace: sys.setprofile recorder / untraced %.1fx, rt-bpf trace / sys.setprofile %.2fx\n", median(pb, k), median(vp, k)
		printf "FIGURE bench trace: %.0f records/s sustained, %d lost over %d rounds\n", median(rate, k), lost, k
		exit lost > 0
	}' "$tmp/times"
