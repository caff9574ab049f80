#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf async --ps on Debian's CPython 3.14 and 3.15 (sid's root of
# scripts/rootfs.sh, in a container): the ground truth
# (workloads/py_async_tree.py, eleven tasks in a known await tree) is read
# from outside and compared with what the interpreter's own `python -m
# asyncio ps` and `pstree`, run inside the same container, print: the rows
# of the table and the paths of the tree must be the same sets, and the
# tree must be the known one (workloads/asyncio_ps_check.py).
. "$(dirname "$0")/lib.sh"
WORKLOADS=$RT_TOP/tests/e2e/workloads

[ "$(id -u)" -eq 0 ] || skip "needs root to read another process's memory and enter its namespaces"
command -v nsenter >/dev/null || skip "nsenter is not installed"
command -v python3 >/dev/null || skip "no python3 for the check"
root=$(bash "$RT_TOP/scripts/rootfs.sh" --dir sid 2>/dev/null || true)
[ -n "$root" ] && [ -f "$root/.rtperf-rootfs" ] || skip "no sid root with python3.14/3.15 (scripts/rootfs.sh)"

# the container's python as pid 1 of its pid namespace; $1: interpreter
run_one() {
	local py=$1 out=$E2E_TMP/$1 wl upid pid nspid i
	wl=$(mktemp "$root/tmp/asyncio_ps.XXXXXX")
	cp "$WORKLOADS/py_async_tree.py" "$wl"
	unshare --pid --mount --uts --ipc --fork --mount-proc="$root/proc" \
		chroot "$root" "$py" "/tmp/${wl##*/}" >"$out.stdout" 2>&1 &
	upid=$!
	for i in $(seq 100); do
		grep -q ready "$out.stdout" 2>/dev/null && break
		sleep 0.1
	done
	pid=$(pgrep -P "$upid" | head -1)
	[ -n "$pid" ] && grep -q ready "$out.stdout" || { rm -f "$wl"; fail "$py: the ground truth did not start: $(cat "$out.stdout")"; }
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
	"$RT_BUILD/rt-bpf" async --ps -p "$pid" --json "$out.json" >"$out.mine" 2>"$out.err" ||
		{ kill -9 "$pid"; rm -f "$wl"; fail "$py: rt-bpf async --ps failed: $(cat "$out.err")"; }
	nsenter -t "$pid" -p -m -r -w "$py" -m asyncio ps "$nspid" >"$out.ps" 2>&1
	nsenter -t "$pid" -p -m -r -w "$py" -m asyncio pstree "$nspid" >"$out.pstree" 2>&1
	kill -9 "$pid"
	wait "$upid" 2>/dev/null
	rm -f "$wl"
	python3 "$WORKLOADS/asyncio_ps_check.py" "$py" "$out.json" "$out.mine" "$out.ps" "$out.pstree" ||
		{ cat "$out.mine" "$out.ps"; fail "$py: rt-bpf async --ps and the interpreter's asyncio ps disagree"; }
}

ran=0
for py in python3.14 python3.15; do
	[ -x "$root/usr/bin/$py" ] || continue
	run_one "$py"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "the sid root has neither python3.14 nor python3.15"
echo "PASS: asyncio_ps ($ran interpreters)"
