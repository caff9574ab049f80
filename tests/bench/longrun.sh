#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A long recording of a churning target (tests/bench/longrun_churn.py:
# threads of a few milliseconds, code objects made and freed, a child
# interpreter every two seconds): `rt-bpf record -F RATE -- python3.11
# longrun_churn.py SECS`, rt-bpf's resident memory read every 10 s, then
# what rt-bpf and rtmerge say was lost.  Memory must stay bounded: the last
# reading may not exceed twice the one after the first minute.
#   bash tests/bench/longrun.sh [BUILD]   (SECS=600 RATE=999 by default)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export RT_BUILD=${RT_BUILD:-$top/${1:-build}}
source "$top/tests/e2e/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "no /usr/bin/python3.11"
SECS=${SECS:-600}
RATE=${RATE:-999}
cd "$E2E_TMP"

"$RTBPF" record -F "$RATE" -o long.data -- "$PY" "$top/tests/bench/longrun_churn.py" "$SECS" \
	>target.out 2>rt.err &
rt_pid=$!
: >rss.txt
t0=$(date +%s)
while kill -0 "$rt_pid" 2>/dev/null; do
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$rt_pid"/status 2>/dev/null)
	hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$rt_pid"/status 2>/dev/null)
	[ -n "$rss" ] && echo "$(($(date +%s) - t0)) $rss $hwm" >>rss.txt
	sleep 10
done
wait "$rt_pid" || { cat rt.err; fail "rt-bpf record failed"; }
cat target.out
grep -E 'lost|samples' rt.err | sed 's/^/  /'
"$RTMERGE" -o long.folded long.data 2>merge.err || { cat merge.err; fail "rtmerge failed"; }
grep -E 'lost|samples read' merge.err | sed 's/^/  /'
awk -v secs="$SECS" '
	{ t[NR] = $1; r[NR] = $2; if ($3 > hwm) hwm = $3 }
	$1 >= 60 && !first { first = $2 }
	END {
		printf "FIGURE longrun: rt-bpf resident memory over %d s: %d kB after the first minute, %d kB at the end (%d readings), peak %d kB\n", secs, first, r[NR], NR, hwm
		if (first && r[NR] > 2 * first) { print "longrun: rt-bpf memory grew more than twice"; exit 1 }
	}' rss.txt || fail "rt-bpf's memory is not bounded"
echo "FIGURE longrun: perf.data $(du -h long.data | cut -f1), $(awk '{ s += $NF } END { print s }' long.folded) samples folded"
