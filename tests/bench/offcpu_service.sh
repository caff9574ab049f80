#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of rt-bpf record --off-cpu on a service-like workload: the bundled
# thread-per-request HTTP server (tests/e2e/workloads/py_server.py) on
# 127.0.0.1 serving REQS requests, one connection each, from a local load
# generator.  Configurations, alternating ROUNDS times: the server alone,
# under rt-bpf record, under rt-bpf record --off-cpu; each slowdown is the
# median over rounds of (seconds to serve the requests / the round's
# baseline).  The CPU time the server's own threads took (its getrusage at
# SIGTERM: the off-CPU program and perf's samples of a switch run in the
# thread that leaves the CPU, so they are in it) and that of the whole
# run (server, rt-bpf and perf: the wrapper's children) are compared the
# same way: far less noisy than the wall clock on this machine.
# WORKERS=N serves from a pool of N long-lived threads instead of a thread
# per request.
# Usage: offcpu_service.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/bench/rounds.bash"
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-5}
reqs=${REQS:-3000}
workers=${WORKERS:-}
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

run() { # config -> seconds to serve $reqs requests; appends "CONFIG SERVER-CPU ALL-CPU" to $tmp/cpu
	local port
	rm -f "$tmp/port" "$tmp/port.cpu" "$tmp/cpu_times"
	local server=(sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$tmp/pid" "$py" "$work" serve
		"$tmp/port" ${workers:+"$workers"})
	rm -f "$tmp/pid"
	# the command under a shell that reports its children's CPU time
	local timed=(bash -c '"$@"; times >"$TIMES"' timed)
	case $1 in
	base) TIMES=$tmp/cpu_times "${timed[@]}" "${server[@]}" >/dev/null & ;;
	rt) TIMES=$tmp/cpu_times "${timed[@]}" "$build/rt-bpf" record -F 99 -o "$tmp/r.data" -- \
		"${server[@]}" >/dev/null 2>>"$tmp/rt.err" & ;;
	off) TIMES=$tmp/cpu_times "${timed[@]}" "$build/rt-bpf" record --off-cpu -F 99 -o "$tmp/o.data" \
		-- "${server[@]}" >/dev/null 2>>"$tmp/off.err" & ;;
	pre) TIMES=$tmp/cpu_times "${timed[@]}" "$RT_BPF_BEFORE" record --off-cpu -F 99 -o "$tmp/p.data" \
		-- "${server[@]}" >/dev/null 2>>"$tmp/pre.err" & ;;
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
	# times' second line: the children's user and system time, "0m1.234s"
	echo "$1 $(cat "$tmp/port.cpu" 2>/dev/null) $(sed -n 2p "$tmp/cpu_times" 2>/dev/null |
		awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += 60 * a[1] + a[2] }
		print s }')" >>"$tmp/cpu"
}

bench_rounds offcpu_service "$rounds" "$tmp/times" "did not serve $reqs requests" || exit 1
bench_slowdowns "$tmp/times" "offcpu_service: $reqs requests, baseline median {base:.3f}s \
({per_s:.0f} requests/s), {rounds} rounds" "offcpu service" "$reqs"
sed -n 's/.*\(off-CPU: switches out=.*\)/\1/p' "$tmp/off.err" | tail -1 | sed 's/^/offcpu_service: last round: /'
summed_share "$tmp/off.err" "offcpu service"
# CPU per round and configuration, in the order the runs went (the same
# order as the times file's lines)
python3 - "$tmp/times" "$tmp/cpu" "$reqs" <<'PY'
import statistics, sys
rounds = [line.split()[0] for line in open(sys.argv[1])]
cpu = {}
for r, line in zip(rounds, open(sys.argv[2])):
    f = line.split()
    if len(f) == 3:
        cpu.setdefault(r, {})[f[0]] = (float(f[1]), float(f[2]))
full = [r for r in cpu if "base" in cpu[r] and cpu[r]["base"][0] > 0 and len(cpu[r]) >= 3]
if not full:
    print("offcpu_service: no CPU times read")
    sys.exit(0)
base = statistics.median(cpu[r]["base"][0] for r in full)
print("offcpu_service: the server's CPU, no profiling: median %.3f s (%.0f us per request), "
      "%d rounds" % (base, 1e6 * base / int(sys.argv[3]), len(full)))
for c, name in (("rt", "rt-bpf record"), ("off", "rt-bpf record --off-cpu"),
                ("pre", "RT_BPF_BEFORE's rt-bpf record --off-cpu")):
    if any(c not in cpu[r] for r in full):
        continue
    own = [cpu[r][c][0] / cpu[r]["base"][0] for r in full]
    every = [cpu[r][c][1] / cpu[r]["base"][0] for r in full]
    print(f"FIGURE offcpu service CPU {name}: the server's own {100 * (statistics.median(own) - 1):+.1f}% "
          f"(rounds {min(own):.3f}-{max(own):.3f}), with rt-bpf and perf {100 * (statistics.median(every) - 1):+.1f}% "
          f"(medians of per-round ratios against no profiling)")
if all("rt" in cpu[r] and "off" in cpu[r] for r in full):
    step = [cpu[r]["off"][0] / cpu[r]["rt"][0] for r in full]
    print(f"FIGURE offcpu service CPU --off-cpu against rt-bpf record: the server's own "
          f"{100 * (statistics.median(step) - 1):+.1f}% (rounds {min(step):.3f}-{max(step):.3f})")
PY
# the off-CPU program's own time (the kernel's BPF statistics, which rt-bpf
# prints) against the server's CPU, per --off-cpu run
paste -d' ' <(grep -o 'off-CPU program: [0-9]* scheduler switches, mean [0-9]* ns' "$tmp/off.err" |
	awk '{ print $3 * $7 }') <(awk '$1 == "off" { print $2 }' "$tmp/cpu") |
	awk '$2 > 0 { r = $1 / 1e9 / $2; s += r; n++; if (!n0 || r < lo) lo = r; if (r > hi) hi = r; n0 = 1 }
	END { if (n) printf "FIGURE offcpu service BPF time: the off-CPU program ran %.2f%% of the server'"'"'s CPU time (runs %.2f-%.2f%%, the kernel'"'"'s BPF statistics)\n", 100 * s / n, 100 * lo, 100 * hi }'
true
