#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of the whole merge (reader in every
# mode and through a pipe, machine, symbolizer, unwinder, splicing, output),
# seeded with real recordings in file, pipe and dwarf mode, one of them
# larger than a read window (1 MiB), recordings cut short (mid-record, no
# data size in the header, a pipe cut), and the crafted inputs of
# tests/e2e/hostile.  RT_FUZZ_SECONDS sets the budget (make fuzz-long: an hour).
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
secs=${RT_FUZZ_SECONDS:-30}
out=$build/fuzz
source "$top/tests/fuzz/lib.sh"
command -v clang >/dev/null || { echo "skipped: clang is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 is not installed"; exit 77; }
fuzz_library
mkdir -p "$out/merge-corpus"
fuzz_build merge -I"$build" -I"$build/gen" -I"$build/libperf/include" \
	tests/fuzz/fuzz_merge.c $srcs $libs -lpthread
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# seed NAME FILE MODE-BYTE: the corpus entry is the mode byte, then the file
seed() { { printf "\\x$3"; cat "$2"; } >"$out/merge-corpus/seed-$1"; }
if [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null; then
	loop='i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
	perf record -q -g -e cpu-clock -F 999 -o "$tmp/file" -- sh -c "$loop" >/dev/null 2>&1 &&
		head -c 65536 "$tmp/file" >"$tmp/f" && seed file "$tmp/f" 00 && seed file-map "$tmp/f" 01
	perf record -q -g -e cpu-clock -F 999 -o - -- sh -c "$loop" 2>/dev/null >"$tmp/pipe" &&
		head -c 65536 "$tmp/pipe" >"$tmp/p" && seed pipe "$tmp/p" 04 && seed pipe-file "$tmp/p" 02
	perf record -q --call-graph dwarf,4096 -e cpu-clock -F 999 -o "$tmp/dwarf" -- sh -c "$loop" \
		>/dev/null 2>&1 && head -c 1300000 "$tmp/dwarf" >"$tmp/d" &&
		seed dwarf-big "$tmp/d" 03 && head -c 65536 "$tmp/dwarf" >"$tmp/d" && seed dwarf "$tmp/d" 00
	# Recordings cut short (perf killed, file truncated, pipe cut): mid-record,
	# and with the header's data size never written.
	if [ -f "$tmp/file" ] && [ -f "$tmp/pipe" ]; then
		head -c 40003 "$tmp/file" >"$tmp/c" && seed file-cut "$tmp/c" 00 && seed file-cut-map "$tmp/c" 01
		dd if=/dev/zero of="$tmp/c" bs=1 seek=48 count=8 conv=notrunc 2>/dev/null &&
			seed file-nosize "$tmp/c" 00
		head -c 40003 "$tmp/pipe" >"$tmp/c" && seed pipe-cut "$tmp/c" 04
	fi
fi
for c in attrs-after-samples buildids-after-sample forged-comm; do
	python3 "$top/tests/e2e/hostile/mkhostile.py" $c "$tmp/$c" && seed "$c" "$tmp/$c" 48
done
fuzz_run merge "$out/merge-corpus" 12 -max_len=1400000 -len_control=200 -timeout=20 \
	-rss_limit_mb=3072
