#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The four ways the reader takes in a file-mode perf.data (RTPERF_READER:
# pread into a buffer, a moving mapped window, the window with a worker
# thread that maps and faults in the next window ahead, and a worker that
# reads the next window into a buffer and indexes its records) must give
# the same folded stacks, on a --call-graph dwarf recording large enough
# for several windows and time-ordering rounds across window ends.
source "$(dirname "$0")/lib.sh"
require_perf
cd "$E2E_TMP"
cc -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -o calltree \
	"$RT_TOP/tests/e2e/progs/calltree.c" || fail "build calltree"
perf record -q --call-graph dwarf -e cpu-clock -F 999 -o big.data -- sh -c \
	'./calltree 3 & ./calltree 3 & wait' 2>/dev/null || fail "perf record"
size=$(stat -c %s big.data)
note "big.data: $((size >> 20)) MiB"
# three 8 MiB windows at the least, so the worker premaps some of them
[ "$size" -gt $((24 << 20)) ] || fail "recording too small for the test ($size bytes)"
for how in read map map-worker read-worker; do
	RTPERF_READER=$how "$RTMERGE" big.data >"folded.$how" 2>"err.$how" ||
		fail "rtmerge with RTPERF_READER=$how: $(tail -n 1 "err.$how")"
done
total=$(folded_total folded.read)
[ "$total" -gt 3000 ] || fail "only $total samples folded"
for how in map map-worker read-worker; do
	cmp -s folded.read "folded.$how" ||
		fail "RTPERF_READER=$how differs from read: $(diff folded.read "folded.$how" | head -4)"
done
echo "ok: $total samples, the same folded stacks from read, map, map-worker and read-worker"
