#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf trace on CPythons without USDT probes (pyenv's 3.11, 3.12, 3.13;
# a container's Debian python3.13): the uprobe fallback (docs/trace.md).
# For each pyenv build: the message says which fallback and what the trace
# lacks; the calls and returns of main()'s subtree of tests/e2e/trace/
# truth.py (recursion, a class method, a generator, map) and gens.py
# (generators run by for loops, `yield from`, send() and list(), a
# comprehension, generator functions called by map, a recursion unwound by
# an exception) are the sequence
# sys.settrace reports in the same interpreter; the only Steps are the def
# lines of the calls; arguments are recorded for the frames entered from C
# (double, called by map) on 3.11 and for no inline call, return values for
# the frames returning to C (double) and for no inline call; the write is an
# Event, the source in files/.  Then -p on the container's python3.13
# (stripped, LTO: the exported _PyEval_FrameClearAndPop, no YIELD_VALUE
# probe): the 177 calls of fib(10), each returned.
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
	for prog in truth gens; do
		(cd "$T" && $PY $prog.py --settrace "$D/$prog.settrace") > /dev/null || fail "$v: settrace run"
		subtree "$D/$prog.settrace" > "$D/$prog.want"
		[ "$(wc -l < "$D/$prog.want")" -gt 50 ] || fail "$v: settrace saw too little of $prog.py"
		(cd "$T" && "$RTBPF" trace -o "$D/$prog" -- $PY $prog.py) > "$D/stdout" 2> "$D/stderr" ||
			{ cat "$D/stderr"; fail "$v: rt-bpf trace $prog.py failed"; }
		grep -q "without USDT probes.*falling back to uprobes on its eval loop" "$D/stderr" &&
			grep -q "^rt-bpf: fallback: uprobes on _PyEval_EvalFrameDefault (entry and return) and _PyFrame_Clear.*no lines, return values and arguments only of frames returning to and entered from C" "$D/stderr" ||
			fail "$v: the fallback is not said: $(cat "$D/stderr")"
		grep -q 'is one call' "$D/stderr" && fail "$v: no YIELD_VALUE probe: $(cat "$D/stderr")"
		grep -q 'records lost' "$D/stderr" && fail "$v: records lost: $(cat "$D/stderr")"
		$CMP validate "$D/$prog" > /dev/null || fail "$v: $prog: not a valid trace directory"
		$CMP events "$D/$prog" "$T/$prog.py" > "$D/$prog.all" || fail "$v: $prog: events"
		subtree "$D/$prog.all" > "$D/$prog.got"
		diff -u "$D/$prog.want" "$D/$prog.got" > "$D/$prog.diff" ||
			{ head -20 "$D/$prog.diff"; fail "$v: $prog.py: calls and returns differ from sys.settrace's"; }
		# the only lines are the calls' def lines
		awk '$1 == "line" && $3 != $4 { bad++ } END { exit bad > 0 }' "$D/$prog.all" ||
			fail "$v: $prog: a Step on another line than a def line"
		note "$v: $prog.py: main's subtree equals sys.settrace's: $(grep -c '^call' "$D/$prog.want") calls and their returns"
	done
	grep -qx 'gens 59' "$D/stdout" || fail "$v: gens.py's own output is wrong"
	python3 - "$D/truth" "$SRC" "$v" <<'PY' || fail "$v: trace content"
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
rets, stack = {}, []
for e in ev:
    if "Call" in e:
        stack.append(fns[e["Call"]["function_id"]]["name"])
    elif "Return" in e:
        rets.setdefault(stack.pop(), []).append(e["Return"]["return_value"])
# returned to C (map): the eval loop's return value; inline: not recorded
assert [r.get("f", r.get("i")) for r in rets["double"]] == [3.0, 4, 6], rets["double"]
assert all(r["kind"] == "None" for r in rets["fib"]), rets["fib"][:3]
print("%s: write event, files/ copy, arguments and return values only where entered from and returning to C" % v)
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
