#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt_perf_record() in command mode: the driver starts perf record -a itself,
# attaches tests/e2e/attach/echo.bpf.c filtered on the command's pid, enables
# perf, releases the command and stops perf when it exits.  Every native
# sample of the command must have its echo record.  Needs root, perf, BTF.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
driver=$build/tests/attach_echo busy=$build/tests/attach/busy

[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
command -v perf >/dev/null || { echo "skipped: perf not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "skipped: kernel without BTF"; exit 77; }
[ -x "$driver" ] && [ -x "$busy" ] || { echo "attach_echo not built ($driver)"; exit 1; }

tmp=$(mktemp -d /tmp/rt-record.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$driver" record "$tmp/perf.data" 499 -- "$busy" 2 >"$tmp/out" 2>&1; rc=$?
cat "$tmp/out"
[ "$rc" = 0 ] || { echo "attach_echo record failed ($rc)"; exit 1; }
grep -Eq 'perf_status=(0|2) target_status=0' "$tmp/out" || { echo "bad exit statuses"; exit 1; }
filter=$(sed -n 's/^attached.* filter=\([0-9]*\).*/\1/p' "$tmp/out")
[ -n "$filter" ] && [ "$filter" -gt 0 ] || { echo "no target pid reported"; exit 1; }
runs=$(sed -n 's/^echo: .*runs=\([0-9]*\).*mean_ns=\([0-9]*\).*/\1 \2/p' "$tmp/out")
echo "FIGURE attach record: program runs/mean ns = $runs"
python3 "$top/tests/e2e/attach/check.py" "$tmp/perf.data" "$filter" attached command-mode
