#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rtmerge's stack for each sample must equal the stack derived from
# `perf script -F comm,tid,time,ip,sym,dso` for at least 99.9% of samples
# of a real system-wide `perf record -a -g`.  Prints the agreement and the
# kinds of difference.
source "$(dirname "$0")/lib.sh"
require_perf
build_progs
cd "$E2E_TMP"

perf record -q -a -g -e cpu-clock -F 999 -o agree.data -- sh -c \
	'./calltree 2 & ./threads 2 & ./uselib 2 exec ./calltree 1 & wait' 2>/dev/null ||
	fail "perf record"
"$RTMERGE" --per-sample rt.txt agree.data >/dev/null 2>rt.err || { cat rt.err; fail "rtmerge"; }
cat rt.err
perf script -i agree.data -F comm,tid,time,ip,sym,dso 2>/dev/null |
	python3 "$RT_TOP/tests/e2e/perfscript_stacks.py" >ps.txt || fail "perf script"
python3 "$RT_TOP/tests/e2e/agreement.py" rt.txt ps.txt 0.999
