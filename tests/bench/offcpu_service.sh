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
source "$top/tests/bench/rounds.bash"
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
	pre) "$RT_BPF_BEFORE" record --off-cpu -F 99 -o "$tmp/p.data" -- "${server[@]}" >/dev/null \
		2>>"$tmp/pre.err" & ;;
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

bench_rounds offcpu_service "$rounds" "$tmp/times" "did not serve $reqs requests" || exit 1
bench_slowdowns "$tmp/times" "offcpu_service: $reqs requests, baseline median {base:.3f}s \
({per_s:.0f} requests/s), {rounds} rounds" "offcpu service" "$reqs"
sed -n 's/.*\(off-CPU: switches out=.*\)/\1/p' "$tmp/off.err" | tail -1 | sed 's/^/offcpu_service: last round: /'
summed_share "$tmp/off.err" "offcpu service"
true
