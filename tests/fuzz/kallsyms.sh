#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of the kallsyms parser, which reads
# digits and names eight and sixteen bytes at a time.  RT_FUZZ_SECONDS sets
# the budget.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
secs=${RT_FUZZ_SECONDS:-10}
out=$build/fuzz
source "$top/tests/fuzz/lib.sh"
command -v clang >/dev/null || { echo "skipped: clang is not installed"; exit 77; }
mkdir -p "$out/kallsyms-corpus"
fuzz_build kallsyms tests/fuzz/fuzz_kallsyms.c symbolize/symtab.c perfglue/safefile.c -lelf -liberty
printf 'ffffffff81000000 T _text\nffffffff81001000 T memset\nffffffff81001000 T __pi_memset\nffffffff81002000 t local_fn\nffffffff81003000 d some_data\nffffffffc0000000 t mod_fn\t[mymod]\nffffffffc0009000 t other_fn [othermod]\n' \
	>"$out/kallsyms-corpus/seed-kallsyms"
printf 'FFFFFFFF81000000 W abcdefghijklmnopqrstuvwxyz_name_longer_than_sixteen\nfffffff81007000 t fifteen\nffffffff8100g000 t bad\nffffffff81009000 t y' \
	>"$out/kallsyms-corpus/seed-odd"
fuzz_run kallsyms "$out/kallsyms-corpus" 8 -max_len=16384 -timeout=10 -rss_limit_mb=1024
