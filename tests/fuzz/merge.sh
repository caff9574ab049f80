#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of the whole merge (reader in every
# mode and through a pipe, machine, symbolizer, unwinder, splicing, output),
# seeded with real recordings in file, pipe and dwarf mode, one of them
# larger than a read window (1 MiB), recordings cut short (mid-record, no
# data size in the header, a pipe cut), the crafted inputs of
# tests/e2e/hostile, and rt-bpf's records (synthetic and real, folded in the
# on-CPU, --off-cpu, --wall and --gil views).  RT_FUZZ_SECONDS sets the
# budget (make fuzz-long: 12 minutes a fuzzer).
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
# seed NAME FILE FLAGS [VIEW]: the harness's two option bytes (hex), then FILE
seed() { { printf "\\x$3\\x${4:-00}"; cat "$2"; } >"$out/merge-corpus/seed-$1"; }
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
# rt-bpf's records: a synthetic recording of interpreter stacks spliced
# into native ones, and one of switch samples with off-CPU stack records
# (tests/e2e/splice/mkperfdata.py), folded on-CPU, --off-cpu, --wall and --gil;
# a real rt-bpf record --off-cpu of a CPython thread's sleeps (stack, code,
# interval and sum records), and with the switch event's leaf field
if command -v cc >/dev/null &&
	cc -O1 -shared -fPIC -fno-inline -o "$tmp/libfakepy.so" "$top/tests/e2e/splice/fakepy.c"; then
	python3 "$top/tests/e2e/splice/mkperfdata.py" "$tmp/libfakepy.so" "$tmp/mixed" &&
		seed rt-mixed "$tmp/mixed" 04 && seed rt-mixed-gil "$tmp/mixed" 04 03
	python3 "$top/tests/e2e/splice/mkperfdata.py" "$tmp/libfakepy.so" "$tmp/off" --offcpu &&
		seed rt-offcpu "$tmp/off" 44 01 && seed rt-offcpu-wall "$tmp/off" 04 02
fi
py=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x "$py" ] || py=/usr/bin/python3.11
if [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null && [ -x "$build/rt-bpf" ] && [ -x "$py" ] &&
	timeout 60 "$build/rt-bpf" record --off-cpu -F 199 -o "$tmp/offcpu" -- \
		"$py" "$top/tests/e2e/workloads/offcpu_sums.py" 30 0.0003 0.0009 >/dev/null 2>&1; then
	head -c 1300000 "$tmp/offcpu" >"$tmp/o"
	seed rt-offcpu-real "$tmp/o" 00 01 && seed rt-offcpu-real-wall "$tmp/o" 01 02 &&
		seed rt-offcpu-real-field "$tmp/o" 40 05
fi
for c in attrs-after-samples buildids-after-sample forged-comm; do
	python3 "$top/tests/e2e/hostile/mkhostile.py" $c "$tmp/$c" && seed "$c" "$tmp/$c" 48
done
fuzz_run merge "$out/merge-corpus" 12 -max_len=1400000 -len_control=200 -timeout=20 \
	-rss_limit_mb=3072
