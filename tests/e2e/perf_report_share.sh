#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# perf's own tools on an rt-bpf recording: the native samples are kept, so
# `perf report --sort comm` gives the Python program the share of cpu-clock
# samples a plain `perf record -a` gives it, and `perf script` shows its
# native stacks; rtmerge joins each stack record to its native sample.
# The two recordings run the same two-thread CPU-bound program next to a
# busy dd, one after the other.
source "$(dirname "$0")/workloads/py311_common.bash"
py311_require
PY=$PY_DEBIAN
[ -x "$PY" ] || PY=${PYTHONS[0]}
PROG='import threading, time
def spin(end):
    while time.monotonic() < end: pass
end = time.monotonic() + 2
t = threading.Thread(target=spin, args=(end,)); t.start(); spin(end); t.join()'

# share FILE: percents of cpu-clock samples whose comm is the program's, and dd's
share() {
	perf report -i "$1" --stdio --sort comm -g none 2>/dev/null | awk -v comm="$(basename "$PY")" '
		/^# Samples: .* of event / { inside = ($0 ~ /'"'"'cpu-clock'"'"'/) }
		inside && $NF == comm { sub(/%/, "", $1); p = $1 }
		inside && $NF == "dd" { sub(/%/, "", $1); d = $1 }
		END { print p + 0, d + 0 }'
}

timeout 5 dd if=/dev/zero of=/dev/null bs=1 2>/dev/null &
perf record -q -a -g -e cpu-clock -F 499 -o "$PY_TMP/plain.data" -- "$PY" -c "$PROG" \
	>/dev/null 2>&1 || fail "plain perf record"
wait
timeout 5 dd if=/dev/zero of=/dev/null bs=1 2>/dev/null &
"$RT_BPF" record -F 499 -o "$PY_TMP/rt.data" -- "$PY" -c "$PROG" 2>"$PY_TMP/rt.err" ||
	fail "rt-bpf record: $(tail -3 "$PY_TMP/rt.err")"
wait
walked=$(sed -n 's/^rt-bpf: python samples=\([0-9]*\),.*/\1/p' "$PY_TMP/rt.err")
# The program's share against dd's, which ran next to it in both: other
# load on the machine shifts both alike.
read -r plain plaindd < <(share "$PY_TMP/plain.data")
read -r rt rtdd < <(share "$PY_TMP/rt.data")
echo "FIGURE perf report --sort comm, cpu-clock: $(basename "$PY") ${plain}% (dd ${plaindd}%) with plain perf, ${rt}% (dd ${rtdd}%) with rt-bpf"
awk -v p="$plain" -v pd="$plaindd" -v r="$rt" -v rd="$rtdd" 'BEGIN {
	if (p + pd == 0 || r + rd == 0) exit 1
	a = p / (p + pd); b = r / (r + rd); exit !(b >= 0.75 * a && b <= 1.33 * a) }' ||
	fail "perf report: ${rt}% against dd's ${rtdd}%, plain perf ${plain}% against ${plaindd}%"

# perf script: the program's cpu-clock samples with their native stacks.
perf script -i "$PY_TMP/rt.data" -F comm,event,ip,sym 2>/dev/null | awk -v comm="$(basename "$PY")" '
	/^[^ \t]/ { if (n) { s++; if (d >= 3) deep++ } n = ($1 == comm && $2 ~ /^cpu-clock/); d = 0; next }
	n && NF { d++ }
	END { if (n) { s++; if (d >= 3) deep++ } print s + 0, deep + 0 }' >"$PY_TMP/script"
read -r nscript deep <"$PY_TMP/script"
echo "perf script: $nscript samples of the program ($deep with 3 or more native frames); rt-bpf walked $walked"
# every walked sample keeps its native sample: all of them, but for the one
# or two the walker takes while perf stops (measured: 1010 of 1011 once)
[ "$nscript" -ge $((walked - walked / 100 - 2)) ] && [ "$deep" -ge $((nscript * 8 / 10)) ] ||
	fail "perf script shows $nscript samples ($deep with stacks) for $walked walked"

# rtmerge joins every stack record to its native sample.
"$RT_MERGE" "$PY_TMP/rt.data" >"$PY_TMP/rt.folded" 2>"$PY_TMP/rt.merr" || fail "rtmerge"
head -1 "$PY_TMP/rt.merr"
read -r records unpaired < <(sed -n 's/.* \([0-9]*\) interpreter stack records (joined to their native samples; \([0-9]*\) found none).*/\1 \2/p' "$PY_TMP/rt.merr")
[ -n "${records:-}" ] && [ "$records" -ge $((walked * 9 / 10)) ] || fail "stack records: '${records:-}' of $walked"
[ "$unpaired" -le $((records / 100)) ] || fail "$unpaired of $records stack records unpaired"
spin=$(awk '/spin \(<string>:3\)/ { s += $NF } END { print s + 0 }' "$PY_TMP/rt.folded")
echo "rtmerge: $spin samples in spin"
[ "$spin" -ge $((walked * 8 / 10)) ] || fail "only $spin of $walked samples in spin"
echo "ok"
