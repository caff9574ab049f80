#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf trace on Debian's /usr/bin/python3.11 (USDT probes): the ground
# truth program tests/e2e/trace/truth.py (recursion, a class method, a
# generator, a function called from C, a write to stdout) against
# sys.settrace in the same interpreter: the same calls, returns and lines
# of main() and everything under it; every call has its return; the write
# is an Event; the source is in files/; the directory passes a strict
# reading of CodeTracer's format (compare.py validate); the arguments of
# fib and Counter.bump are their values.  Then -p on a running process
# (and on one 200 frames deep), a daemon thread open at the end, three
# threads, each call in its own thread's order, and lost records marked.  Builds without probes (a container's python3.13): trace_fallback.sh.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3.11
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, uprobes)"
[ -x "$PY" ] || skip "no $PY (Debian's python3.11)"
readelf -n "$PY" 2>/dev/null | grep -q 'Name: line' || skip "$PY has no USDT line probe"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
T=$RT_TOP/tests/e2e/trace
CMP="python3 $T/compare.py"
SRC=$T/truth.py

# the reference: sys.settrace's view of main() in the same interpreter
(cd "$T" && $PY truth.py --settrace "$E2E_TMP/settrace.txt" >/dev/null) || fail "settrace run"
subtree() { # file: the lines from main's call to its return
	awk '/^call main /{on=1} on{print} /^return main /{on=0}' "$1"
}
subtree "$E2E_TMP/settrace.txt" > "$E2E_TMP/want.txt"
[ "$(wc -l < "$E2E_TMP/want.txt")" -gt 100 ] || fail "settrace saw too little"

(cd "$T" && "$RTBPF" trace -o "$E2E_TMP/tr" -- $PY truth.py) > "$E2E_TMP/stdout" 2> "$E2E_TMP/stderr" ||
	{ cat "$E2E_TMP/stderr"; fail "rt-bpf trace failed"; }
grep -qx 'total 35.0 6' "$E2E_TMP/stdout" || fail "the program's own output is wrong"
$CMP validate "$E2E_TMP/tr" || fail "not a valid trace directory"
$CMP events "$E2E_TMP/tr" "$SRC" > "$E2E_TMP/all.txt" || fail "events"
subtree "$E2E_TMP/all.txt" > "$E2E_TMP/got.txt"
if ! diff -u "$E2E_TMP/want.txt" "$E2E_TMP/got.txt" > "$E2E_TMP/diff"; then
	head -30 "$E2E_TMP/diff"
	fail "calls, returns and lines differ from sys.settrace's"
fi
note "calls/returns/lines of main's subtree equal sys.settrace's: $(grep -c '^call' "$E2E_TMP/want.txt") calls, $(grep -c '^line' "$E2E_TMP/want.txt") lines"
# the write, the source, the arguments
python3 - "$E2E_TMP/tr" "$SRC" <<'PY' || fail "trace content"
import json, os, sys
d, src = sys.argv[1:3]
ev = json.load(open(os.path.join(d, "trace.json")))
writes = [e["Event"] for e in ev if "Event" in e and e["Event"]["kind"] == 0]
assert any(w["content"] == "total 35.0 6\n" and w["metadata"] == "fd 1" for w in writes), writes
copy = os.path.join(d, "files") + src
assert open(copy).read() == open(src).read(), "files/ copy differs"
assert src in json.load(open(os.path.join(d, "trace_paths.json")))
fns = [e["Function"] for e in ev if "Function" in e]
args = {}
for e in ev:
    if "Call" in e:
        args.setdefault(fns[e["Call"]["function_id"]]["name"], []).append(
            [a["value"] for a in e["Call"]["args"]])
fib = [a[0]["i"] for a in args["fib"]]
assert fib[:7] == [6, 5, 4, 3, 2, 1, 0] and len(fib) == 25, fib
bump = args["Counter.bump"]
assert [a[1]["i"] for a in bump] == [0, 1, 2] and all(a[2]["text"] == "step" for a in bump), bump
assert bump[0][0]["kind"] == "Raw" and bump[0][0]["r"] == "<Counter>", bump[0][0]
dbl = args["double"]
assert dbl[0][0] == {"kind": "Float", "f": 1.5, "type_id": dbl[0][0]["type_id"]}, dbl
print("write event, files/ copy and argument values ok")
PY
grep -q ' 0 records lost\|records lost' "$E2E_TMP/stderr" && fail "records lost: $(cat "$E2E_TMP/stderr")"

