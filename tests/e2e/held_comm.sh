#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A sample rtmerge holds for its stack record is folded under the comm (and
# maps) of its own moment: rt-bpf record of a shell that spins, then execs
# CPython, which spins and execs the shell again; rtmerge --per-sample's
# root frame for every sample of the target must name the comm perf script
# gives the same sample (tid and time), whatever the filters, also for the
# samples taken just before each exec.
. "$(dirname "$0")/lib.sh"
RTBPF=$RT_BUILD/rt-bpf
PY=/usr/bin/python3.11
require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -x "$PY" ] || skip "no $PY"
cd "$E2E_TMP"

spin='i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done'
pyspin='import os, sys, time
t = time.monotonic() + 0.4
while time.monotonic() < t:
    pass
os.execv("/bin/sh", ["sh", "-c", sys.argv[1]])'
timeout 60 "$RTBPF" record -F 999 -o held.data -- \
	sh -c "$spin; exec $PY -c '$pyspin' '$spin'" 2>rec.log ||
	{ cat rec.log; fail "rt-bpf record"; }
"$RTMERGE" -q --tid --per-sample rt.txt held.data >/dev/null || fail "rtmerge --per-sample"
"$RTMERGE" -q --tid --all-processes --per-sample all.txt held.data >/dev/null ||
	fail "rtmerge --per-sample --all-processes"
perf script -i held.data -F comm,tid,time --ns 2>/dev/null |
	awk '{ t = $NF; sub(/:$/, "", t); sub(/\./, "", t); print $(NF - 1) "@" t, $1 }' |
	sort -u >perf.comm
for f in rt all; do
	awk '{ split($3, a, ";"); r = a[1]; sub(/-[0-9]+\/[0-9]+$/, "", r); print $1 "@" $2, r }' \
		$f.txt | sort >$f.comm
done
target=$(sed -n 's/^rt-bpf: recording pid \([0-9]*\).*/\1/p' rec.log)
[ -n "$target" ] || { cat rec.log; fail "no target pid in rt-bpf's log"; }
join perf.comm rt.comm >joined
n=$(wc -l <joined)
bad=$(awk '$2 != $3' joined | wc -l)
sh_n=$(awk -v p="$target@" '$2 == "sh" && index($1, p) == 1' joined | wc -l)
py_n=$(awk -v p="$target@" '$2 == "python3.11" && index($1, p) == 1' joined | wc -l)
all_bad=$(join perf.comm all.comm | awk '$2 != $3' | wc -l)
echo "FIGURE held_comm: $n target samples compared ($sh_n of the shell, $py_n of python3.11), $bad with another comm than perf's; --all-processes: $all_bad"
[ "$sh_n" -ge 50 ] && [ "$py_n" -ge 100 ] || fail "too few samples on either side of the execs"
[ "$bad" -eq 0 ] && [ "$all_bad" -eq 0 ] ||
	{ awk '$2 != $3' joined | head -5; fail "samples folded under a later comm"; }
echo "PASS: held_comm"
