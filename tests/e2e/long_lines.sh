#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every frame gets its line, however long its function: a Python function
# with a 3,000-line body (its location table, about 27 KB, is longer than a
# code record carries) sampled in a loop at its end must be folded at that
# loop's lines, not without a line.
source "$(dirname "$0")/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
PY=${PY:-$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -n 1)}
[ -n "$PY" ] && [ -x "$PY" ] || PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "no CPython 3.11 or 3.12"
cd "$E2E_TMP"
python3 - <<'PY'
body = ["import sys, time", "", "def long_body(secs):", "    x = 0"]
body += ["    x += %d" % (i % 7) for i in range(3000)]
body += ["    end = time.time() + secs",
         "    while time.time() < end:",
         "        x = (x * 31 + 7) % 1000003",
         "    return x", "", "long_body(float(sys.argv[1]))"]
open("big.py", "w").write("\n".join(body) + "\n")
PY
loop=$(grep -n 'while time.time' big.py | cut -d: -f1)
timeout 60 "$RTBPF" record -F 499 -o big.data -- "$PY" big.py 2 >rec.log 2>&1 ||
	{ cat rec.log >&2; fail "rt-bpf record failed"; }
"$RTMERGE" -o big.txt big.data 2>merge.err || { cat merge.err >&2; fail "rtmerge failed"; }
total=$(folded_count big.txt 'long_body \(')
at_end=$(folded_count big.txt "long_body \([^)]*big\.py:($loop|$((loop + 1)))\)")
no_line=$(folded_count big.txt 'long_body \([^):]*big\.py\)')
echo "FIGURE long_lines: $PY: $at_end of $total long_body samples at lines $loop-$((loop + 1)), $no_line without a line"
[ "$total" -ge 300 ] || fail "only $total samples in long_body"
[ "$no_line" -eq 0 ] || fail "$no_line long_body frames without a line"
[ $((at_end * 100)) -ge $((total * 98)) ] || { grep -o 'long_body ([^;]*' big.txt | sort | uniq -c >&2; fail "long_body's lines are wrong"; }
echo "long_lines: ok"
