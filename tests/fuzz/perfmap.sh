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
fuzz_build perfmap tests/fuzz/fuzz_perfmap.c symbolize/symtab.c perfglue/safefile.c -lelf -liberty
printf '7f0000001000 40 py::outer:/app/main.py\n0x7f0000001040 20 JS:~handler /srv/app.js:10:3\n' \
	>"$out/perfmap-corpus/seed-map"
printf '1000 10 _ZN3foo3barEv\n1000 10 again\nff 0 zero\n\n' >"$out/perfmap-corpus/seed-dups"
fuzz_run perfmap "$out/perfmap-corpus" 8 -max_len=16384 -timeout=10 -rss_limit_mb=1024
