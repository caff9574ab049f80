#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf's user errors: one clear line and a non-zero exit, and `rt-bpf
# attach` joining a perf record that is already running.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require

expect_error() { # regex command...
	local re=$1; shift
	"$@" >"$PY_TMP/out" 2>"$PY_TMP/err"
	local rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' exited 0"
	grep -Eq "$re" "$PY_TMP/err" || fail "'$*' said: $(cat "$PY_TMP/err")"
	echo "ok: $* -> $(head -1 "$PY_TMP/err")"
}

expect_error 'usage' "$RT_BPF"
expect_error 'exactly one of' "$RT_BPF" record -a -p 1
expect_error 'unknown command' "$RT_BPF" frobnicate
expect_error 'perf not found' env PERF=/nonexistent/perf "$RT_BPF" record -a
if command -v setpriv >/dev/null; then
	expect_error 'needs root' setpriv --reuid 65534 --regid 65534 --clear-groups "$RT_BPF" attach
fi
sleep 5 & spid=$!
expect_error "process $spid is not CPython" "$RT_BPF" record -p "$spid"
kill "$spid"
# a "CPython" of a version without a layout table: Py_Version says 3.99.0,
# and it has no _Py_DebugOffsets to be walked from
cat >"$PY_TMP/py399.c" <<'EOF'
const unsigned int Py_Version = 0x036300f0;
char _PyRuntime[4096];
int main(void) { volatile char *p = _PyRuntime; for (;;) p[0]++; }
EOF
if cc -O0 -o "$PY_TMP/python3.99" "$PY_TMP/py399.c"; then
	"$PY_TMP/python3.99" & ppid=$!
	# it spins: a failed check must not leave it running
	trap 'kill "$ppid" 2>/dev/null; rm -rf "$PY_TMP"' EXIT
	sleep 0.3
	expect_error "3\.99\.0: refusing to walk it: no _Py_DebugOffsets cookie" "$RT_BPF" record -p "$ppid"
	kill "$ppid"
	trap 'rm -rf "$PY_TMP"' EXIT
fi
expect_error 'no process' "$RT_BPF" attach -p 999999999
# no perf record running
pgrep -x perf >/dev/null || expect_error 'perf' "$RT_BPF" attach
# a perf record without the bpf-output event
perf record -a -e cpu-clock -o "$PY_TMP/noch.data" -- sleep 3 >/dev/null 2>&1 & perfpid=$!
sleep 1
expect_error 'bpf-output' "$RT_BPF" attach --perf-pid "$perfpid"
wait "$perfpid"

# attach to a running perf record -a, then decode
py=${PYTHONS[0]}
perf record -a -g -k mono -e cpu-clock -F 499 -e 'bpf-output/no-inherit,name=rt/' \
	-o "$PY_TMP/att.data" -- sleep 4 >/dev/null 2>"$PY_TMP/perf.err" & perfpid=$!
sleep 1
"$RT_BPF" attach --perf-pid "$perfpid" 2>"$PY_TMP/att.err" & apid=$!
sleep 0.5
"$py" "$WORKLOADS/py_split.py" 1.5
wait "$perfpid"
wait "$apid" || fail "rt-bpf attach failed: $(cat "$PY_TMP/att.err")"
cat "$PY_TMP/att.err"
perf script -i "$PY_TMP/att.data" -F comm,tid,event,bpf-output 2>/dev/null | "$RT_DECODE" >"$PY_TMP/att.txt"
n=$(grep -c 'branch_a@[^;]*:18;work@' "$PY_TMP/att.txt")
echo "attach: $n stacks in branch_a"
[ "$n" -ge 50 ] || fail "attach mode recorded only $n branch_a stacks"
