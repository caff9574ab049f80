#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf's own cost with many processes on the host: N idle processes
# (default 2,000, tests/bench/idlers.c), then `rt-bpf record -a -F 99` for
# SECS seconds (default 10).  Reports the CPU time of the rt-bpf process
# itself (every thread of it, from /proc/PID/task/*/schedstat, its perf
# child excluded) beside its perf child's, both as a share of one CPU over
# the whole run; rt-bpf's start-up (loading its BPF programs, the first
# /proc scan: its first 2 s) and its steady share after that; and rt-bpf's
# peak RSS (VmHWM).  First, what the start-up's main steps cost on their
# own (tests/bench/bpfload.c: the kernel BTF parse, then loading each of
# rt-bpf's BPF objects, with the verifier's time for each).
#   bash tests/bench/discovery.sh [BUILD] (N=2000 SECS=10 by default)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export RT_BUILD=${RT_BUILD:-$top/${1:-build}}
source "$top/tests/e2e/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
N=${N:-2000}
SECS=${SECS:-10}
cd "$E2E_TMP"
cc -O2 -o idlers "$top/tests/bench/idlers.c" || fail "build idlers"
cc -O2 -o bpfload "$top/tests/bench/bpfload.c" -lbpf || fail "build bpfload"
./bpfload "$RT_BUILD"/bpf/{walker,perffd,discovery}.bpf.o | sed 's/^STEP/FIGURE bench discovery start-up step:/' ||
	fail "loading rt-bpf's BPF objects"

idlers_pid= rt_pid=
cleanup() {
	[ -n "$rt_pid" ] && kill -KILL "$rt_pid" 2>/dev/null
	[ -n "$idlers_pid" ] && kill -TERM "$idlers_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

# ns of CPU used so far by every thread of process $1
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }

coproc IDLERS { exec ./idlers "$N"; }
idlers_pid=$IDLERS_PID
read -r -t 120 line <&"${IDLERS[0]}" && [ "$line" = ready ] || fail "idlers did not start"
nprocs=$(ls -d /proc/[0-9]* | wc -l)

"$RTBPF" record -a -F 99 -o rec.data 2>rt.err &
rt_pid=$!
perf_pid=
for i in $(seq 100); do
	perf_pid=$(pgrep -P "$rt_pid" -x perf | head -n 1)
	[ -n "$perf_pid" ] && break
	sleep 0.05
done
[ -n "$perf_pid" ] || { cat rt.err; fail "no perf child of rt-bpf"; }
t0=$(date +%s%N)
sleep 2
rt2_ns=$(cpu_ns "$rt_pid")
t2=$(date +%s%N)
sleep $((SECS - 2))
rt_ns=$(cpu_ns "$rt_pid")
perf_ns=$(cpu_ns "$perf_pid")
t1=$(date +%s%N)
rss_kb=$(awk '/^VmHWM/ { print $2 }' /proc/"$rt_pid"/status)
kill -INT "$rt_pid"
wait "$rt_pid" || { cat rt.err; fail "rt-bpf record failed"; }
rt_pid=
# rt-bpf's time counts from its start, a little before t0: the share is of
# the wall time from t0, so it can only be overstated
awk -v rt="$rt_ns" -v rt2="$rt2_ns" -v pf="$perf_ns" -v w=$((t1 - t0)) -v w2=$((t1 - t2)) \
	-v n="$nprocs" -v kb="$rss_kb" -v s="$SECS" 'BEGIN {
	printf "FIGURE bench discovery: %d processes, rt-bpf record -a -F 99 for %d s: rt-bpf %.3f s CPU (%.2f%% of one CPU), its perf child %.3f s (%.2f%%); rt-bpf peak RSS %d kB\n",
		n, s, rt / 1e9, 100 * rt / w, pf / 1e9, 100 * pf / w, kb
	printf "FIGURE bench discovery steady: rt-bpf start-up (first 2 s) %.3f s CPU, then %.3f%% of one CPU\n",
		rt2 / 1e9, 100 * (rt - rt2) / w2
}'
