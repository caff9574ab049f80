#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf trace on CPythons without USDT probes (pyenv's 3.11, 3.12, 3.13;
# a container's Debian python3.13): the uprobe fallback (docs/trace.md).
# For each pyenv build: the message says which fallback and what the trace
# lacks; the calls and returns of main()'s subtree of
# tests/e2e/trace/truth.py equal sys.settrace's in the same interpreter:
# exactly on 3.11; on 3.12+ but for the generator, whose resumptions by a
# specialised for loop and its yields run inline with no probe, so that
# settrace's 5 calls of squares are at least 1 and at most 5 here; the
# only Steps are the def lines of the calls; arguments are recorded for the
# frames entered from C (double, called by map) on 3.11 and for none
# other; the write is an Event, the source in files/.  Then -p on the
# container's python3.13 (stripped, LTO: the exported
# _PyEval_FrameClearAndPop): the 177 calls of fib(10), each returned.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, uprobes)"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
T=$RT_TOP/tests/e2e/trace
CMP="python3 $T/compare.py"
SRC=$T/truth.py
PYENV=${PYENV_ROOT:-$HOME/.pyenv}/versions
subtree() { # file: call/return lines from main's call to its return, "event name firstline"
	awk '/^call main /{on=1} on && /^(call|return) /{print $1, $2, $3} /^return main /{on=0}' "$1"
}
tested=0
for v in 3.11.7 3.12.1 3.13.0; do
	PY=$PYENV/$v/bin/python${v%.*}
	[ -x "$PY" ] || { note "no pyenv $v: not tested"; continue; }
	readelf -n "$PY" 2>/dev/null | grep -q 'Name: line' && fail "pyenv $v has USDT probes"
	tested=$((tested + 1))
	D=$E2E_TMP/$v
	mkdir -p "$D"
	(cd "$T" && $PY truth.py --settrace "$D/settrace.txt" >/dev/null) || fail "$v: settrace run"
	subtree "$D/settrace.txt" > "$D/want.txt"
	[ "$(wc -l < "$D/want.txt")" -gt 50 ] || fail "$v: settrace saw too little"
	(cd "$T" && "$RTBPF" trace -o "$D/tr" -- $PY truth.py) > "$D/stdout" 2> "$D/stderr" ||
		{ cat "$D/stderr"; fail "$v: rt-bpf trace failed"; }
	grep -qx 'total 35.0 6' "$D/stdout" || fail "$v: the program's own output is wrong"
	grep -q "without USDT probes.*falling back to uprobes on its eval loop" "$D/stderr" &&
		grep -q "^rt-bpf: fallback: uprobes on _PyEval_EvalFrameDefault (entry and return) and _PyFrame_Clear.*no lines, no return values" "$D/stderr" ||
		fail "$v: the fallback is not said: $(cat "$D/stderr")"
	grep -q 'records lost' "$D/stderr" && fail "$v: records lost: $(cat "$D/stderr")"
	$CMP validate "$D/tr" > /dev/null || fail "$v: not a valid trace directory"
	$CMP events "$D/tr" "$SRC" > "$D/all.txt" || fail "$v: events"
	subtree "$D/all.txt" > "$D/got.txt"
	python3 - "$D/want.txt" "$D/got.txt" "$v" "$D/all.txt" <<'PY' || fail "$v: calls and returns differ from sys.settrace's"
import sys
want, got = ([l.split() for l in open(f)] for f in sys.argv[1:3])
v, allev = sys.argv[3], [l.split() for l in open(sys.argv[4])]
gen = lambda ev: [e for e in ev if e[1] == "squares"]
calls = lambda ev: sum(e[0] == "call" for e in ev)
if v.startswith("3.11"):
    assert want == got, "3.11: not the same sequence"
    note = "all %d calls" % calls(want)
else:
    rest = lambda ev: [e for e in ev if e[1] != "squares"]
    assert rest(want) == rest(got), "the calls and returns other than the generator's differ"
    gw, gg = gen(want), gen(got)
    assert 1 <= calls(gg) <= calls(gw) and gg == [["call", "squares", "28"], ["return", "squares", "28"]] * calls(gg), gg
    note = "%d of %d calls (the generator: %d of its %d resumptions)" % (
        calls(got), calls(want), calls(gg), calls(gw))
