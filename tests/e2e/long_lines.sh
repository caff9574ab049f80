#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every frame gets its line, however long its function: a Python function
# and a Ruby method with 3,000-line bodies (their line tables, about 27 KB
# and 70 KB, are longer than a code record carries) sampled in a loop at
# their end must be folded at that loop's lines, every one: the sample that
# first meets the function comes before its table's pieces, and rtmerge
# names that frame at the end, when the pieces are in.
source "$(dirname "$0")/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
PY=${PY:-$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -n 1)}
[ -n "$PY" ] && [ -x "$PY" ] || PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "no CPython 3.11 or 3.12"
RUBY=${RUBY:-/usr/bin/ruby3.1}
[ -x "$RUBY" ] || skip "no $RUBY (Debian package ruby3.1)"
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
python3 - <<'PY'
body = ["def long_body(secs)", "  x = 0"]
body += ["  x += %d" % (i % 7) for i in range(3000)]
body += ["  t_end = Process.clock_gettime(Process::CLOCK_MONOTONIC) + secs",
         "  while Process.clock_gettime(Process::CLOCK_MONOTONIC) < t_end",
         "    x = (x * 31 + 7) % 1000003",
         "  end", "  x", "end", "", "long_body(Float(ARGV[0]))"]
open("big.rb", "w").write("\n".join(body) + "\n")
PY
# check NAME FILE CMD...: records CMD, checks long_body's lines
check() {
	local name=$1 file=$2 loop total at_end no_line
	shift 2
	loop=$(grep -n 'while ' "$file" | cut -d: -f1)
	timeout 60 "$RTBPF" record -F 499 -o "$name.data" -- "$@" >"$name.log" 2>&1 ||
		{ cat "$name.log" >&2; fail "$name: rt-bpf record failed"; }
	"$RTMERGE" -o "$name.txt" "$name.data" 2>"$name.err" ||
		{ cat "$name.err" >&2; fail "$name: rtmerge failed"; }
	total=$(folded_count "$name.txt" 'long_body \(')
	at_end=$(folded_count "$name.txt" "long_body \([^)]*$file:($loop|$((loop + 1)))\)")
	no_line=$(folded_count "$name.txt" "long_body \([^):]*$file\)")
	echo "FIGURE long_lines: $name: $at_end of $total long_body samples at lines $loop-$((loop + 1)), $no_line without a line"
	[ "$total" -ge 300 ] || fail "$name: only $total samples in long_body"
	# the sample that meets the function first: its stack goes before the
	# table's pieces (docs/record-format.md), and rtmerge looks its line up
	# again at the end
	[ "$no_line" -eq 0 ] || fail "$name: $no_line long_body frames without a line"
	[ $((at_end * 100)) -ge $((total * 98)) ] ||
		{ grep -o 'long_body ([^;]*' "$name.txt" | sort | uniq -c >&2; fail "$name: long_body's lines are wrong"; }
	# --per-sample prints as it folds: its lines wait for the placeholders'
	# names, and give the folded output's stacks, that frame's line included
	"$RTMERGE" -o "$name.ps.txt" --per-sample "$name.per" "$name.data" 2>"$name.ps.err" ||
		{ cat "$name.ps.err" >&2; fail "$name: rtmerge --per-sample failed"; }
	cmp -s "$name.txt" "$name.ps.txt" || fail "$name: --per-sample changed the folded output"
	no_line=$(grep -c "long_body ([^):]*$file)" "$name.per")
	echo "FIGURE long_lines: $name: $(wc -l <"$name.per") per-sample lines, $no_line with long_body without a line"
	[ "$no_line" -eq 0 ] || fail "$name: $no_line per-sample lines name long_body without a line"
	sed 's/^[0-9]* [0-9]* //' "$name.per" | LC_ALL=C sort | uniq -c |
		awk '{ c = $1; sub(/^ *[0-9]+ /, ""); print $0 " " c }' | LC_ALL=C sort >"$name.per.folded"
	LC_ALL=C sort "$name.txt" | cmp -s - "$name.per.folded" ||
		{ LC_ALL=C sort "$name.txt" | diff - "$name.per.folded" | head >&2; fail "$name: per-sample stacks differ from the folded ones"; }
}

check "$("$PY" -c 'import platform; print("python" + platform.python_version())')" big.py "$PY" big.py 2
check "ruby$("$RUBY" -e 'print RUBY_VERSION')" big.rb "$RUBY" big.rb 2
echo "long_lines: ok"
