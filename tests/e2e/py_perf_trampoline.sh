#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# CPython 3.12+ run with -X perf puts a trampoline frame named "py::func:file"
# (from /tmp/perf-PID.map) before each eval loop.  With rt-bpf's frames
# spliced in, rtmerge must not show the function twice: no folded stack
# that has interpreter frames keeps a py:: frame, while the native-only
# view (the same samples, not spliced) shows them.
. "$(dirname "$0")/workloads/py311_common.bash"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record -a)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v perf >/dev/null || skip "perf is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built (run make)"
RTMERGE=$RT_BUILD/rtmerge
[ -x "$RTMERGE" ] || fail "$RTMERGE not built"
py=
for v in 3.13.0 3.12.1; do
	b=${PYENV_VERSIONS_DIR:-/root/.pyenv/versions}/$v/bin/python${v%.*}
	[ -x "$b" ] && { py=$b; break; }
done
[ -n "$py" ] || skip "no pyenv CPython 3.12 or 3.13 (-X perf)"
W=$WORKLOADS/py_split.py
# dwarf: the trampolines are reached by unwinding, not by frame pointers
timeout 40 "$RT_BPF" record -F 299 --call-graph dwarf -o "$PY_TMP/t.data" -- "$py" -X perf "$W" 1.5 \
	>/dev/null 2>"$PY_TMP/t.err" || true
[ -s "$PY_TMP/t.data" ] || fail "no perf.data: $(tail -2 "$PY_TMP/t.err")"
"$RTMERGE" --native-only "$PY_TMP/t.data" >"$PY_TMP/native.folded" 2>/dev/null || fail "rtmerge failed"
"$RTMERGE" "$PY_TMP/t.data" >"$PY_TMP/merged.folded" 2>/dev/null || fail "rtmerge failed"
native=$(grep -c 'py::work:' "$PY_TMP/native.folded")
[ "$native" -gt 0 ] || skip "no py:: trampoline frame reached by unwinding (perf map not read?)"
with_interp=$(grep -c 'py_split.py:[0-9]*)' "$PY_TMP/merged.folded")
twice=$(grep 'py_split.py:[0-9]*)' "$PY_TMP/merged.folded" | grep -c 'py::')
echo "native-only stacks with a py::work trampoline: $native; merged stacks with Python frames: $with_interp, of them with a py:: frame: $twice"
[ "$with_interp" -gt 0 ] || fail "no merged stack has interpreter frames"
[ "$twice" = 0 ] || fail "py:: trampolines kept next to interpreter frames: $(grep 'py_split.py' "$PY_TMP/merged.folded" | grep 'py::' | head -2)"
echo "FIGURE py -X perf: 0 of $with_interp merged Python stacks show a py:: trampoline ($native native-only stacks had one)"
