#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The SVG flamegraph in a real browser: builds a known folded input into an
# SVG with the library, opens it in headless chromium with zoom/search state
# in the URL fragment (the script turns zoom=NAME into a click on that
# frame), and checks the DOM after the script ran: no script error, the
# zoomed frame spans the width with dimmed ancestors, rescaled children,
# hidden outsiders, and the search's "Matched:" percentage.  Then the same
# with real mouse and keyboard input (cdp_click.py).  Screenshots go to
# $RT_BUILD/flamegraph-e2e*.png.
set -euo pipefail

top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
	echo "skipped: chromium not installed"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "skipped: python3 not installed (needed to read the dumped DOM)"
	exit 77
fi
if [ ! -f "$build/librtperf.a" ]; then
	echo "FAIL: $build/librtperf.a missing; run make first"
	exit 1
fi

work=$build/e2e-svg
rm -rf "$work"
mkdir -p "$work"
profiles=$(mktemp -d)
# a browser's helper that outlives it must not fail the test here (set -e)
trap 'rm -rf "$profiles" || true' EXIT

cc -O2 -std=gnu11 -Wall -D_GNU_SOURCE -I"$top" -I"$build" -o "$work/mkflame" \
	"$top/tests/e2e/svg/mkflame.c" "$build/librtperf.a" -lm
"$work/mkflame" "Sample <flame>" "tests/e2e/svg/sample.folded" \
	<"$top/tests/e2e/svg/sample.folded" >"$work/sample.svg"
if command -v xmllint >/dev/null; then
	xmllint --noout "$work/sample.svg"
fi
nframes=$(grep -c '^<g class="f" c="' "$work/sample.svg")
echo "sample.svg: $nframes frames, $(wc -c <"$work/sample.svg") bytes"

# Runs chromium on the SVG with a fragment; retries once if the browser
# itself fails (a hang or crash is not a flamegraph bug, a bad DOM is).
browse() { # fragment mode-args...
	local fragment=$1; shift
	local try profile
	for try in 1 2; do
		profile=$(mktemp -d -p "$profiles")
		if timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --user-data-dir="$profile" --virtual-time-budget=3000 \
			"$@" "file://$work/sample.svg$fragment" 2>"$work/chromium.log"; then
			return 0
		fi
		echo "chromium failed (try $try), log tail:"
		tail -n 5 "$work/chromium.log"
	done
	return 1
}

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

nr=0
check() { # fragment checks...
	local fragment=$1; shift
	nr=$((nr + 1))
	browse "$fragment" --dump-dom >"$work/dom$nr.xml"
	if ! python3 "$top/tests/e2e/svg/check_dom.py" "$work/dom$nr.xml" "$@"; then
		echo "FAIL: fragment '$fragment' (DOM in $work/dom$nr.xml)"
		exit 1
	fi
}

# Width of the frames area is 1200 - 2 * 10 = 1180 px; 100 samples in all,
# compute has 40, its child matmul 30 (of which memcpy 10).
check "" unmatched=1 width=all:1180.00 width=compute:472.00
check "#zoom=compute" frames="$nframes" zoomed=compute width=matmul:885.00 \
	width=memcpy:295.00 hidden=strlen hidden="[libc.so.6]" unmatched=1
check "#s=$(enc '^mat|memcpy')" matched=30.00 width=compute:472.00
check "#zoom=compute&s=memcpy" zoomed=compute matched=25.00
check "#s=$(enc '\.py:')" matched=20.00
check "#s=$(enc '_\[k\]$')" matched=6.00
check "#s=$(enc '/MATMUL/i')" matched=30.00
check "#s=$(enc 'alert\(1\)')" matched=10.00
check "#s=$(enc '(')" frames="$nframes" unmatched=1
check "#zoom=no%20such%20frame" frames="$nframes" unmatched=1 width=all:1180.00

# Real input events through the DevTools pipe: a mouse click on a label,
# Ctrl-F answered in the prompt, then the Reset Zoom button.
interactive() { # frame regex percent
	local try
	for try in 1 2; do
		if timeout 90 python3 "$top/tests/e2e/svg/cdp_click.py" "$chromium" "$work/sample.svg" \
			"$(mktemp -d -p "$profiles")" "$@"; then
			return 0
		fi
		echo "interactive check failed (try $try)"
	done
	echo "FAIL: clicking $1 and searching $2"
	exit 1
}
interactive compute memcpy 25.00
interactive matmul 'memcpy|strlen' 33.33

# Pictures for a person to look at.
browse "" --window-size=1200,220 --screenshot="$build/flamegraph-e2e.png" >/dev/null
browse "#zoom=compute&s=memcpy" --window-size=1200,220 \
	--screenshot="$build/flamegraph-e2e-zoom.png" >/dev/null
for png in "$build/flamegraph-e2e.png" "$build/flamegraph-e2e-zoom.png"; do
	if [ ! -s "$png" ]; then
		echo "FAIL: no screenshot $png"
		exit 1
	fi
done
echo "screenshots: $build/flamegraph-e2e.png $build/flamegraph-e2e-zoom.png"
echo "svg_browser: ok ($nr DOM checks)"
