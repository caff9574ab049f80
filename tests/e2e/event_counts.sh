#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record -e EVENT (Debian's python3.11, which carries sdt_python
# probes): a program makes exactly N writes from write_a and M from write_b
# and K collections from collect_k; rtmerge --event syscalls:sys_enter_write
# counts exactly N and M under those functions, --event sdt_python:gc__start
# exactly K under collect_k; --leaf-field count (libtraceevent, the file's
# own formats) ends write_a's N stacks in count=100 and write_b's M in
# count=7, and --per-sample prints the fields; the USDT probe rt-bpf
# defined is gone afterwards.  With Debian's ruby3.1: K full collections
# from collect_k give exactly K sdt_ruby:gc__mark__begin samples under it
# (the probe is libruby's, found through the executable's libraries).
. "$(dirname "$0")/lib.sh"
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads
PY=/usr/bin/python3.11
N=1234 M=567 K=89

require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
[ -x "$PY" ] || skip "no $PY"
readelf -n "$PY" 2>/dev/null | grep -q gc__start || skip "$PY has no sdt_python:gc__start note"
[ -e /sys/kernel/tracing/events/sdt_python/gc__start ] && skip "sdt_python:gc__start is defined already"

timeout 60 "$RTBPF" record -e syscalls:sys_enter_write -e sdt_python:gc__start -F 99 \
	-o "$E2E_TMP/ev.data" -- "$PY" "$WORKLOADS/event_counts.py" $N 100 $M 7 $K \
	2>"$E2E_TMP/ev.log" || { cat "$E2E_TMP/ev.log" >&2; fail "rt-bpf record -e"; }
[ -e /sys/kernel/tracing/events/sdt_python/gc__start ] &&
	fail "the sdt_python:gc__start probe rt-bpf defined is still there"

count() { # EVENT FUNCTION -> samples with FUNCTION in their stack
	"$RTMERGE" --event "$1" --no-lines "$E2E_TMP/ev.data" 2>/dev/null |
		awk -v f="$2 (" '{ n = $NF; if (index($0, f)) s += n } END { print s + 0 }'
}
a=$(count syscalls:sys_enter_write write_a)
b=$(count syscalls:sys_enter_write write_b)
k=$(count sdt_python:gc__start collect_k)
echo "FIGURE events: sys_enter_write under write_a $a (made $N), under write_b $b (made $M); sdt_python:gc__start under collect_k $k (made $K)"
if [ "$a" -ne $N ] || [ "$b" -ne $M ]; then
	# what rt-bpf and rtmerge counted: lost or unpaired stack records
	grep -E 'lost|samples=' "$E2E_TMP/ev.log" >&2
	"$RTMERGE" --event syscalls:sys_enter_write "$E2E_TMP/ev.data" 2>&1 >/dev/null | head -4 >&2
	fail "write counts $a and $b, expected $N and $M"
fi
[ "$k" -eq $K ] || fail "gc__start count $k, expected $K"
# the byte count of each write as the leaf
leaf=$("$RTMERGE" --event syscalls:sys_enter_write --leaf-field count --no-lines "$E2E_TMP/ev.data" \
	2>/dev/null | awk '{ n = $NF; $NF = ""; sub(/ $/, "")
	if (index($0, "write_a (") && $0 ~ /;count=100$/) a += n
	if (index($0, "write_b (") && $0 ~ /;count=7$/) b += n } END { print a + 0, b + 0 }')
echo "FIGURE events: --leaf-field count: write_a's writes ending in count=100: ${leaf% *}, write_b's in count=7: ${leaf#* }"
[ "$leaf" = "$N $M" ] || fail "--leaf-field count gave $leaf, expected $N $M"
"$RTMERGE" --event syscalls:sys_enter_write --per-sample "$E2E_TMP/ps.txt" "$E2E_TMP/ev.data" \
	>/dev/null 2>&1 || fail "rtmerge --per-sample"
grep -q 'write_a (.*	 __syscall_nr=write fd=[0-9]* buf=[0-9]* count=100$' "$E2E_TMP/ps.txt" ||
	fail "--per-sample lines lack the tracepoint's fields"
# every write sample ends in its count, also those that carry no
# interpreter stack (other processes' writes, held for a stack record that
# never comes)
leaves=$("$RTMERGE" --all-processes --event syscalls:sys_enter_write --leaf-field count \
	"$E2E_TMP/ev.data" 2>/dev/null | awk '{ n = $NF; $NF = ""; sub(/ $/, ""); t += n
	if ($0 ~ /;count=[0-9]+$/) c += n } END { print c + 0, t + 0 }')
