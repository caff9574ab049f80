#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make demo`: profile the bundled Python program (examples/demo.py) with
# `rt-bpf record` and write its folded stacks and SVG flamegraph into
# build/demo/ (or $DEMO_OUT): Python frames spliced into native stacks that
# rtmerge unwinds from perf's stack copies (--call-graph dwarf: no frame
# pointers needed).  tests/e2e/demo.sh checks what it writes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${1:-build}
out=${DEMO_OUT:-$top/build/demo}
mkdir -p "$out"
[ "$(id -u)" -eq 0 ] || { echo "demo: perf record -a and BPF need root" >&2; exit 1; }

py=
for cand in /root/.pyenv/versions/3.11.7/bin/python3.11 /usr/bin/python3.11; do
	[ -x "$cand" ] && { py=$cand; break; }
done
[ -n "$py" ] || { echo "demo: needs CPython 3.11 (Debian: apt-get install python3.11)" >&2; exit 1; }

echo "demo: recording $py examples/demo.py with rt-bpf (3 s, 999 Hz, --call-graph dwarf)"
rm -f "$out/demo.pid"
# the shell execs python, so the pid it writes is the program's
"$build/rt-bpf" record -F 999 --call-graph dwarf -o "$out/perf.data" -- \
	sh -c 'echo $$ >"$1"; exec "$2" "$3" 3' sh "$out/demo.pid" "$py" "$top/examples/demo.py" \
	2> >(grep -E '^rt-bpf: (python samples|wrote)' >&2)
pid=$(cat "$out/demo.pid")
# rt-bpf record runs perf system-wide: keep the demo's own process
"$build/rtmerge" -p "$pid" "$out/perf.data" >"$out/folded.txt"
"$build/rtmerge" -q -p "$pid" -f svg --title "rtperf demo: examples/demo.py ($(basename "$py"))" \
	-o "$out/flamegraph.svg" "$out/perf.data"
echo "demo: folded stacks: $out/folded.txt"
echo "demo: flamegraph:    $out/flamegraph.svg"
