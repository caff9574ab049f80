#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Recordings cut short are salvaged: a perf.data cut at 60% and at random
# offsets, a pipe cut mid-record, and perf killed with -9 under rt-bpf
# record.  rtmerge folds every complete record before the cut, prints one
# warning naming the file, the offset and the bytes lost, and exits 3; it
# folds at least as many samples as `perf script` prints for the same cut
# file, less a margin of 1% of perf's count (in 7 runs, 35 file cuts and 7
# pipe cuts, rtmerge never folded fewer: perf script loses the round it was
# ordering when it meets the cut, rtmerge flushes it; the margin is slack for
# a sample perf's reader accepts and rtmerge's does not), and the known 7:3
# split of calltree holds.  --strict refuses a cut inside a record (exit 1).
source "$(dirname "$0")/lib.sh"
require_perf
build_progs
cd "$E2E_TMP"

# System-wide, so that perf writes rounds often (perf script delivers a
# cut file's samples round by round) and the files hold tens of thousands
# of samples: calltree and threads for 3 s, every CPU at 4 kHz.
perf record -q -a -g -e cpu-clock -c 250000 -o whole.data -- sh -c \
	'./calltree 3 & ./threads 3 & wait' 2>/dev/null || fail "perf record -a"
size=$(stat -c %s whole.data)
data_off=$(python3 -c 'import struct,sys; print(struct.unpack_from("<Q", open(sys.argv[1],"rb").read(48), 40)[0])' whole.data)

# salvage NAME PATH PIPE [rtmerge args]: rtmerge must exit 3 with one
# warning naming PATH (or <stdin> when PIPE is 1), the offset and the bytes
# lost; prints "folded perf_script offset lost"
salvage() {
	local name=$1 path=$2 pipe=$3 label=$2 rc ps n
	shift 3
	if [ "$pipe" = 1 ]; then
		label='<stdin>'
		"$RTMERGE" "$@" - <"$path" >"$name.folded" 2>"$name.err"
	else
		"$RTMERGE" "$@" "$path" >"$name.folded" 2>"$name.err"
	fi
	rc=$?
	[ "$rc" -eq 3 ] || { cat "$name.err" >&2; fail "$name: exit $rc, expected 3 (salvaged)"; }
	[ "$(grep -c 'warning: .*cut short' "$name.err")" -eq 1 ] ||
		{ cat "$name.err" >&2; fail "$name: expected one cut warning"; }
	grep -Eq "warning: $label: recording cut short at offset [0-9]+ .*, [0-9]+ bytes of an incomplete record lost" \
		"$name.err" || { cat "$name.err" >&2; fail "$name: the warning does not name $label, offset and bytes"; }
	if [ "$pipe" = 1 ]; then
		ps=$(perf script -i - -F comm,tid <"$path" 2>/dev/null | count_comm "$@")
	else
		ps=$(perf script -i "$path" -F comm,tid 2>/dev/null | count_comm "$@")
	fi
	n=$(folded_total "$name.folded")
	read -r off lost < <(sed -n 's/.*cut short at offset \([0-9]*\) .* \([0-9]*\) bytes of an incomplete record lost.*/\1 \2/p' "$name.err")
	echo "$n $ps $off $lost"
}

# count_comm [--comm C]: samples in perf script's output (one "comm tid"
# line each; pipe mode adds the callchain, tab-indented, and a blank line),
# only of comm C if given
count_comm() {
	awk -v c="${2:-}" '$0 != "" && !/^\t/ && (c == "" || $1 == c) { n++ } END { print n + 0 }'
}

# check_share NAME: the 7:3 split of calltree's two branches holds
check_share() {
	local a b share
	a=$(folded_count "$1.folded" '^calltree;.*main;work;branch_a;burn$')
	b=$(folded_count "$1.folded" '^calltree;.*main;work;branch_b;burn$')
	[ $((a + b)) -ge 300 ] || fail "$1: too few calltree samples ($a + $b)"
	share=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / (a + b) }')
	awk -v s="$share" 'BEGIN { exit !(s > 0.62 && s < 0.78) }' ||
		fail "$1: branch_a share $share, expected 0.70+-0.08"
	echo "$share"
}

# margin_ok FOLDED PERF: rtmerge folded at least perf script's count less 1%
margin_ok() { [ $(( $1 * 100 )) -ge $(( $2 * 99 )) ]; }

"$RTMERGE" whole.data >whole.folded 2>whole.err || { cat whole.err; fail "rtmerge whole.data"; }
whole=$(folded_total whole.folded)
share=$(check_share whole) || exit 1
note "whole: $whole samples, share $share"

# 1. Cut at 60%.
head -c $((size * 6 / 10)) whole.data >cut60.data
read -r n ps off lost < <(salvage cut60 cut60.data 0)
[ "$off" -gt "$data_off" ] && [ $((off + lost)) -eq $((size * 6 / 10)) ] ||
	fail "cut60: offset $off + $lost bytes lost is not the cut at $((size * 6 / 10))"
