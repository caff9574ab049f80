#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf checks a 3.13 interpreter's _Py_DebugOffsets against its layout
# table before walking it: a real CPython 3.13 passes, a process that says it
# is 3.13.0 but whose _Py_DebugOffsets disagrees is refused with one clear
# line naming the member.
. "$(dirname "$0")/workloads/py311_common.bash"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v perf >/dev/null || skip "perf is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built (run make)"

# a "CPython 3.13.0" whose _Py_DebugOffsets has the cookie and zeros
cat >"$PY_TMP/fake313.c" <<'EOF2'
const unsigned int Py_Version = 0x030d00f0;
char _PyRuntime[8192] = "xdebugpy";
int main(void) { volatile char *p = _PyRuntime + 4096; for (;;) p[0]++; }
EOF2
cc -O0 -o "$PY_TMP/python3.13" "$PY_TMP/fake313.c" || fail "cannot build the fake interpreter"
"$PY_TMP/python3.13" & fpid=$!
sleep 0.3
timeout 20 "$RT_BPF" record -p "$fpid" -o "$PY_TMP/f.data" >"$PY_TMP/f.out" 2>&1
rc=$?
kill "$fpid"
cat "$PY_TMP/f.out"
[ $rc -ne 0 ] || fail "rt-bpf accepted a 3.13 process whose _Py_DebugOffsets disagrees"
grep -q "refusing to walk it: its _Py_DebugOffsets says runtime_interpreters_head is 0" "$PY_TMP/f.out" ||
	fail "no clear refusal message"

py=${PYENV_VERSIONS_DIR:-/root/.pyenv/versions}/3.13.0/bin/python3.13
[ -x "$py" ] || skip "no pyenv CPython 3.13.0 for the passing case (the refusal was checked)"
"$py" -c 'import time; time.sleep(1.5)' & ppid=$!
sleep 0.4
timeout 20 "$RT_BPF" record -p "$ppid" -o "$PY_TMP/p.data" >"$PY_TMP/p.out" 2>&1
rc=$?
wait "$ppid"
grep -q refusing "$PY_TMP/p.out" && fail "a real 3.13 was refused: $(grep refusing "$PY_TMP/p.out")"
[ $rc -eq 0 ] || fail "rt-bpf record -p on CPython 3.13 failed: $(tail -2 "$PY_TMP/p.out")"
echo "3.13 _Py_DebugOffsets: real 3.13.0 accepted, disagreeing one refused"