echo "FIGURE events: --leaf-field count --all-processes: ${leaves% *} of ${leaves#* } write samples with their count"
[ "${leaves% *}" = "${leaves#* }" ] || fail "write samples without their count leaf: $leaves"
# the stack records of the events not folded are left out with their
# samples, not counted as records that found no sample (but for samples
# perf lost, its buffer full: their records stay alone)
clock=$("$RTMERGE" --all-processes --event cpu-clock "$E2E_TMP/ev.data" 2>/dev/null | folded_total /dev/stdin)
for e in syscalls:sys_enter_write sdt_python:gc__start cpu-clock; do
	"$RTMERGE" --event $e "$E2E_TMP/ev.data" 2>"$E2E_TMP/none.err" >/dev/null ||
		fail "rtmerge --event $e"
	none=$(sed -n 's/.*interpreter stack records (joined to their native samples; \([0-9]*\) found none).*/\1/p' \
		"$E2E_TMP/none.err")
	lost=$(sed -n 's/.* \([0-9]*\) samples lost (LOST_SAMPLES).*/\1/p' "$E2E_TMP/none.err")
	echo "FIGURE events: --event $e: ${none:-no} stack records without their sample (of $clock cpu-clock samples; perf lost ${lost:-?})"
	[ -n "$none" ] && [ "$none" -le "${lost:-0}" ] ||
		fail "--event $e: ${none:-no summary of} stack records found no sample"
done
# a plain perf recording of that one event (its samples carry no id), in a
# file and through a pipe (the formats come in the stream)
writes='import os; fd = os.open("/dev/null", os.O_WRONLY); [os.write(fd, b"1234567") for _ in range(50)]'
perf record -q -e syscalls:sys_enter_write -o "$E2E_TMP/one.data" -- "$PY" -c "$writes" \
	2>/dev/null || fail "perf record -e syscalls:sys_enter_write"
one=$("$RTMERGE" --leaf-field count "$E2E_TMP/one.data" 2>/dev/null | folded_count /dev/stdin ';count=7$')
perf record -q -e syscalls:sys_enter_write -o - -- "$PY" -c "$writes" 2>/dev/null |
	"$RTMERGE" --leaf-field count - >"$E2E_TMP/pipe.folded" 2>/dev/null ||
	fail "perf record -o - | rtmerge --leaf-field count -"
piped=$(folded_count "$E2E_TMP/pipe.folded" ';count=7$')
echo "FIGURE events: plain perf, one event: $one writes of 7 bytes with their count (made 50), through a pipe $piped"
[ "$one" -ge 50 ] || fail "one-event recording: $one writes ending in count=7, expected 50"
[ "$piped" -ge 50 ] || fail "piped recording: $piped writes ending in count=7, expected 50"
RUBY=/usr/bin/ruby3.1
if [ -x "$RUBY" ] && [ ! -e /sys/kernel/tracing/events/sdt_ruby/gc__mark__begin ]; then
	timeout 60 "$RTBPF" record -e sdt_ruby:gc__mark__begin -F 99 -o "$E2E_TMP/rb.data" -- \
		"$RUBY" "$WORKLOADS/event_gc.rb" 40 2>"$E2E_TMP/rb.log" ||
		{ cat "$E2E_TMP/rb.log" >&2; fail "rt-bpf record -e sdt_ruby:gc__mark__begin"; }
	[ -e /sys/kernel/tracing/events/sdt_ruby/gc__mark__begin ] &&
		fail "the sdt_ruby:gc__mark__begin probe rt-bpf defined is still there"
	rb=$("$RTMERGE" --event sdt_ruby:gc__mark__begin --no-lines "$E2E_TMP/rb.data" 2>/dev/null |
		awk '{ n = $NF; if (index($0, ";collect_k (")) s += n } END { print s + 0 }')
	echo "FIGURE events: sdt_ruby:gc__mark__begin under collect_k $rb (made 40)"
	[ "$rb" -eq 40 ] || fail "gc__mark__begin count $rb, expected 40"
else
	echo "-- no $RUBY (or its probe is defined already): the Ruby USDT case is not run"
fi
# Ctrl-C while rt-bpf defines the probe or starts: the probe is removed
# (it stayed defined, and every later run took it as the user's)
timeout 60 "$RTBPF" record -e sdt_python:gc__start -o "$E2E_TMP/int.data" -- "$PY" -c 'pass' \
	>/dev/null 2>"$E2E_TMP/int.log" & rt=$!
sleep 0.05
kill -INT "$rt"
wait "$rt" || true
[ -e /sys/kernel/tracing/events/sdt_python/gc__start ] &&
	{ cat "$E2E_TMP/int.log"; fail "Ctrl-C at the start left the sdt_python:gc__start probe defined"; }
# -d while the target still writes: the event's program is detached when
# the recording ends, not left to walk every write of perf's shutdown into
# a channel no longer read (73,930 "output errors" of 132,518 samples)
timeout 60 "$RTBPF" record -e syscalls:sys_enter_write -F 99 -d 1 -o "$E2E_TMP/d.data" -- \
	"$PY" -c 'import os
while True: os.write(1, b"x")' >/dev/null 2>"$E2E_TMP/d.log" ||
	{ cat "$E2E_TMP/d.log" >&2; fail "rt-bpf record -e -d"; }
oe=$(sed -n 's/.* output errors=\([0-9]*\).*/\1/p' "$E2E_TMP/d.log")
echo "FIGURE events: -d 1 of a busy writer: output errors=$oe"
[ "$oe" = 0 ] || { cat "$E2E_TMP/d.log"; fail "-e -d: $oe output errors"; }
echo "PASS: event_counts"
