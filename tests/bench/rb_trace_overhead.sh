#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `rt-bpf trace` on Debian trixie's ruby3.3 in a container (no USDT probes:
# the ec->cfp write breakpoint fallback, docs/trace.md) on a call-heavy
# program (tests/bench/rb_calls.rb: fib(N)): the slowdown against the
# untraced program and against the same program recording itself with a
# TracePoint on :call and :return (the calls and returns the fallback
# records) and on all four method events, medians over ROUNDS rounds of
# ratios of times measured in the same round; the records per second
# rt-bpf sustained and the records lost (the ring buffer's drops), which
# must be none.
# Usage: rb_trace_overhead.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
n=${FIB:-22}
skip() { echo "rb_trace_overhead: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
root=$(bash "$top/scripts/rootfs.sh" --dir trixie)
[ -f "$root/.rtperf-rootfs" ] && [ -x "$root/usr/bin/ruby3.3" ] || skip "no trixie root with ruby3.3"
work=$(mktemp -d "$root/tmp/rt-rbbench.XXXXXX")
tmp=$(mktemp -d /tmp/rt-rbbench.XXXXXX)
trap 'rm -rf "$tmp" "$work"' EXIT
in=${work#"$root"}
cp "$top/tests/bench/rb_calls.rb" "$work/"
rb() { unshare --pid --mount --uts --ipc --fork --mount-proc="$root/proc" chroot "$root" ruby3.3 "$in/rb_calls.rb" "$@"; }

for r in $(seq "$rounds"); do
	read -r base _ < <(rb "$n")
	read -r tpc ncalls < <(rb "$n" --calls)
	read -r tpa nall < <(rb "$n" --all)
	rm -f "$work/go"
	rb "$n" --wait "$in/go" > "$tmp/out" &
	cpid=$!
	pid=""
	for k in $(seq 100); do
		pid=$(pgrep -n -f "^ruby3.3 $in/rb_calls.rb $n --wait" || true)
		[ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || { touch "$work/go"; echo "rb_trace_overhead: ruby3.3 did not start" >&2; exit 1; }
	rm -rf "$tmp/tr"
	"$build/rt-bpf" trace -o "$tmp/tr" -p "$pid" > /dev/null 2> "$tmp/err" &
	tpid=$!
	for k in $(seq 200); do
		grep -q '^rt-bpf: tracing pid' "$tmp/err" && break
		sleep 0.05
	done
	touch "$work/go"
	wait "$tpid" "$cpid"
	read -r rt _ < "$tmp/out"
	records=$(sed -n 's/^rt-bpf: trace: \([0-9]*\) records.*/\1/p' "$tmp/err")
	calls=$(sed -n 's/.* \([0-9]*\) calls,.*/\1/p' "$tmp/err")
	lost=$(sed -n 's/^rt-bpf: warning: \([0-9]*\) records lost.*/\1/p' "$tmp/err")
	[ -n "$records" ] || { cat "$tmp/err"; echo "rb_trace_overhead: no record count" >&2; exit 1; }
	echo "$r $base $tpc $tpa $rt $records ${lost:-0}" >> "$tmp/times"
	echo "rb_trace_overhead: round $r: base ${base}s TracePoint(call, return) ${tpc}s ($ncalls events) TracePoint(all four) ${tpa}s ($nall events) rt-bpf trace ${rt}s ($records records, $calls calls, ${lost:-0} lost)"
done
awk '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ k++; vb[k] = $5 / $2; vc[k] = $5 / $3; va[k] = $5 / $4; cb[k] = $3 / $2; ab[k] = $4 / $2
	  rate[k] = $6 / $5; lost += $7 }
	END {
		printf "FIGURE bench rbtrace: rt-bpf trace (ruby3.3 breakpoint fallback) / untraced %.1fx, / TracePoint(call, return) %.2fx, / TracePoint(all four) %.2fx (fib('"$n"'), medians of %d rounds)\n", median(vb, k), median(vc, k), median(va, k), k
		printf "FIGURE bench rbtrace: TracePoint(call, return) / untraced %.1fx, TracePoint(all four) / untraced %.1fx\n", median(cb, k), median(ab, k)
		printf "FIGURE bench rbtrace: %.0f records/s sustained, %d lost over %d rounds\n", median(rate, k), lost, k
		exit lost > 0
	}' "$tmp/times"
