#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Starts a CPython 3.13+ under `rt-bpf record` again and again and counts
# the starts whose process rt-bpf refused to walk, and those it walked.
# Its first look comes from the mmap events of libpython, while ld.so may
# still be mapping it: a look that came too early refused the process for
# good (7% of starts before the fix).  Builds alternate, start by start.
#
#     tests/bench/start_refusals.sh [RT-BPF[,RT-BPF...]]
#
# RUNS (30) starts per build; PYTHON (pyenv's 3.13.0) the interpreter.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
IFS=, read -r -a builds <<<"${1:-$top/build/rt-bpf}"
runs=${RUNS:-30}
py=${PYTHON:-/root/.pyenv/versions/3.13.0/bin/python3.13}
[ -x "$py" ] || { echo "start_refusals: no $py (set PYTHON)"; exit 1; }
tmp=$(mktemp -d /tmp/rt-startref.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
declare -A refused walked
for ((i = 0; i < runs; i++)); do
	for b in "${builds[@]}"; do
		timeout 30 "$b" record -F 99 -o "$tmp/r.data" -- "$py" -c 'import time; time.sleep(0.15)' \
			>/dev/null 2>"$tmp/err"
		grep -q "refusing to walk" "$tmp/err" && refused[$b]=$((${refused[$b]:-0} + 1))
		grep -Eq "^rt-bpf: python samples=[1-9]" "$tmp/err" && walked[$b]=$((${walked[$b]:-0} + 1))
	done
done
for b in "${builds[@]}"; do
	echo "FIGURE start refusals $b: ${refused[$b]:-0} of $runs starts refused, ${walked[$b]:-0} walked"
done
