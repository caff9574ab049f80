#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record -p PID on a thread-per-request server (ThreadingHTTPServer on
# 127.0.0.1) under bounded local load: the request threads, created after
# recording starts, carry their Python frames (handle_one_request) in a share
# of the server's samples comparable to -a, rtmerge folds only the target by
# default and says what it left out, and rt-bpf plus perf use no more CPU
# than with -a.
source "$(dirname "$0")/workloads/py311_common.bash"
py311_require
PY=$PY_DEBIAN
[ -x "$PY" ] || PY=${PYTHONS[0]}
SECS=3

"$PY" "$WORKLOADS/py_server.py" serve "$PY_TMP/port" &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; rm -rf "$PY_TMP"' EXIT
for _ in $(seq 100); do [ -s "$PY_TMP/port" ] && break; sleep 0.05; done
[ -s "$PY_TMP/port" ] || fail "the server did not start"
port=$(cat "$PY_TMP/port")

# record MODE: rt-bpf record (-p $spid | -a) -d $SECS under load; prints the CPU
# seconds rt-bpf and perf used (children's rusage).
record() {
	local mode=$1 args
	[ "$mode" = p ] && args="-p $spid" || args="-a"
	"$PY" "$WORKLOADS/py_server.py" load "$port" 4000 $((SECS + 2)) >"$PY_TMP/$mode.load" &
	local lpid=$!
	python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stderr=open(sys.argv[1], "w"))
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime)); sys.exit(rc)' "$PY_TMP/$mode.err" \
		"$RT_BPF" record -F 499 -d $SECS $args -o "$PY_TMP/$mode.data" >"$PY_TMP/$mode.cpu" ||
		fail "rt-bpf record $args: $(tail -3 "$PY_TMP/$mode.err")"
	wait $lpid
	grep '^rt-bpf:' "$PY_TMP/$mode.err" | sed "s/^/[$mode] /"
	echo "[$mode] requests served: $(cat "$PY_TMP/$mode.load")"
}

record p
record a
"$RT_MERGE" "$PY_TMP/p.data" >"$PY_TMP/p.folded" 2>"$PY_TMP/p.merr" || fail "rtmerge p.data"
"$RT_MERGE" -p "$spid" "$PY_TMP/a.data" >"$PY_TMP/a.folded" 2>/dev/null || fail "rtmerge a.data"
sed 's/^/[p] /' "$PY_TMP/p.merr"

share() { # folded file: samples in handle_one_request, server samples
	awk '{ n = $NF; t += n; if ($0 ~ /handle_one_request/) h += n } END { print h + 0, t + 0 }' "$1"
}
read -r ph pt < <(share "$PY_TMP/p.folded")
read -r ah at < <(share "$PY_TMP/a.folded")
pcpu=$(cat "$PY_TMP/p.cpu") acpu=$(cat "$PY_TMP/a.cpu")
echo "FIGURE -p: $ph of $pt server samples in handle_one_request; rt-bpf+perf CPU ${pcpu}s"
echo "FIGURE -a: $ah of $at server samples in handle_one_request; rt-bpf+perf CPU ${acpu}s"
[ "$at" -ge 100 ] && [ "$ah" -ge 30 ] || fail "-a baseline too small ($ah of $at): no load?"
[ "$pt" -ge 100 ] || fail "-p: only $pt server samples"
awk -v ph="$ph" -v pt="$pt" -v ah="$ah" -v at="$at" \
	'BEGIN { exit !(ph / pt >= 0.6 * ah / at) }' ||
	fail "-p: handle_one_request share $ph/$pt far below -a's $ah/$at"
awk -v p="$pcpu" -v a="$acpu" 'BEGIN { exit !(p <= 1.5 * a + 0.05) }' ||
	fail "-p cost ${pcpu}s of CPU, -a ${acpu}s"

# rtmerge's default on a -p recording: the target only, with a note.
grep -vq "^python3" "$PY_TMP/p.folded" && fail "-p: rtmerge folded other processes: $(grep -v '^python3' "$PY_TMP/p.folded" | head -2)"
grep -q "of other processes left out.*--all-processes" "$PY_TMP/p.merr" ||
	fail "-p: rtmerge did not say what it left out"
echo "ok"
