#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The walker's BPF time per sample by stack depth: a recursion 50, 200 and
# 2,000 deep (tests/e2e/workloads/py_recurse.py, rb_deep.rb) in Debian's
# python3.11, pyenv's 3.12 and Debian's ruby3.1, each recorded with
# `rt-bpf record -F 499` for SECONDS; the median and 90th percentile from
# rt-bpf's own histogram of its interpreter samples, and the chunk records
# a deep stack cost (sent once, not per sample).  Then the walker's load
# (verification) CPU with tests/bench/bpfload.c.
# Usage: walker_depth.sh [BUILD_DIR] (called by `make bench`; run it under
# the e2e lock).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
secs=${SECONDS_PER_RUN:-2}
wl=$top/tests/e2e/workloads
skip() { echo "walker_depth: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
tmp=$(mktemp -d /tmp/rt-depthbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for depth in 50 200 2000; do
	for t in python3.11:/usr/bin/python3.11:py_recurse.py \
		python3.12:/root/.pyenv/versions/3.12.1/bin/python3.12:py_recurse.py \
		ruby3.1:/usr/bin/ruby3.1:rb_deep.rb; do
		IFS=: read -r name bin script <<<"$t"
		[ -x "$bin" ] || { echo "walker_depth: no $bin"; continue; }
		"$build/rt-bpf" record -F 499 -o "$tmp/d.data" -- "$bin" "$wl/$script" "$depth" "$secs" \
			>/dev/null 2>"$tmp/err" || { echo "walker_depth: $name $depth: rt-bpf failed"; continue; }
		med=$(sed -n 's/.*interpreter samples: \([0-9]*\) samples, median \([0-9-]*\) us, 90th percentile \([0-9-]*\) us.*/\2 us median, 90th percentile \3 us (\1 samples)/p' "$tmp/err")
		counts=$(grep -o ' stacks=[0-9]*\| truncated=[0-9]*\|stack chunks=[0-9]*' "$tmp/err" |
			sed 's/^ //; s/stack chunks/chunk records/' | tr '\n' ' ')
		echo "FIGURE walker depth $name $depth deep: $med; $counts"
	done
done
# A stack whose layers repeat: ten functions called in a ring
# (workloads/py_cycle.py, rb_cycle.rb), which the walk's table of code
# objects met serves after their first turn.
for depth in 200 2000; do
	for t in python3.11:/usr/bin/python3.11:py_cycle.py ruby3.1:/usr/bin/ruby3.1:rb_cycle.rb; do
		IFS=: read -r name bin script <<<"$t"
		[ -x "$bin" ] || { echo "walker_depth: no $bin"; continue; }
		"$build/rt-bpf" record -F 499 -o "$tmp/d.data" -- "$bin" "$wl/$script" "$depth" "$secs" 10 \
			>/dev/null 2>"$tmp/err" || { echo "walker_depth: $name ring $depth: rt-bpf failed"; continue; }
		med=$(sed -n 's/.*interpreter samples: \([0-9]*\) samples, median \([0-9-]*\) us, 90th percentile \([0-9-]*\) us.*/\2 us median, 90th percentile \3 us (\1 samples)/p' "$tmp/err")
		echo "FIGURE walker depth $name $depth deep, 10 functions in a ring: $med"
	done
done
# The same walk by sampling rate: 200 deep (Ruby 151: ruby_recursion.sh's
# depth), at 99, 199, 499 and 999 Hz.  In one session Ruby's median fell
# from 25-28 us at 99 Hz to 8-11 us at 999 Hz, twice in a row; an hour
# later it was 6-7 us at every rate: the machine's state (its other
# tenants), not the rate, moves it most.
for hz in 99 199 499 999; do
	for t in python3.11:/usr/bin/python3.11:py_recurse.py:200 ruby3.1:/usr/bin/ruby3.1:rb_deep.rb:151; do
		IFS=: read -r name bin script depth <<<"$t"
		[ -x "$bin" ] || { echo "walker_depth: no $bin"; continue; }
		"$build/rt-bpf" record -F "$hz" -o "$tmp/d.data" -- "$bin" "$wl/$script" "$depth" "$secs" \
			>/dev/null 2>"$tmp/err" || { echo "walker_depth: $name at $hz Hz: rt-bpf failed"; continue; }
		med=$(sed -n 's/.*interpreter samples: \([0-9]*\) samples, median \([0-9-]*\) us, 90th percentile \([0-9-]*\) us.*/\2 us median, 90th percentile \3 us (\1 samples)/p' "$tmp/err")
		echo "FIGURE walker depth $name $depth deep at $hz Hz: $med"
	done
done
if cc -O2 -o "$tmp/bpfload" "$top/tests/bench/bpfload.c" -lbpf 2>/dev/null; then
	for i in 1 2 3; do
		"$tmp/bpfload" "$build/bpf/walker.bpf.o" | grep -A1 'load walker' | tr -s ' \n' ' ' |
			sed 's/^STEP /FIGURE walker depth: /; s/$/\n/'
	done
fi
