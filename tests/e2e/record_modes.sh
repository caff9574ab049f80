#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# How rt-bpf record ends and what rtmerge folds by default:
#  - record -- CMD names its target: rtmerge folds only CMD and the
#    processes it forks (a busy dd outside is left out, and counted), and
#    --all-processes folds everything;
#  - record -p PID walks the processes PID forks while recorded;
#  - record -a -d SECONDS ends by itself with a readable file;
#  - record -- node ... warns that no Python or Ruby process was found;
#  - PERF is never run through a shell.
source "$(dirname "$0")/workloads/py311_common.bash"
py311_require
PY=$PY_DEBIAN
[ -x "$PY" ] || PY=${PYTHONS[0]}

# A busy process outside the target, bounded in time.
timeout 6 dd if=/dev/zero of=/dev/null bs=1 2>/dev/null &
ddpid=$!
trap 'kill $ddpid 2>/dev/null; wait $ddpid 2>/dev/null; rm -rf "$PY_TMP"' EXIT

# The target is a shell; the Python program is its child.
timeout 30 "$RT_BPF" record -F 499 -o "$PY_TMP/c.data" -- sh -c \
	"'$PY' -c 'import time
def spin(end):
    while time.monotonic() < end: pass
spin(time.monotonic() + 1.5)'; true" 2>"$PY_TMP/c.err" ||
	fail "record -- CMD: $(tail -3 "$PY_TMP/c.err")"
grep '^rt-bpf:' "$PY_TMP/c.err"
cpid=$(sed -n 's/^rt-bpf: recording pid \([0-9]*\) and its children$/\1/p' "$PY_TMP/c.err")
[ -n "$cpid" ] || fail "rt-bpf did not print the command's pid"
"$RT_MERGE" "$PY_TMP/c.data" >"$PY_TMP/c.folded" 2>"$PY_TMP/c.merr" || fail "rtmerge c.data"
cat "$PY_TMP/c.merr"
# the command's process before its exec is rt-bpf-exec (rt-bpf's child
# starting it, as perf's is perf-exec)
others=$(grep -Ecv "^(rt-bpf-exec|sh|python3[.0-9]*)[; ]" "$PY_TMP/c.folded")
[ "$others" -eq 0 ] || fail "rtmerge folded $others stacks of other processes: $(grep -Ev "^(rt-bpf-exec|sh|python3[.0-9]*)[; ]" "$PY_TMP/c.folded" | head -2)"
spin=$(awk '/^python3[.0-9]*;.*spin/ { s += $NF } END { print s + 0 }' "$PY_TMP/c.folded")
echo "FIGURE -- CMD: $spin samples in spin (child of the target shell)"
[ "$spin" -ge 100 ] || fail "only $spin samples in the child's spin"
left=$(sed -n 's/^rtmerge: \([0-9]*\) samples of other processes left out.*--all-processes includes them$/\1/p' "$PY_TMP/c.merr")
[ -n "$left" ] && [ "$left" -gt 0 ] || fail "rtmerge did not say what it left out"
# Summaries that guide: perf's control chatter hidden, the sample accounting
# adds up, the broken frame-pointer chains of Debian's CPython get a hint.
grep -q "^Events \(dis\|en\)abled" "$PY_TMP/c.err" && fail "perf's Events lines shown"
read -r rd fo fi ot co < <(sed -n 's/^rtmerge: \([0-9]*\) samples read: \([0-9]*\) folded.*, \([0-9]*\) filtered out, \([0-9]*\) of other processes, \([0-9]*\) interpreter code records.*/\1 \2 \3 \4 \5/p' "$PY_TMP/c.merr")
sr=$(sed -n '1s/.* \([0-9]*\) interpreter stack records (joined.*/\1/p' "$PY_TMP/c.merr")
[ -n "${co:-}" ] && [ "$rd" -eq $((fo + fi + ot + co + ${sr:-0})) ] ||
	fail "sample accounting: $(head -1 "$PY_TMP/c.merr")"
if grep -q " [1-9][0-9]* with a broken native callchain" "$PY_TMP/c.merr"; then
	grep -q "hint: .*--call-graph dwarf" "$PY_TMP/c.merr" || fail "no --call-graph dwarf hint"
