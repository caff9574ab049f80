#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The attach library's user errors: one clear line and a failure, never a
# crash or a silent success.  perf without a bpf-output event, with an
# inheriting one, a pid that is not perf, and a second attacher on the same
# perf.  Needs root, perf, BTF.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
driver=$build/tests/attach_echo

[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
command -v perf >/dev/null || { echo "skipped: perf not installed"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "skipped: kernel without BTF"; exit 77; }
[ -x "$driver" ] || { echo "attach_echo not built ($driver)"; exit 1; }

tmp=$(mktemp -d /tmp/rt-attach-err.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0

# Starts perf with the given events (disabled) and waits until it is ready.
start_perf() { # name events...
	local name=$1; shift
	rm -f "$tmp/ctl" "$tmp/ack"
	mkfifo "$tmp/ctl" "$tmp/ack"
	perf record -a -k mono -F 99 "$@" -D -1 --control "fifo:$tmp/ctl,$tmp/ack" \
		-o "$tmp/$name.data" 2>"$tmp/$name.err" &
	perf_pid=$!; pids+=("$perf_pid")
	exec 3<>"$tmp/ctl" 4<>"$tmp/ack"
	echo ping >&3
	read -r -t 20 -u 4 _ || { echo "perf ($name) did not start"; cat "$tmp/$name.err"; exit 1; }
}

expect_fail() { # what pattern command...
	local what=$1 pattern=$2; shift 2
	if "$@" >"$tmp/out" 2>&1; then
		echo "FAIL $what: succeeded"; fails=$((fails + 1))
	elif ! grep -q -- "$pattern" "$tmp/out"; then
		echo "FAIL $what: message lacks '$pattern':"; cat "$tmp/out"; fails=$((fails + 1))
	else
		echo "ok $what: $(head -n 1 "$tmp/out")"
	fi
}

start_perf nochannel -e cpu-clock
expect_fail "no channel" "bpf-output/no-inherit,name=rt/" "$driver" attach "$perf_pid"
kill -INT "$perf_pid"

start_perf inherit -e cpu-clock -e bpf-output/name=rt/
expect_fail "inheriting channel" "inherits" "$driver" attach "$perf_pid"
kill -INT "$perf_pid"

expect_fail "not perf" "holds no sampling perf events" "$driver" attach $$

start_perf twice -e cpu-clock -e bpf-output/no-inherit,name=rt/
"$driver" attach "$perf_pid" >"$tmp/first" 2>&1 & first=$!; pids+=("$first")
for _ in $(seq 100); do grep -q '^attached' "$tmp/first" && break; sleep 0.1; done
grep -q '^attached' "$tmp/first" || { echo "first attacher failed"; cat "$tmp/first"; exit 1; }
expect_fail "second attacher" "another program is attached" "$driver" attach "$perf_pid"
kill -TERM "$first"; wait "$first"
grep -q '^echo:' "$tmp/first" || { echo "FAIL first attacher did not report on SIGTERM"; fails=$((fails + 1)); }
kill -INT "$perf_pid"

wait 2>/dev/null
echo "FIGURE attach errors: $fails unexpected"
[ "$fails" = 0 ]
