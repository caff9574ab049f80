#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of unwind/'s CFI compiler and prologue
# analysis, seeded with real .eh_frame/.debug_frame sections and code.
# RT_FUZZ_SECONDS sets the budget.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
secs=${RT_FUZZ_SECONDS:-20}
out=$build/fuzz
source "$top/tests/fuzz/lib.sh"
command -v clang >/dev/null || { echo "skipped: clang is not installed"; exit 77; }
[ -f /usr/include/capstone/capstone.h ] || { echo "skipped: libcapstone-dev is not installed"; exit 77; }
mkdir -p "$out/cfi-corpus"
fuzz_build cfi tests/fuzz/fuzz_cfi.c unwind/cfi.c unwind/prologue.c perfglue/disasm.c
# Seeds: CFI sections of a few real files (the first 16 KiB), and some code.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int f(int x) { return x * 3; }\nint main(int c, char **v) { return f(c); }\n' >"$tmp/p.c"
cc -O2 -g -fno-asynchronous-unwind-tables -o "$tmp/dbg" "$tmp/p.c" 2>/dev/null
i=0
for f in /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libz.so.1 /usr/bin/python3.11 \
	"$tmp/dbg" /bin/true; do
	[ -f "$f" ] || continue
	for sec in .eh_frame .debug_frame .text; do
		objcopy -O binary --only-section="$sec" "$f" "$tmp/s" 2>/dev/null || continue
		[ -s "$tmp/s" ] || continue
		head -c 16384 "$tmp/s" >"$out/cfi-corpus/seed-$i-${sec#.}"
		i=$((i + 1))
	done
done
fuzz_run cfi "$out/cfi-corpus" 12 -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$out/"