# -p: a process already running; its frames are called at the first event
cat > "$E2E_TMP/loop.py" <<'PY'
import sys, time
def tick(i):
    return i + 1
def spin():
    i = 0
    while True:
        i = tick(i)
        if i % 200 == 0:
            time.sleep(0.01)
sys.stdout.write("ready\n"); sys.stdout.flush()
spin()
PY
$PY "$E2E_TMP/loop.py" > "$E2E_TMP/loop.out" &
LOOP=$!
trap 'kill $LOOP 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 50); do grep -q ready "$E2E_TMP/loop.out" && break; sleep 0.1; done
timeout -s INT 2 "$RTBPF" trace -o "$E2E_TMP/trp" -p $LOOP 2> "$E2E_TMP/p.err"
kill $LOOP
$CMP validate "$E2E_TMP/trp" || fail "-p: not a valid trace directory"
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); sys.exit(m["args"] != [sys.argv[2]])' \
	"$E2E_TMP/trp/trace_metadata.json" "$E2E_TMP/loop.py" ||
	fail "-p: trace_metadata.json's args are not the process's: $(cat "$E2E_TMP/trp/trace_metadata.json")"
$CMP events "$E2E_TMP/trp" "$E2E_TMP/loop.py" > "$E2E_TMP/p.txt"
python3 - "$E2E_TMP/p.txt" <<'PY' || fail "-p: calls of tick"
import sys
ev = [l.split() for l in open(sys.argv[1])]
calls = [e for e in ev if e[0] == "call"]
assert calls and calls[0][1] == "spin", calls[:3]       # the running frame, called at the first event
ticks = [e for e in calls if e[1] == "tick"]
returns = [e for e in ev if e[0] == "return" and e[1] == "tick"]
assert len(ticks) > 1000 and len(ticks) == len(returns), (len(ticks), len(returns))
print("-p: %d calls of tick, each returned" % len(ticks))
PY
# -p on a thread 200 frames deep: its running frames are called at the
# first event from its first frame on (<module>, main, down x 201), so
# that their returns nest (chains were cut at 48 frames, and the frames
# below came out as calls after their callees' returns)
cat > "$E2E_TMP/deep.py" <<'PY'
import sys, time
def down(n, wait):
    if n == 0:
        if wait:
            sys.stdout.write("ready\n"); sys.stdout.flush()
            time.sleep(2)
        return 0
    return down(n - 1, wait) + 1
def main():
    down(200, True)
    for _ in range(3):
        down(2, False)
main()
PY
$PY "$E2E_TMP/deep.py" > "$E2E_TMP/deep.out" &
DEEP=$!
for _ in $(seq 50); do grep -q ready "$E2E_TMP/deep.out" && break; sleep 0.1; done
"$RTBPF" trace -o "$E2E_TMP/trd" -p $DEEP 2> "$E2E_TMP/d.err" || fail "deep -p: rt-bpf trace failed"
$CMP validate "$E2E_TMP/trd" || fail "deep -p: not a valid trace directory"
python3 - "$E2E_TMP/trd" <<'PY' || fail "deep -p: the running frames"
import json, os, sys
ev = json.load(open(os.path.join(sys.argv[1], "trace.json")))
fns = [e["Function"]["name"] for e in ev if "Function" in e]
seq = [fns[e["Call"]["function_id"]] if "Call" in e else "<return>" for e in ev
       if "Call" in e or "Return" in e]
want = ["<module>", "main"] + ["down"] * 201
assert seq[:203] == want, seq[:8]
assert seq[203:203 + 201] == ["<return>"] * 201, seq[203:210]   # back in main
assert seq[404:407] == ["down"] * 3, seq[404:410]
print("deep -p: <module>, main and 201 frames of down called at the attach, in order")
PY
# the end: a daemon thread still running when the program exits has its
# frames closed in its own thread's records, after the "end" Event;
# rt-bpf exits with the command's status
cat > "$E2E_TMP/daemon.py" <<'PY'
import sys, threading, time
def nap():
    while True:
        time.sleep(0.01)
