#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A tall SVG flamegraph opens where the stacks are: in headless chromium
# with a 600 px window, a graph of shallow stacks under one 150-frame-deep
# recursion opens at its bottom (the root and the shallow stacks); a graph
# whose stacks share a 120-frame chain before they part opens with the
# parting level in view, not the chain's base; a short graph does not
# scroll.  Search, Reset Zoom and the details line stay in view, hovering
# and the Search button work there (cdp_tall.py).
set -euo pipefail

top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
chromium=${CHROMIUM:-/usr/bin/chromium}

[ -x "$chromium" ] || { echo "skipped: chromium not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 77; }
[ -f "$build/librtperf.a" ] || { echo "FAIL: $build/librtperf.a missing; run make first"; exit 1; }

work=$(mktemp -d)
# a browser's helper that outlives it must not fail the test here (set -e)
trap 'rm -rf "$work" || true' EXIT
cc -O2 -std=gnu11 -Wall -D_GNU_SOURCE -I"$top" -I"$build" -o "$work/mkflame" \
	"$top/tests/e2e/svg/mkflame.c" "$build/librtperf.a" -lm

python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
deep = ";".join("recurse" for _ in range(150))
with open(w + "/deep.folded", "w") as f:
    f.write("python3;main;work_a 50\npython3;main;work_b 40\npython3;main;%s;deep_tip 10\n" % deep)
chain = ";".join("c%d" % i for i in range(120))
more = ";".join("d%d" % i for i in range(60))
with open(w + "/chain.folded", "w") as f:
    f.write("%s;part_x 50\n%s;part_y;%s 30\n" % (chain, chain, more))
with open(w + "/short.folded", "w") as f:
    f.write("python3;main;work_a 50\npython3;main;work_b 40\n")
PY
for g in deep chain short; do
	"$work/mkflame" "$g" <"$work/$g.folded" >"$work/$g.svg"
done

tall() { # svg shown [hidden]
	local try
	for try in 1 2; do
		if timeout 60 python3 "$top/tests/e2e/svg/cdp_tall.py" "$chromium" "$work/$1.svg" \
			"$(mktemp -d -p "$work")" 600 "${@:2}"; then
			return 0
		fi
		echo "check failed (try $try)"
	done
	echo "FAIL: $1.svg does not open where its stacks are"
	exit 1
}
tall deep work_a deep_tip
tall chain part_x c0
out=$(tall short work_a)
echo "$out"
grep -q "opened at scrollY 0 " <<<"$out" || { echo "FAIL: a short graph scrolled"; exit 1; }
echo "svg_tall: ok"
