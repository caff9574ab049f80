#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A JIT in its own pid and mount namespaces (a container's view: it is pid
# 1 and writes /tmp/perf-1.map in a private /tmp): rtmerge, given perf's
# host pid, must read that map inside the process's root by its namespace
# pid, and must refuse it once another user owns it.
source "$(dirname "$0")/lib.sh"
require_perf
command -v python3 >/dev/null || skip "python3 is not installed"
command -v unshare >/dev/null || skip "unshare is not installed"
cd "$E2E_TMP"
# the script is opened before the private /tmp hides a checkout under /tmp
unshare --pid --fork --mount sh -c 'mount -t tmpfs none /tmp && cd / && exec python3 /dev/fd/3 jitspin.py' \
	3<"$RT_TOP/tests/e2e/hostile/jitspin.py" >ready.txt 2>jit.err &
outer=$!
trap 'kill -9 $outer $(pgrep -P $outer) 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 100); do grep -q ready ready.txt 2>/dev/null && break; sleep 0.1; done
grep -q "ready 1$" ready.txt || { cat jit.err; fail "cannot start the JIT in its own namespaces"; }
pid=$(pgrep -f -n "jitspin.py") || fail "no jitspin process"
[ -f "/proc/$pid/root/tmp/perf-1.map" ] || fail "the map is not in the process's own /tmp"
[ ! -e "/tmp/perf-$pid.map" ] || fail "a host map for $pid exists already"
perf record -q -g -e cpu-clock -F 999 -p "$pid" -o rec.data -- sleep 2 >/dev/null 2>&1 ||
	fail "perf record"
"$RTMERGE" --jit rec.data >own.out 2>own.err || { cat own.err; fail "rtmerge"; }
total=$(folded_total own.out)
jit=$(folded_count own.out 'jit_spin_\[j\]')
note "map inside the container: $jit of $total samples in jit_spin"
[ "$total" -gt 200 ] || fail "too few samples ($total)"
awk -v j="$jit" -v t="$total" 'BEGIN { exit !(j >= 0.8 * t) }' ||
	{ head own.out; fail "jit_spin named in $jit of $total samples"; }
# The same map, now owned by another user: refused, and said so.
chown 65534 "/proc/$pid/root/tmp/perf-1.map" || fail "chown"
"$RTMERGE" --jit rec.data >other.out 2>other.err || fail "rtmerge (other owner)"
[ "$(folded_count other.out 'jit_spin')" -eq 0 ] || fail "a map owned by another user was read"
grep -q 'ignoring /tmp/perf-1.map' other.err || { cat other.err; fail "refusal not reported"; }
note "map owned by another user: refused ($(grep -o 'owned by uid [0-9]*' other.err | head -1))"
echo "FIGURE container perf map: $jit of $total samples named from the container's own map"
echo "container_perfmap: ok"