threading.Thread(target=nap, daemon=True).start()
time.sleep(0.3)
sys.exit(3)
PY
"$RTBPF" trace -o "$E2E_TMP/trdm" -- $PY "$E2E_TMP/daemon.py" 2> "$E2E_TMP/dm.err"
rc=$?
[ "$rc" -eq 3 ] || { cat "$E2E_TMP/dm.err"; fail "daemon: rt-bpf exited $rc, not the command's 3"; }
$CMP validate "$E2E_TMP/trdm" || fail "daemon: not a valid trace directory (per thread)"
grep -q '"metadata": "end"' "$E2E_TMP/trdm/trace.json" || fail "daemon: no end Event"
grep -q '"name": "nap"' "$E2E_TMP/trdm/trace.json" && find "$E2E_TMP/trdm/files" -name daemon.py | grep -q . ||
	fail "daemon: no function nap, or no daemon.py in files/"

# the same -o DIR again: the daemon's trace replaced whole (its files/ kept
# daemon.py beside the next trace's sources); a directory holding other
# files is refused before the command runs
"$RTBPF" trace -o "$E2E_TMP/trdm" -- $PY -c 'print(1)' > /dev/null 2> "$E2E_TMP/again.err" ||
	{ cat "$E2E_TMP/again.err"; fail "again: rt-bpf trace failed"; }
$CMP validate "$E2E_TMP/trdm" || fail "again: not a valid trace directory"
! find "$E2E_TMP/trdm/files" -name daemon.py | grep -q . || fail "again: the earlier trace's files/ stayed"
! grep -q '"name": "nap"' "$E2E_TMP/trdm/trace.json" || fail "again: the earlier trace.json stayed"
mkdir -p "$E2E_TMP/mine" && echo notes > "$E2E_TMP/mine/notes.txt"
rc=0
"$RTBPF" trace -o "$E2E_TMP/mine" -- $PY -c 'open("'"$E2E_TMP"'/ran", "w")' 2> "$E2E_TMP/mine.err" || rc=$?
[ "$rc" -ne 0 ] && [ ! -e "$E2E_TMP/ran" ] && [ "$(ls "$E2E_TMP/mine")" = notes.txt ] &&
	grep -q "holds other files than a trace's" "$E2E_TMP/mine.err" ||
	{ cat "$E2E_TMP/mine.err"; fail "a directory of other files: exit $rc, or the command ran, or files added"; }
echo "the same -o DIR again: the earlier trace replaced; other files refused"

# threads: each thread's calls in its own order, marked by thread Events
cat > "$E2E_TMP/thr.py" <<'PY'
import threading
def sq(x):
    return x * x
def work():
    s = 0
    for i in range(2000):
        s += sq(i)
