#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of rt-bpf record --off-cpu on a service-like workload: the bundled
# thread-per-request HTTP server (tests/e2e/workloads/py_server.py) on
# 127.0.0.1 serving REQS requests, one connection each, from a local load
# generator.  Configurations, alternating ROUNDS times: the server alone,
# under rt-bpf record, under rt-bpf record --off-cpu; each slowdown is the
# median over rounds of (seconds to serve the requests / the round's
# baseline).
# Usage: offcpu_service.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
reqs=${REQS:-3000}
py=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x "$py" ] || py=/usr/bin/python3.11
work=$top/tests/e2e/workloads/py_server.py
skip() { echo "offcpu_service: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$py" ] || skip "no CPython 3.11"
[ -x "$build/rt-bpf" ] || skip "$build/rt-bpf not built"
command -v perf >/dev/null || skip "perf is not installed"
tmp=$(mktemp -d /tmp/rt-offsvc.XXXXXX)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT

run() { # config -> seconds to serve $reqs requests
	local port
	rm -f "$tmp/port"
	local server=(sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$tmp/pid" "$py" "$work" serve
		"$tmp/port")
	rm -f "$tmp/pid"
	case $1 in
	base) "${server[@]}" >/dev/null & ;;
	rt) "$build/rt-bpf" record -F 99 -o "$tmp/r.data" -- "${server[@]}" >/dev/null \
		2>>"$tmp/rt.err" & ;;
	off) "$build/rt-bpf" record --off-cpu -F 99 -o "$tmp/o.data" -- "${server[@]}" >/dev/null \
		2>>"$tmp/off.err" & ;;
	esac
	job=$!
	for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	port=$(cat "$tmp/port" 2>/dev/null)
	if [ -n "$port" ]; then
		python3 -c 'import subprocess, sys, time
t0 = time.monotonic()
n = int(subprocess.check_output(sys.argv[1:]))
t = time.monotonic() - t0
print("%.4f" % t if n == int(sys.argv[5]) else "")' "$py" "$work" load "$port" "$reqs" 60
	fi
	# the server (rt-bpf's command): rt-bpf ends with it.  SIGTERM: a
	# background job of a script starts with SIGINT ignored.
	spid=$(cat "$tmp/pid" 2>/dev/null)
	[ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
	wait "$job" 2>/dev/null
	spid=
}

configs=(base rt off)
for r in $(seq "$rounds"); do
	k=$(((r - 1) % ${#configs[@]}))
	order=("${configs[@]:k}" "${configs[@]:0:k}")
	for c in "${order[@]}"; do
		s=$(run "$c")
		[ -n "$s" ] || { echo "offcpu_service: $c did not serve $reqs requests" >&2; exit 1; }
		echo "$r $c $s" >>"$tmp/times"
	done
	echo "offcpu_service: round $r: $(awk -v r="$r" '$1 == r { printf "%s %ss  ", $2, $3 }' "$tmp/times")"
done
python3 - "$tmp/times" "$reqs" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    r, c, s = line.split()
    t.setdefault(int(r), {})[c] = float(s)
reqs = int(sys.argv[2])
base = statistics.median(t[r]["base"] for r in t)
print(f"offcpu_service: {reqs} requests, baseline median {base:.3f}s "
      f"({reqs / base:.0f} requests/s), {len(t)} rounds")
for c, name in (("rt", "rt-bpf record"), ("off", "rt-bpf record --off-cpu")):
    ratio = statistics.median(t[r][c] / t[r]["base"] for r in t)
    print(f"FIGURE offcpu service slowdown {name}: {100 * (ratio - 1):+.1f}% "
          f"(median of per-round ratios against no profiling)")
PY
sed -n 's/.*\(off-CPU: switches out=.*\)/\1/p' "$tmp/off.err" | tail -1 | sed 's/^/offcpu_service: last round: /'
true
