#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of the perf map parser, which reads
# files any local user can write.  RT_FUZZ_SECONDS sets the budget.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
secs=${RT_FUZZ_SECONDS:-10}
out=$build/fuzz
source "$top/tests/fuzz/lib.sh"
command -v clang >/dev/null || { echo "skipped: clang is not installed"; exit 77; }
mkdir -p "$out/perfmap-corpus"
(cd "$top" && clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I. tests/fuzz/fuzz_perfmap.c symbolize/symtab.c perfglue/safefile.c \
	-lelf -liberty -o "$out/fuzz_perfmap") || { echo "cannot build the fuzzer"; exit 1; }
printf '7f0000001000 40 py::outer:/app/main.py\n0x7f0000001040 20 JS:~handler /srv/app.js:10:3\n' \
	>"$out/perfmap-corpus/seed-map"
printf '1000 10 _ZN3foo3barEv\n1000 10 again\nff 0 zero\n\n' >"$out/perfmap-corpus/seed-dups"
"$out/fuzz_perfmap" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 "$out/perfmap-corpus" >"$out/perfmap.log" 2>&1
rc=$?
fuzz_report perfmap "$rc" 8