ts = [threading.Thread(target=work) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
PY
"$RTBPF" trace -o "$E2E_TMP/trt" -- $PY "$E2E_TMP/thr.py" 2> "$E2E_TMP/t.err" || fail "threads: rt-bpf trace failed"
$CMP validate "$E2E_TMP/trt" || fail "threads: not a valid trace directory"
python3 - "$E2E_TMP/trt" <<'PY' || fail "threads: per-thread calls"
import json, os, sys
ev = json.load(open(os.path.join(sys.argv[1], "trace.json")))
fns = [e["Function"] for e in ev if "Function" in e]
cur, stacks, sq = None, {}, {}
for e in ev:
    (k, b), = e.items()
    if k == "Event" and b["kind"] == 12 and b["metadata"] == "thread":
        cur = b["content"]
    elif k == "Call":
        name = fns[b["function_id"]]["name"]
        stacks.setdefault(cur, []).append(name)
        if name == "sq":
            assert stacks[cur][-2] == "work", stacks[cur][-3:]
            sq[cur] = sq.get(cur, 0) + 1
    elif k == "Return":
        assert stacks.get(cur), "a Return on thread %s without its Call" % cur
        stacks[cur].pop()
assert sorted(sq.values()) == [2000, 2000, 2000], sq
assert all(not s for s in stacks.values()), stacks
print("threads: 3 x 2000 calls of sq, each under its thread's work, every thread balanced")
PY
# losses: rt-bpf stopped for 0.7 s with a 1 MB ring while fib(25) runs;
# the records lost are counted, said on stderr and marked where they were
# lost (Error events adding up to the count), and the trace stays balanced
"$RTBPF" trace -b 1 -o "$E2E_TMP/trl" -- $PY "$RT_TOP/tests/bench/py_calls.py" 25 \
	> /dev/null 2> "$E2E_TMP/l.err" &
RTP=$!
sleep 1
kill -STOP $RTP; sleep 0.7; kill -CONT $RTP
wait $RTP || fail "losses: rt-bpf trace failed"
LOST=$(sed -n 's/^rt-bpf: warning: \([0-9]*\) records lost.*/\1/p' "$E2E_TMP/l.err")
[ -n "$LOST" ] && [ "$LOST" -gt 0 ] || fail "losses: none reported: $(cat "$E2E_TMP/l.err")"
$CMP validate "$E2E_TMP/trl" || fail "losses: not a valid trace directory"
python3 - "$E2E_TMP/trl" "$LOST" <<'PY' || fail "losses: Error events"
import json, os, re, sys
ev = json.load(open(os.path.join(sys.argv[1], "trace.json")))
err = [e["Event"] for e in ev if "Event" in e and e["Event"]["kind"] == 11]
total = sum(int(re.match(r"(\d+) records", e["content"]).group(1)) for e in err)
assert err and total == int(sys.argv[2]), (len(err), total, sys.argv[2])
print("losses: %s records lost, %d Error events adding up to it" % (sys.argv[2], len(err)))
PY

# a command that ignores SIGINT: Ctrl-C to rt-bpf is passed on, and the
# command killed after the wait, not waited for (or left running)
cat > "$E2E_TMP/ign.py" <<'PY'
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(60)
PY
"$RTBPF" trace -o "$E2E_TMP/tri" -- $PY "$E2E_TMP/ign.py" > "$E2E_TMP/ign.out" 2> "$E2E_TMP/ign.err" &
RTP=$!
for _ in $(seq 100); do grep -q ready "$E2E_TMP/ign.out" && break; sleep 0.1; done
SECONDS=0
kill -INT $RTP
wait $RTP
rc=$?
[ "$rc" -eq 0 ] && [ "$SECONDS" -le 8 ] && grep -q "did not end on signal 2: killing it" "$E2E_TMP/ign.err" ||
	{ cat "$E2E_TMP/ign.err"; fail "SIGINT: rt-bpf exited $rc after ${SECONDS}s"; }
! pgrep -f "$E2E_TMP/ign.py" >/dev/null || { pkill -9 -f "$E2E_TMP/ign.py"; fail "SIGINT: the command was left running"; }
$CMP validate "$E2E_TMP/tri" || fail "SIGINT: not a valid trace directory"

# a terminal's Ctrl-C reaches the command itself: not passed on a second
# time, which cut its KeyboardInterrupt handler short (script gives rt-bpf
# a terminal of its own)
(for _ in $(seq 300); do [ -e "$E2E_TMP/kbd.started" ] && break; sleep 0.1; done; sleep 0.5; printf '\003') |
	timeout 60 script -qec "'$RTBPF' trace -o '$E2E_TMP/trk' -- $PY '$RT_TOP/tests/e2e/workloads/py_catch_stop.py' '$E2E_TMP/kbd'" /dev/null \
	> "$E2E_TMP/kbd.out" 2>&1
[ "$(cat "$E2E_TMP/kbd" 2>/dev/null)" = cleaned ] ||
	{ tr -d '\r' < "$E2E_TMP/kbd.out"; fail "a terminal's Ctrl-C: the command's cleanup was cut short"; }
echo "a terminal's Ctrl-C: the command's own handler finished"

echo "PASS trace_py"
