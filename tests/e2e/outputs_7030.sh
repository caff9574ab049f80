#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rtmerge's speedscope and pprof files and --diff on a known 70/30 Python
# program (hot_seventy / cold_thirty) recorded with rt-bpf:
#  - speedscope weights (by count, and by period in nanoseconds) and the
#    pprof totals, per-function flat/cum figures and split, as go tool pprof
#    reads them (-top, -raw), equal rtmerge's folded figures exactly;
#  - speedscope itself (its npm package, in headless chromium) loads the
#    file: its sandwich table (DOM) lists both functions with the folded
#    figures, hot first; screenshots of that view and of the flame chart go
#    to $RT_BUILD/speedscope-7030*.png; pointing at each function's place in
#    the flame chart (computed from the folded stacks) shows its name and
#    folded weight in speedscope's tooltip (speedscope_hover.py);
#  - --diff against a recording with the split reversed: folded columns
#    scaled to AFTER's total, hot_seventy blue (shrank), cold_thirty red.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require
py=${PYTHONS[0]}
W=$WORKLOADS/py_7030.py
RT_MERGE=$RT_BUILD/rtmerge
speedscope_app=${RT_SPEEDSCOPE_DIR:-/var/cache/rtperf/speedscope}/node_modules/speedscope/dist/release/index.html
chromium=${CHROMIUM:-/usr/bin/chromium}
command -v go >/dev/null || skip "go is not installed (scripts/setup.sh installs golang-go)"
[ -f "$speedscope_app" ] || skip "speedscope is not installed (scripts/speedscope.sh)"
[ -x "$chromium" ] || skip "chromium is not installed"
export GOCACHE=$PY_TMP/gocache GOPATH=$PY_TMP/gopath HOME=${HOME:-/root}
d=$PY_TMP/out
mkdir -p "$d"

py311_record a "$py" "$W" 2
py311_record b "$py" "$W" 2 3000 7000
a=$PY_TMP/a.data

"$RT_MERGE" -q "$a" >"$d/folded" || fail "rtmerge folded"
"$RT_MERGE" -q --period "$a" >"$d/folded.period" || fail "rtmerge --period"
"$RT_MERGE" -q -f speedscope -o "$d/ss.json" "$a" || fail "rtmerge -f speedscope"
"$RT_MERGE" -q --period -f speedscope -o "$d/ss.period.json" "$a" || fail "rtmerge -f speedscope --period"
"$RT_MERGE" -q -f pprof -o "$d/p.pb.gz" "$a" || fail "rtmerge -f pprof"
pprof() { go tool pprof "$@" "$d/p.pb.gz" 2>"$d/pprof.err" || fail "go tool pprof $*: $(tail -3 "$d/pprof.err")"; }
pprof -top -nodecount=100000 -nodefraction=0 -edgefraction=0 >"$d/top.txt"
pprof -top -sample_index=cpu -unit=ns -nodecount=100000 -nodefraction=0 -edgefraction=0 >"$d/top.cpu.txt"
pprof -raw >"$d/raw.txt"
python3 "$RT_TOP/tests/e2e/outputs_check.py" figures "$d" || fail "speedscope/pprof figures differ from folded"
# the profile's duration, from the samples' times (perf leaves the header's 0)
dur=$(sed -n 's/^Duration: \([0-9.]*\).*/\1/p' "$d/raw.txt")
echo "FIGURE outputs: pprof duration ${dur:-none} s for a 2 s recording"
awk -v d="${dur:-0}" 'BEGIN { exit !(d > 1 && d < 4) }' || fail "pprof duration ${dur:-none}, expected about 2 s"
# kernel frames: _[k] only with --kernel, as in the folded output
! grep -q '_\[k\]"' "$d/ss.json" || fail "speedscope names kernel frames with _[k] without --kernel"

# speedscope's own loader for local files: a script that hands it the file.
python3 - "$d/ss.json" "$d/ss.js" <<'PY'
import base64, json, sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "w").write("speedscope.loadFileFromBase64(%s, %s)" %
                             (json.dumps("ss.json"), json.dumps(base64.b64encode(data).decode())))
