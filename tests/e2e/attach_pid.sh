#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt_perf_record() in pid mode: perf record -p opens one bpf-output event per
# (thread, cpu), so the echo program finds its channel through the tid->slot
# map rtbpf/perfsession.c fills.  Every native sample of the target must have
# its echo record; recording ends when the target exits.  Needs root, perf, BTF.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
driver=$build/tests/attach_echo busy=$build/tests/attach/busy

[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
command -v perf >/dev/null || { echo "skipped: perf not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "skipped: kernel without BTF"; exit 77; }
[ -x "$driver" ] && [ -x "$busy" ] || { echo "attach_echo not built ($driver)"; exit 1; }

tmp=$(mktemp -d /tmp/rt-pid.XXXXXX)
"$busy" 3.5 "$tmp/go" & busy_pid=$!
trap 'kill -KILL $busy_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# Release the loop once the driver says it is attached (perf is enabled right after).
"$driver" record "$tmp/perf.data" 499 -p "$busy_pid" >"$tmp/out" 2>&1 & driver_pid=$!
for _ in $(seq 200); do
	grep -q '^attached' "$tmp/out" && break
	kill -0 "$driver_pid" 2>/dev/null || break
	sleep 0.05
done
touch "$tmp/go"
wait "$driver_pid"; rc=$?
cat "$tmp/out"
[ "$rc" = 0 ] || { echo "attach_echo record -p failed ($rc)"; exit 1; }
grep -q 'system_wide=0' "$tmp/out" || { echo "expected per-thread channels"; exit 1; }
python3 "$top/tests/e2e/attach/check.py" "$tmp/perf.data" "$busy_pid" attached pid-mode
