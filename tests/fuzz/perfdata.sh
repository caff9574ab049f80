#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of the perf.data reader, seeded with
# real recordings in file and pipe mode.  RT_FUZZ_SECONDS sets the budget.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
secs=${RT_FUZZ_SECONDS:-30}
out=$build/fuzz
source "$top/tests/fuzz/lib.sh"
command -v clang >/dev/null || { echo "skipped: clang is not installed"; exit 77; }
mkdir -p "$out/perfdata-corpus"
fuzz_build perfdata -I"$build/libperf/include" -I"${LIBPERF:-$top/build/libperf}/include" \
	tests/fuzz/fuzz_perfdata.c "$top"/perfglue/perfdata*.c perfglue/machine.c perfglue/safefile.c
# Seeds: small real recordings (file and pipe mode), when perf works here.
if [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null; then
	perf record -q -g -e cpu-clock -F 999 -o "$out/perfdata-corpus/seed-file" -- \
		sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' >/dev/null 2>&1
	perf record -q -g -e cpu-clock -F 999 -o - -- \
		sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' \
		>"$out/perfdata-corpus/seed-pipe" 2>/dev/null
	perf record -q --call-graph dwarf,1024 -e cpu-clock -F 999 -o "$out/perfdata-corpus/seed-dwarf" -- \
		sh -c 'i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done' >/dev/null 2>&1
fi
# Big seeds slow libFuzzer down: keep the first 64 KiB of each.
for f in "$out"/perfdata-corpus/seed-*; do
	[ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 65536 ] && truncate -s 65536 "$f"
done
fuzz_run perfdata "$out/perfdata-corpus" 12 -max_len=65536 -timeout=10 -rss_limit_mb=2048
