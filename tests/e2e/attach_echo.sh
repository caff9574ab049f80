#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Attaches tests/e2e/attach/echo.bpf.c to an unmodified, system-wide
# `perf record` found by pid, then SIGKILLs the attacher mid-run: perf.data
# must hold echo records next to the busy loop's native samples (magic, tid,
# callchain through spin_inner), and native samples must keep coming after
# the kill.  Needs root, perf, BTF.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
driver=$build/tests/attach_echo busy=$build/tests/attach/busy

[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
command -v perf >/dev/null || { echo "skipped: perf not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "skipped: kernel without BTF"; exit 77; }
[ -x "$driver" ] && [ -x "$busy" ] || { echo "attach_echo not built ($driver)"; exit 1; }

tmp=$(mktemp -d /tmp/rt-attach.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mkfifo "$tmp/ctl" "$tmp/ack"
"$busy" 4.5 "$tmp/go" & busy_pid=$!; pids+=("$busy_pid")
perf record -a -g -k mono -e cpu-clock -F 499 -e bpf-output/no-inherit,name=rt/ \
	-D -1 --control "fifo:$tmp/ctl,$tmp/ack" -o "$tmp/perf.data" 2>"$tmp/perf.err" &
perf_pid=$!; pids+=("$perf_pid")
exec 3<>"$tmp/ctl" 4<>"$tmp/ack"
echo ping >&3
read -r -t 20 -u 4 reply || { echo "perf did not start"; cat "$tmp/perf.err"; exit 1; }

"$driver" attach "$perf_pid" "$busy_pid" >"$tmp/echo.out" 2>&1 & echo_pid=$!; pids+=("$echo_pid")
for _ in $(seq 100); do
	grep -q '^attached' "$tmp/echo.out" && break
	kill -0 "$echo_pid" 2>/dev/null || break
	sleep 0.1
done
grep '^attached' "$tmp/echo.out" || { echo "attacher failed:"; cat "$tmp/echo.out"; exit 1; }
grep -q 'system_wide=1' "$tmp/echo.out" || { echo "expected per-cpu channels"; exit 1; }

echo enable >&3
read -r -t 10 -u 4 reply || { echo "perf did not acknowledge enable"; exit 1; }
touch "$tmp/go"
sleep 2
kill -KILL "$echo_pid"
wait "$echo_pid" 2>/dev/null
# The link died with the attacher: nothing of ours may stay in the kernel.
if bpftool prog show name rt_echo 2>/dev/null | grep -q rt_echo; then
	echo "rt_echo still loaded after its attacher was killed"; exit 1
fi
sleep 2
kill -INT "$perf_pid"
wait "$perf_pid"; rc=$?
# perf re-raises the SIGINT it handled (130).
[ "$rc" = 0 ] || [ "$rc" = 130 ] || { echo "perf record exited $rc"; cat "$tmp/perf.err"; exit 1; }
python3 "$top/tests/e2e/attach/check.py" "$tmp/perf.data" "$busy_pid" killed system-wide-sigkill