# the only lines are the calls' def lines
assert all(e[2] == e[3] for e in allev if e[0] == "line"), [e for e in allev if e[0] == "line" and e[2] != e[3]][:3]
print("%s: main's subtree: %s of sys.settrace's, in its order" % (v, note))
PY
	python3 - "$D/tr" "$SRC" "$v" <<'PY' || fail "$v: trace content"
import json, os, sys
d, src, v = sys.argv[1:4]
ev = json.load(open(os.path.join(d, "trace.json")))
writes = [e["Event"] for e in ev if "Event" in e and e["Event"]["kind"] == 0]
assert any(w["content"] == "total 35.0 6\n" for w in writes), writes
assert open(os.path.join(d, "files") + src).read() == open(src).read(), "files/ copy differs"
fns = [e["Function"] for e in ev if "Function" in e]
args = {}
for e in ev:
    if "Call" in e:
        args.setdefault(fns[e["Call"]["function_id"]]["name"], []).append(e["Call"]["args"])
assert all(a == [] for a in args["fib"]), args["fib"][:3]          # inline calls: none
if v.startswith("3.11"):                                             # entered from C (map)
    assert [a[0]["value"].get("f", a[0]["value"].get("i")) for a in args["double"]] == [1.5, 2, 3], args["double"]
print("%s: write event, files/ copy, arguments only where entered from C" % v)
PY
done
[ "$tested" -gt 0 ] || skip "no pyenv CPython 3.11-3.13 under $PYENV"

# a container's Debian python3.13: no line or function probes, stripped,
# LTO; -p on a process that waits for a file before it works
ROOT=/var/cache/rtperf/rootfs/trixie
if [ -e "$ROOT/.rtperf-rootfs" ]; then
	CT=$(mktemp -d "$ROOT/tmp/rt-fallback.XXXXXX")
	trap 'rm -rf "$CT" "$E2E_TMP"' EXIT
	IN=/tmp/${CT##*/}
	cat > "$CT/app.py" <<'PY'
import os, sys, time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def main():
    sys.stdout.write("fib %d\n" % fib(10))
    sys.stdout.flush()
while True:
    try:
        os.stat(os.path.join(os.path.dirname(__file__), "go"))
        break
    except OSError:
        time.sleep(0.01)
main()
PY
	unshare --pid --mount --uts --ipc --fork --mount-proc="$ROOT/proc" chroot "$ROOT" \
		python3.13 "$IN/app.py" > "$E2E_TMP/c.out" &
	for _ in $(seq 50); do
		CPID=$(pgrep -n -f "python3.13 $IN/app.py")
		[ -n "$CPID" ] && readlink "/proc/$CPID/exe" | grep -q 'python3.13$' && break
		sleep 0.1
	done
	[ -n "${CPID:-}" ] || fail "container python3.13 did not start"
	"$RTBPF" trace -o "$E2E_TMP/trc" -p "$CPID" 2> "$E2E_TMP/c.err" &
	RTP=$!
	for _ in $(seq 100); do grep -q '^rt-bpf: tracing pid' "$E2E_TMP/c.err" && break; sleep 0.1; done
	touch "$CT/go"
	wait $RTP || fail "python3.13: rt-bpf trace failed: $(cat "$E2E_TMP/c.err")"
	grep -q 'fallback: uprobes on .* and _PyEval_FrameClearAndPop' "$E2E_TMP/c.err" ||
		fail "python3.13: $(cat "$E2E_TMP/c.err")"
	grep -qx 'fib 55' "$E2E_TMP/c.out" || fail "python3.13: the program's own output is wrong"
	$CMP validate "$E2E_TMP/trc" > /dev/null || fail "python3.13: not a valid trace directory"
	$CMP events "$E2E_TMP/trc" "$IN/app.py" > "$E2E_TMP/c.txt"
	[ "$(grep -c '^call fib ' "$E2E_TMP/c.txt")" = 177 ] && [ "$(grep -c '^return fib ' "$E2E_TMP/c.txt")" = 177 ] &&
		[ "$(grep -c '^call main ' "$E2E_TMP/c.txt")" = 1 ] ||
		fail "python3.13: not the 177 calls of fib under main: $(sort "$E2E_TMP/c.txt" | uniq -c)"
	cmp -s "$CT/app.py" "$E2E_TMP/trc/files$IN/app.py" || fail "python3.13: no files/ copy of app.py"
	note "container python3.13 (-p): fib(10)'s 177 calls and returns under main, app.py in files/"
else
	note "no trixie root: the container's python3.13 is not checked"
fi
echo "PASS trace_fallback"