margin_ok "$n" "$ps" || fail "cut60: rtmerge folded $n samples, perf script printed $ps"
[ "$n" -lt "$whole" ] || fail "cut60: $n samples of $whole: nothing was cut?"
share=$(check_share cut60) || exit 1
echo "FIGURE salvage 60%: rtmerge folded $n samples, perf script $ps, of $whole whole (share $share)"
"$RTMERGE" --strict cut60.data >/dev/null 2>strict.err && fail "--strict folded a cut file"
[ $? -eq 1 ] || fail "--strict: exit status"
grep -Eq 'cut60.data: offset [0-9]+: .*(cut short|data ends inside)' strict.err || { cat strict.err; fail "--strict message"; }

# 2. Random offsets in the data section (the seed is printed to replay it).
seed=${SALVAGE_SEED:-$RANDOM}
note "random cuts, SALVAGE_SEED=$seed"
for at in $(python3 -c "import random; r = random.Random($seed); print(*sorted(r.randrange($data_off + 1, $size) for _ in range(4)))"); do
	head -c "$at" whole.data >cut.data
	read -r n ps off lost < <(salvage "cut-$at" cut.data 0)
	[ $((off + lost)) -eq "$at" ] || fail "cut at $at: offset $off + $lost bytes lost"
	margin_ok "$n" "$ps" || fail "cut at $at: rtmerge folded $n samples, perf script printed $ps"
	echo "FIGURE salvage cut at $at of $size bytes: rtmerge folded $n samples, perf script $ps"
done

# 3. A pipe cut mid-record (perf record -o - killed or its reader gone).
perf record -q -a -g -e cpu-clock -c 250000 -o - -- sh -c \
	'./calltree 2 & ./threads 2 & wait' 2>/dev/null >whole.pipe || fail "perf record -o -"
psize=$(stat -c %s whole.pipe)
head -c $((psize * 6 / 10 + 3)) whole.pipe >cut.pipe
read -r n ps off lost < <(salvage pipe cut.pipe 1)
[ $((off + lost)) -eq $((psize * 6 / 10 + 3)) ] && [ "$lost" -gt 0 ] ||
	fail "pipe: offset $off + $lost bytes lost is not the cut"
margin_ok "$n" "$ps" || fail "pipe: rtmerge folded $n samples, perf script printed $ps"
share=$(check_share pipe) || exit 1
echo "FIGURE salvage pipe cut at 60%: rtmerge folded $n samples, perf script $ps (share $share)"
"$RTMERGE" --strict - <cut.pipe >/dev/null 2>&1 && fail "--strict folded a cut pipe"

# 4. perf killed with -9 mid-recording under rt-bpf record: rt-bpf notices
# and exits with a message (not hanging, not killed), the command ends, and
# rtmerge salvages the file (no data size in its header, no features).
RT_BPF=$RT_BUILD/rt-bpf
if [ -x "$RT_BPF" ]; then
	"$RT_BPF" record -F 999 -o killed.data -- ./calltree 8 2>rtbpf.err &
	rtbpf=$!
	# Attached and the command released: then perf writes calltree's samples.
	for _ in $(seq 100); do
		grep -q '^rt-bpf: recording pid' rtbpf.err && break
		sleep 0.1
	done
	perf_pid=$(pgrep -P "$rtbpf" -x perf) || fail "rt-bpf record started no perf"
	sleep 3
	kill -9 "$perf_pid"
	start=$(date +%s%N)
	for _ in $(seq 100); do kill -0 "$rtbpf" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$rtbpf" 2>/dev/null && { kill "$rtbpf"; fail "rt-bpf did not notice perf's death in 10 s"; }
	wait "$rtbpf"
	rc=$?
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	cat rtbpf.err | grep -E 'perf record (exited|failed|was killed)'
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "rt-bpf exit $rc after perf was killed"
	grep -q 'perf record was killed by signal 9' rtbpf.err || fail "rt-bpf did not say perf was killed"
	sleep 0.5
	pgrep -x calltree >/dev/null && fail "the recorded command outlived the recording"
	# The target's name was in the lost feature sections: fold calltree by name.
	read -r n ps off lost < <(salvage killed killed.data 0 --comm calltree)
	grep -q 'no data size in the header' killed.err || fail "killed: no data size not reported"
	grep -q 'choose with -p PID or --comm NAME' killed.err || fail "killed: the lost target not said"
	margin_ok "$n" "$ps" || fail "killed: rtmerge folded $n calltree samples, perf script printed $ps"
	share=$(check_share killed) || exit 1
	echo "FIGURE salvage perf killed -9 under rt-bpf (noticed in $took ms, exit $rc): rtmerge folded $n calltree samples, perf script $ps (share $share)"
else
	note "rt-bpf not built: the kill -9 case is not run"
fi
echo "salvage: ok"