fi
"$RT_MERGE" --all-processes "$PY_TMP/c.data" >"$PY_TMP/all.folded" 2>/dev/null || fail "rtmerge --all-processes"
grep -q "^dd;" "$PY_TMP/all.folded" || fail "--all-processes: no dd samples"
ddchild=$(pgrep -P "$ddpid" dd) || fail "dd is gone already"
"$RT_MERGE" -p "$ddchild" "$PY_TMP/c.data" 2>/dev/null | grep -q "^dd;" ||
	fail "an explicit -p does not override the target"

# -p PID: the processes it forks while recorded are walked, as rtmerge
# folds them as the target's (they came out without interpreter frames)
"$PY" -c 'import os, sys, time
def child_spin():
    end = time.monotonic() + 0.7
    while time.monotonic() < end: pass
time.sleep(1.5)
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        child_spin()
        os._exit(0)
    os.waitpid(pid, 0)' &
ppid=$!
sleep 0.3
timeout 30 "$RT_BPF" record -F 199 -p "$ppid" -o "$PY_TMP/f.data" 2>"$PY_TMP/f.err" ||
	fail "record -p of a forking process: $(tail -3 "$PY_TMP/f.err")"
wait "$ppid"
grep -q "recording every thread of pid $ppid and the processes it starts" "$PY_TMP/f.err" ||
	fail "record -p did not say it follows the forks: $(head -3 "$PY_TMP/f.err")"
"$RT_MERGE" "$PY_TMP/f.data" >"$PY_TMP/f.folded" 2>/dev/null || fail "rtmerge f.data"
kids=$(awk '/^python3[.0-9]*;/ { s += $NF } END { print s + 0 }' "$PY_TMP/f.folded")
walked=$(awk '/;child_spin \(/ { s += $NF } END { print s + 0 }' "$PY_TMP/f.folded")
echo "FIGURE -p forks: $walked of $kids samples of the target's processes in child_spin with its Python frames"
# three children spin 0.7 s each at 199 Hz: about 420 samples
[ "$walked" -ge 200 ] || fail "-p: only $walked samples of the forked children carry their Python frames"

# -a -d: ends by itself; the time it took is the duration, not the timeout.
start=$(date +%s%N)
timeout 30 "$RT_BPF" record -a -d 1 -o "$PY_TMP/a.data" 2>"$PY_TMP/a.err" ||
	fail "record -a -d 1: $(tail -3 "$PY_TMP/a.err")"
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "record -a -d 1 took $took ms"
[ "$took" -lt 15000 ] || fail "record -a -d 1 took $took ms"
"$RT_MERGE" --all-processes "$PY_TMP/a.data" >/dev/null 2>"$PY_TMP/a.merr" || fail "rtmerge a.data"
grep -q "^rtmerge: [1-9][0-9]* samples read" "$PY_TMP/a.merr" || fail "a.data: $(head -1 "$PY_TMP/a.merr")"

# -- node: no interpreter rt-bpf knows.
if command -v node >/dev/null; then
	timeout 30 "$RT_BPF" record -d 5 -o "$PY_TMP/n.data" -- node -e \
		'const e = Date.now() + 300; while (Date.now() < e) {}' 2>"$PY_TMP/n.err" ||
		fail "record -- node: $(tail -3 "$PY_TMP/n.err")"
	grep -q "warning: no Python or Ruby process was found in the target" "$PY_TMP/n.err" ||
		fail "no warning for node: $(cat "$PY_TMP/n.err")"
else
	echo "(node not installed: its warning is not checked)"
fi

# A Ruby program's counter says so.
if command -v ruby3.1 >/dev/null; then
	timeout 30 "$RT_BPF" record -d 5 -o "$PY_TMP/r.data" -- ruby3.1 -e \
		'e = Time.now + 0.5; x = 0; x += 1 while Time.now < e' 2>"$PY_TMP/r.err" ||
		fail "record -- ruby3.1: $(tail -3 "$PY_TMP/r.err")"
	grep -q "rt-bpf: ruby samples=[1-9]" "$PY_TMP/r.err" || fail "Ruby counter: $(grep samples= "$PY_TMP/r.err")"
fi

# PERF is a file name, never shell text.
PERF="x'; touch $PY_TMP/pwned; '" timeout 20 "$RT_BPF" record -a -d 1 -o "$PY_TMP/x.data" \
	>/dev/null 2>"$PY_TMP/x.err" && fail "record with a bogus PERF succeeded"
grep -q "perf not found" "$PY_TMP/x.err" || fail "bogus PERF: $(cat "$PY_TMP/x.err")"
[ ! -e "$PY_TMP/pwned" ] || fail "PERF was run through a shell"
echo "ok"
