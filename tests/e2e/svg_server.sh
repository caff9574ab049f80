#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A server's flamegraph reads at first sight: rt-bpf record -p of a
# thread-per-request server (127.0.0.1, bounded local load), then
#  - folded output has no run of identical unresolved frames (collapsed and
#    counted in the summary);
#  - --no-lines gives one frame per Python function;
#  - rtmerge -f svg accepts the folded text and draws the same frames;
#  - in headless chromium the SVG's first screen (1200x800) shows coloured
#    stacks, not background or a grey column (tests/e2e/svg/png_fill.py).
source "$(dirname "$0")/workloads/py311_common.bash"
py311_require
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip "chromium not installed"
PY=$PY_DEBIAN
[ -x "$PY" ] || PY=${PYTHONS[0]}

"$PY" "$WORKLOADS/py_server.py" serve "$PY_TMP/port" &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$PY_TMP"' EXIT
for _ in $(seq 100); do [ -s "$PY_TMP/port" ] && break; sleep 0.05; done
[ -s "$PY_TMP/port" ] || fail "the server did not start"
"$PY" "$WORKLOADS/py_server.py" load "$(cat "$PY_TMP/port")" 4000 5 >/dev/null &
lpid=$!
"$RT_BPF" record -F 499 -d 3 -p "$spid" -o "$PY_TMP/s.data" 2>"$PY_TMP/s.err" ||
	fail "rt-bpf record -p: $(tail -3 "$PY_TMP/s.err")"
wait $lpid

"$RT_MERGE" "$PY_TMP/s.data" >"$PY_TMP/s.folded" 2>"$PY_TMP/s.merr" || fail "rtmerge"
grep -E "collapsed|samples read" "$PY_TMP/s.merr"
awk '{ $NF = ""; n = split($0, f, ";"); for (i = 2; i <= n; i++)
	if (f[i] == f[i - 1] && f[i] ~ /^\[/) { print "repeated " f[i] ": " $0; exit 1 } }' \
	"$PY_TMP/s.folded" || fail "a run of identical unresolved frames is left"

"$RT_MERGE" --no-lines "$PY_TMP/s.data" >"$PY_TMP/nl.folded" 2>/dev/null || fail "--no-lines"
grep -Eq '\.py:[0-9]+\)' "$PY_TMP/nl.folded" && fail "--no-lines left line numbers: $(grep -Eo '[^;]*\.py:[0-9]+\)' "$PY_TMP/nl.folded" | head -1)"
grep -q ";Handler.render (workloads/py_server.py)" "$PY_TMP/nl.folded" || fail "--no-lines: no render frame: $(tr ";" "\n" <"$PY_TMP/nl.folded" | grep -m3 render)"
nlines=$(tr ';' '\n' <"$PY_TMP/s.folded" | grep -o "^Handler.render (workloads/py_server.py:[0-9]*)" | sort -u | wc -l)
nfunc=$(tr ';' '\n' <"$PY_TMP/nl.folded" | grep -o "^Handler.render (workloads/py_server.py)" | sort -u | wc -l)
echo "Handler.render: $nlines frames (one per line), $nfunc with --no-lines"
[ "$nfunc" -eq 1 ] || fail "--no-lines: $nfunc frames for Handler.render"

"$RT_MERGE" -f svg -o "$PY_TMP/s.svg" "$PY_TMP/s.data" 2>/dev/null || fail "svg from perf.data"
"$RT_MERGE" -f svg -o "$PY_TMP/f.svg" "$PY_TMP/s.folded" || fail "svg from folded text"
nf=$(grep -c '^<g class="f"' "$PY_TMP/f.svg") ns=$(grep -c '^<g class="f"' "$PY_TMP/s.svg")
echo "frames drawn: $ns from perf.data, $nf from the folded text"
[ "$nf" -gt 10 ] && [ "$nf" -eq "$ns" ] || fail "folded input drew $nf frames, perf.data $ns"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$PY_TMP/f.svg" ||
	fail "svg from folded text not well-formed"
echo "not a folded line" >"$PY_TMP/bad.txt"
"$RT_MERGE" -f svg -o "$PY_TMP/bad.svg" "$PY_TMP/bad.txt" 2>"$PY_TMP/bad.err" &&
	fail "rtmerge -f svg accepted a file that is neither"
grep -q "neither perf.data nor folded" "$PY_TMP/bad.err" || fail "bad input: $(cat "$PY_TMP/bad.err")"

height=$(sed -n 's/^<svg [^>]* height="\([0-9]*\)".*/\1/p' "$PY_TMP/s.svg" | head -1)
shot=$RT_BUILD/flamegraph-server.png
rm -f "$shot"
for try in 1 2; do
	timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$PY_TMP/profile$try" --virtual-time-budget=3000 --hide-scrollbars \
		--window-size=1200,800 --screenshot="$shot" "file://$PY_TMP/s.svg" \
		>/dev/null 2>"$PY_TMP/chromium.log" && [ -s "$shot" ] && break
done
[ -s "$shot" ] || fail "no screenshot: $(tail -3 "$PY_TMP/chromium.log")"
read -r coloured grey < <(python3 "$RT_TOP/tests/e2e/svg/png_fill.py" "$shot")
echo "FIGURE server SVG: ${height}px tall; first screen 1200x800: coloured frames $coloured, grey $grey ($shot)"
awk -v c="$coloured" -v g="$grey" 'BEGIN { exit !(c >= 0.10 && c > 2 * g) }' ||
	fail "the first screen shows little but background or unresolved frames"
echo "ok"