PY
browse() { # view mode-args...
	local view=$1 try; shift
	for try in 1 2; do
		if timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$(mktemp -d -p "$PY_TMP")" --virtual-time-budget=5000 \
			--window-size=1200,1600 "$@" \
			"file://$speedscope_app#localProfilePath=$d/ss.js&view=$view" 2>"$d/chromium.log"; then
			return 0
		fi
		echo "chromium failed (try $try): $(tail -2 "$d/chromium.log")"
	done
	return 1
}
browse sandwich --dump-dom >"$d/dom.html" || fail "chromium could not load speedscope"
python3 "$RT_TOP/tests/e2e/outputs_check.py" sandwich "$d/dom.html" "$d/folded" ||
	fail "speedscope's table disagrees (DOM in $d/dom.html)"
browse sandwich --screenshot="$RT_BUILD/speedscope-7030.png" >/dev/null
browse left-heavy --screenshot="$RT_BUILD/speedscope-7030-flame.png" >/dev/null
for png in "$RT_BUILD/speedscope-7030.png" "$RT_BUILD/speedscope-7030-flame.png"; do
	[ -s "$png" ] || fail "no screenshot $png"
done
# The flame chart is drawn with WebGL: a blank or failed canvas has no
# coloured pixels (speedscope's pastels: channels more than 20 apart; 0.05
# of the picture measured; 0.010 on its start page, without a profile).
coloured=$(python3 - "$RT_BUILD/speedscope-7030-flame.png" "$RT_TOP/tests/e2e/svg" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from png_fill import read_png
w, h, ch, rows = read_png(sys.argv[1])
n = sum(1 for line in rows for x in range(0, w * ch, ch) if max(line[x:x + 3]) - min(line[x:x + 3]) > 20)
print("%.4f" % (n / (w * h)))
PY
)
echo "flame chart screenshot: coloured share $coloured"
awk -v c="$coloured" 'BEGIN { exit !(c > 0.03) }' || fail "speedscope drew no flame chart"

# The canvas itself: the tooltip at each function's place in the left-heavy
# chart, computed from the folded stacks, names it with its folded weight.
ok=0
for try in 1 2; do
	if timeout 90 python3 "$RT_TOP/tests/e2e/speedscope_hover.py" "$chromium" "$speedscope_app" \
		"$d/ss.js" "$d/folded" "$(mktemp -d -p "$PY_TMP")" hot_seventy cold_thirty; then
		ok=1
		break
	fi
	echo "hover check failed (try $try)"
done
[ "$ok" = 1 ] || fail "speedscope's flame chart does not show the folded figures"

# --diff: b reverses the split
"$RT_MERGE" -q --diff "$a" "$PY_TMP/b.data" >"$d/diff.folded" || fail "rtmerge --diff"
"$RT_MERGE" -q --diff -f svg -o "$d/diff.svg" "$a" "$PY_TMP/b.data" || fail "rtmerge --diff -f svg"
"$RT_MERGE" -q "$PY_TMP/b.data" >"$d/b.folded" || fail "rtmerge b"
python3 "$RT_TOP/tests/e2e/outputs_check.py" diff "$d/diff.folded" "$d/b.folded" "$d/diff.svg" ||
	fail "--diff outputs wrong"
# The writers under ASan+UBSan (make SAN=1) on this real recording: the
# same bytes, no report.
san=$RT_TOP/build/san/rtmerge
if [ -x "$san" ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1
	"$san" -q -f speedscope -o "$d/san.json" "$a" || fail "ASan: rtmerge -f speedscope"
	"$san" -q -f pprof -o "$d/san.pb.gz" "$a" || fail "ASan: rtmerge -f pprof"
	"$san" -q --diff -f svg -o "$d/san.svg" "$a" "$PY_TMP/b.data" || fail "ASan: rtmerge --diff"
	cmp "$d/san.json" "$d/ss.json" && cmp "$d/san.pb.gz" "$d/p.pb.gz" &&
		cmp "$d/san.svg" "$d/diff.svg" || fail "the ASan build wrote other bytes"
	echo "ASan+UBSan build: same speedscope, pprof and diff files"
else
	echo "note: $san not built (make SAN=1): writers not run under ASan here"
fi
echo "outputs_7030: ok"
