#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `rt-bpf attach` to a perf record that is already running, while a Python
# program is already running (no restart of either), then rtmerge: the
# folded stacks of that process carry its Python frames.  Also the two user
# errors py311_cli.sh cannot reach: no kernel BTF (hidden in a private mount
# namespace) and a perf that is too old.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require
W=$WORKLOADS/py_split.py

expect_error() { # regex command...
	local re=$1; shift
	"$@" >"$PY_TMP/out" 2>"$PY_TMP/err"
	local rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' exited 0"
	grep -Eq "$re" "$PY_TMP/err" || fail "'$*' said: $(cat "$PY_TMP/err")"
	[ "$(wc -l <"$PY_TMP/err")" -le 2 ] || fail "'$*' said more than a line or two: $(cat "$PY_TMP/err")"
	echo "ok: $* -> $(head -1 "$PY_TMP/err")"
}
printf '#!/bin/sh\necho "perf version 5.4.0"\n' >"$PY_TMP/oldperf"
chmod +x "$PY_TMP/oldperf"
expect_error 'perf 5\.4 is too old' env PERF="$PY_TMP/oldperf" "$RT_BPF" record -a
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	expect_error 'no kernel BTF' unshare -m sh -c \
		'mount -t tmpfs none /sys/kernel/btf && exec "$0" record -a' "$RT_BPF"
else
	echo "no-BTF case not run: unshare -m unavailable"
fi

for py in "${PYTHONS[@]}"; do
	name=$(py311_name "$py")
	"$py" "$W" 4 >/dev/null & wpid=$!
	perf record -a -g -k mono -e cpu-clock -F 499 -e 'bpf-output/no-inherit,name=rt/' \
		-o "$PY_TMP/$name.data" -- sleep 2.5 >/dev/null 2>"$PY_TMP/$name.perf" & perfpid=$!
	sleep 0.5
	timeout 20 "$RT_BPF" attach --perf-pid "$perfpid" -p "$wpid" 2>"$PY_TMP/$name.err" & apid=$!
	wait "$perfpid" || fail "$name: perf record failed: $(tail -2 "$PY_TMP/$name.perf")"
	wait "$apid" || fail "$name: rt-bpf attach failed: $(cat "$PY_TMP/$name.err")"
	kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
	grep '^rt-bpf: python' "$PY_TMP/$name.err"
	py311_merge "$name"
	PID=$wpid py311_check "$name" "$W" <<'PY'
import os, sys
import py311_folded as F
name, folded, wl = sys.argv[1:4]
pid = int(os.environ["PID"])
st = [s for s in F.load(folded, wl) if s.pid == pid]
a = b = other = wrong = 0
odd = {}
def valid(fl):
    # a path of the program's call tree, root first
    if fl[:1] != [("<module>", 32)] or len(fl) < 2 or fl[1][0] != "main":
        return False
    calls = {28: "branch_a", 29: "branch_b"}
    # a branch's body line, or its def line: a sample can land on the
    # function's entry (RESUME) before its first line runs
    lines = {"branch_a": (17, 18), "branch_b": (21, 22)}
    if len(fl) >= 3 and (fl[2][0] != calls.get(fl[1][1]) or fl[2][1] not in lines[fl[2][0]]):
        return False
    return all(f == "work" for f, _ in fl[3:]) and len(fl) <= 4
for s in st:
    fl = s.func_lines()
    if not s.interp:
        continue
    if not s.interp_contiguous_from_root() or not valid(fl):
        wrong += s.count
        odd[";".join(s.frames)[:250]] = s.count
    elif s.funcs()[2:] == ["branch_a", "work"]:
        a += s.count
    elif s.funcs()[2:] == ["branch_b", "work"]:
        b += s.count
    else:
        other += s.count  # in main or a branch around the calls
share = a / (a + b) if a + b else 0
for k, v in sorted(odd.items(), key=lambda x: -x[1])[:3]:
    print(f"  wrong: {v} x {k}")
print(f"{name} attach: branch_a {a}, branch_b {b}, elsewhere in the call tree {other}, wrong {wrong}; "
      f"branch_a share {share:.2f}")
print(f"FIGURE py311 attach {name}: {a + b} samples of an already running process with its Python stack, branch_a share {share:.2f} (expected 0.75)")
sys.exit(0 if a + b >= 200 and 0.65 <= share <= 0.85 and wrong == 0 else 1)
PY
done
