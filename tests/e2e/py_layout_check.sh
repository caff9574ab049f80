#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf walks a 3.13+ interpreter from its own _Py_DebugOffsets and checks
# that table before using it: a process that says it is 3.13.0 but whose
# table gives its structs no size is refused with one clear line; a real
# CPython 3.13 passes, and a layout given with --layout that contradicts its
# table is refused (named member, one line) while the process is still
# walked from its own table.
. "$(dirname "$0")/workloads/py311_common.bash"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v perf >/dev/null || skip "perf is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built (run make)"

# a "CPython 3.13.0" whose _Py_DebugOffsets has the cookie, the version and zeros
cat >"$PY_TMP/fake313.c" <<'EOF2'
const unsigned int Py_Version = 0x030d00f0;
char _PyRuntime[8192] = "xdebugpy\xf0\x00\x0d\x03";
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
grep -q "refusing to walk it: its _Py_DebugOffsets gives _PyRuntimeState a size of 0" "$PY_TMP/f.out" ||
	fail "no clear refusal message"

py=${PYENV_VERSIONS_DIR:-/root/.pyenv/versions}/3.13.0/bin/python3.13
[ -x "$py" ] || skip "no pyenv CPython 3.13.0 for the passing case (the refusal was checked)"
"$py" -c 'import time; time.sleep(1.5)' & ppid=$!
sleep 0.4
timeout 20 "$RT_BPF" record -p "$ppid" -o "$PY_TMP/p.data" >"$PY_TMP/p.out" 2>&1
rc=$?
wait "$ppid"
grep -q refus "$PY_TMP/p.out" && fail "a real 3.13 was refused: $(grep refus "$PY_TMP/p.out")"
[ $rc -eq 0 ] || fail "rt-bpf record -p on CPython 3.13 failed: $(tail -2 "$PY_TMP/p.out")"

# a layout that contradicts the process's table: refused, the walk goes on
sed 's/^tstate_native_thread_id .*/tstate_native_thread_id 168/' \
	"$RT_TOP/layouts/data/cpython-3.13.0.layout" >"$PY_TMP/bad.layout"
timeout 20 "$RT_BPF" record --layout "$PY_TMP/bad.layout" -F 499 -o "$PY_TMP/b.data" -- \
	"$py" "$WORKLOADS/py_recurse.py" 20 0.8 >"$PY_TMP/b.out" 2>"$PY_TMP/b.err"
grep refused "$PY_TMP/b.err"
grep -q "layout table for 3.13.0-0 refused: the layout says tstate_native_thread_id is 168, the process's _Py_DebugOffsets says 160; walking it with its own _Py_DebugOffsets" "$PY_TMP/b.err" ||
	fail "a contradicting --layout was not refused in one line: $(grep rt-bpf "$PY_TMP/b.err" | head -3)"
walked=$(sed -n 's/^rt-bpf: python samples=\([0-9]*\), .* no thread state=\([0-9]*\),.*/\1 \2/p' "$PY_TMP/b.err")
set -- $walked
[ "${1:-0}" -ge 100 ] && [ "${2:-1}" -le $(( ${1:-0} / 100 )) ] ||
	fail "after refusing --layout, the process was not walked from its own table: $walked"
echo "FIGURE layout check: contradicting --layout refused, $1 samples walked from the process's own _Py_DebugOffsets"
echo "3.13 _Py_DebugOffsets: real 3.13.0 accepted, a table without sizes refused, a contradicting layout refused"
