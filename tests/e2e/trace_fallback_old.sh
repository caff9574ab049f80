#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf trace on pyenv's CPython 2.7 and 3.6-3.10 (no USDT probes): the
# fallback on the eval loop's entry and return (docs/trace.md).  For each
# build: the message names the eval function and says "no lines"; main()'s
# calls and returns of tests/e2e/trace/truth.py and (3.x) gens.py are the
# sequence sys.settrace reports in the same interpreter; each call's
# arguments and each return's value (or <exception>) are what a
# sys.settrace recorder sees (tests/e2e/trace/values.py); the only Steps
# are the calls' def lines; nothing is lost.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, uprobes)"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
T=$RT_TOP/tests/e2e/trace
CMP="python3 $T/compare.py"
PYENV=${PYENV_ROOT:-$HOME/.pyenv}/versions
subtree() { # file: call/return lines from main's call to its return, "event name firstline"
	awk '/^call main /{on=1} on && /^(call|return) /{print $1, $2, $3} /^return main /{on=0}' "$1"
}
tested=0
for v in 2.7.18 3.6.15 3.7.16 3.8.18 3.9.18 3.10.13; do
	PY=$PYENV/$v/bin/python${v%.*}
	[ -x "$PY" ] || { note "no pyenv $v: not tested"; continue; }
	readelf -n "$PY" 2>/dev/null | grep -q 'Name: line' && fail "pyenv $v has USDT probes"
	tested=$((tested + 1))
	D=$E2E_TMP/$v
	mkdir -p "$D"
	progs="truth gens"
	[ "${v%%.*}" = 2 ] && progs=truth # gens.py needs `yield from`
	fn=_PyEval_EvalFrameDefault
	[ "${v%%.*}" = 2 ] && fn=PyEval_EvalFrameEx
	for prog in $progs; do
		(cd "$T" && $PY $prog.py --settrace "$D/$prog.settrace") > /dev/null || fail "$v: settrace run"
		subtree "$D/$prog.settrace" > "$D/$prog.want"
		[ "$(wc -l < "$D/$prog.want")" -gt 50 ] || fail "$v: settrace saw too little of $prog.py"
		(cd "$T" && $PY values.py $prog "$D/$prog.values") > /dev/null || fail "$v: values.py $prog"
		(cd "$T" && "$RTBPF" trace -o "$D/$prog" -- $PY $prog.py) > "$D/stdout" 2> "$D/stderr" ||
			{ cat "$D/stderr"; fail "$v: rt-bpf trace $prog.py failed"; }
		grep -q "^rt-bpf: fallback: uprobes on $fn (entry and return) in .*return values; no lines" "$D/stderr" ||
			fail "$v: the fallback is not said: $(cat "$D/stderr")"
		grep -q 'records lost' "$D/stderr" && fail "$v: records lost: $(cat "$D/stderr")"
		$CMP validate "$D/$prog" > /dev/null || fail "$v: $prog: not a valid trace directory"
		$CMP events "$D/$prog" "$T/$prog.py" > "$D/$prog.all" || fail "$v: $prog: events"
		subtree "$D/$prog.all" > "$D/$prog.got"
		diff -u "$D/$prog.want" "$D/$prog.got" > "$D/$prog.diff" ||
			{ head -20 "$D/$prog.diff"; fail "$v: $prog.py: calls and returns differ from sys.settrace's"; }
		awk '$1 == "line" && $3 != $4 { bad++ } END { exit bad > 0 }' "$D/$prog.all" ||
			fail "$v: $prog: a Step on another line than a def line"
		$CMP values "$D/$prog" "$T/$prog.py" > "$D/$prog.gotvalues" || fail "$v: $prog: values"
		diff -u "$D/$prog.values" "$D/$prog.gotvalues" > "$D/$prog.vdiff" ||
			{ head -20 "$D/$prog.vdiff"; fail "$v: $prog.py: arguments or return values differ from sys.settrace's"; }
		note "$v: $prog.py: main's subtree equals sys.settrace's: $(grep -c '^call' "$D/$prog.want") calls, their arguments and return values"
	done
	# the values are not trivial: ints, floats, an exception, a yielded value
	grep -qx 'return fib 8' "$D/truth.values" && grep -qx 'call double x=1.5' "$D/truth.values" &&
		grep -qx 'return main 35.0' "$D/truth.values" || fail "$v: truth.py's values: $(head "$D/truth.values")"
	if [ "${v%%.*}" = 3 ]; then
		grep -qx 'return fails <exception>' "$D/gens.values" && grep -qx 'return outer 30' "$D/gens.values" ||
			fail "$v: gens.py's values"
		grep -qx 'gens 59' "$D/stdout" || fail "$v: gens.py's own output is wrong"
	fi
done
[ "$tested" -gt 0 ] || skip "no pyenv CPython 2.7 or 3.6-3.10 under $PYENV"
echo "PASS trace_fallback_old"
