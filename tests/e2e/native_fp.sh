#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real perf record -g of bundled frame-pointer programs: exact call
# structure, shares, per-thread attribution, shared libraries, exec.
source "$(dirname "$0")/lib.sh"
require_perf
build_progs
cd "$E2E_TMP"

# 1. calltree: main;work;branch_a;burn and main;work;branch_b;burn in 7:3.
perf record -q -g -e cpu-clock -F 999 -o calltree.data -- ./calltree 2 2>/dev/null ||
	fail "perf record calltree"
"$RTMERGE" calltree.data >calltree.folded 2>calltree.err || { cat calltree.err; fail "rtmerge"; }
cat calltree.err
a=$(folded_count calltree.folded '^calltree;.*main;work;branch_a;burn$')
b=$(folded_count calltree.folded '^calltree;.*main;work;branch_b;burn$')
total=$(folded_total calltree.folded)
note "calltree: a=$a b=$b total=$total"
[ "$total" -gt 500 ] || fail "too few samples ($total)"
# Every frame below main must be exactly one of the two known chains.
grep -E ';main;' calltree.folded | grep -vE ';main;work;branch_[ab];burn [0-9]+$' |
	grep -vE ';main;work;branch_[ab] [0-9]+$|;main;work [0-9]+$|;main;now;|;main;__?clock_gettime|;main [0-9]+$' >odd.txt
odd=$(folded_total odd.txt)
[ $((odd * 100)) -le $((total * 3)) ] || { cat odd.txt; fail "unexpected stacks under main: $odd"; }
share=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / (a + b) }')
echo "FIGURE calltree share of branch_a: $share (expected 0.70)"
awk -v s="$share" 'BEGIN { exit !(s > 0.62 && s < 0.78) }' || fail "branch_a share $share not 0.70+-0.08"
grep -q '^calltree;' calltree.folded || fail "root frame is not the comm"

# 1b. a fixed period (perf record -c N): not in the samples, the event's
# own; --period weighed every stack 0 before
perf record -q -g -e cpu-clock -c 1000000 -o fixed.data -- ./calltree 1 2>/dev/null ||
	fail "perf record -c calltree"
"$RTMERGE" fixed.data >fixed.folded 2>/dev/null || fail "rtmerge fixed.data"
"$RTMERGE" --period fixed.data >fixed.period 2>/dev/null || fail "rtmerge --period fixed.data"
n=$(folded_total fixed.folded)
w=$(folded_total fixed.period)
note "fixed period: $n samples, --period total $w"
[ "$n" -gt 100 ] && [ "$w" = $((n * 1000000)) ] || fail "-c 1000000: $n samples weigh $w with --period"

# 1b'. --event of an event perf named with its modifiers (cpu-clock:u)
perf record -q -g -e cpu-clock:u -F 999 -o modif.data -- ./calltree 0.5 2>/dev/null ||
	fail "perf record -e cpu-clock:u"
"$RTMERGE" -q --event cpu-clock modif.data >modif.folded 2>modif.err ||
	{ cat modif.err; fail "--event cpu-clock of a cpu-clock:u recording"; }
[ "$(folded_total modif.folded)" -gt 100 ] || fail "--event cpu-clock: too few samples"

# 1c. a thread named with ';' and ' ' is one root frame, not two
perf record -q -g -e cpu-clock -F 999 -o semi.data -- python3 -c 'import ctypes, time
ctypes.CDLL(None).prctl(15, b"semi;colon x", 0, 0, 0)
end = time.time() + 0.5
while time.time() < end: pass' 2>/dev/null || fail "perf record semi"
"$RTMERGE" semi.data >semi.folded 2>/dev/null || fail "rtmerge semi.data"
good=$(folded_count semi.folded '^semi:colon_x;')
bad=$(folded_count semi.folded '^semi;')
note "thread named 'semi;colon x': $good samples under semi:colon_x, $bad under a split name"
[ "$good" -gt 100 ] && [ "$bad" = 0 ] || fail "a ';' in a thread's name split its root frame"

# 2. threads: each named thread only runs its own functions.
perf record -q -g -e cpu-clock -F 999 -o threads.data -- ./threads 1.5 2>/dev/null || fail "record threads"
"$RTMERGE" --tid threads.data >threads.folded 2>/dev/null || fail "rtmerge threads"
wa=$(folded_count threads.folded '^worker-a-[0-9]+/[0-9]+;.*alpha_loop;alpha_leaf$')
wb=$(folded_count threads.folded '^worker-b-[0-9]+/[0-9]+;.*beta_loop;beta_leaf$')
wrong=$(folded_count threads.folded '^worker-a.*beta_|^worker-b.*alpha_')
note "threads: worker-a=$wa worker-b=$wb wrong=$wrong"
[ "$wa" -gt 200 ] && [ "$wb" -gt 200 ] || fail "threads missing samples"
[ "$wrong" -eq 0 ] || fail "$wrong samples attributed to the wrong thread"
echo "FIGURE threads wrong-thread samples: $wrong"

# 3. shared library and exec: the parent runs uselib's chain, the child execs calltree.
perf record -q -g -e cpu-clock -F 999 -o uselib.data -- ./uselib 1.5 exec ./calltree 1.5 2>/dev/null ||
	fail "record uselib"
"$RTMERGE" --pid uselib.data >uselib.folded 2>/dev/null || fail "rtmerge uselib"
lib=$(folded_count uselib.folded '^uselib-[0-9]+;.*main;call_lib;lib_entry;lib_leaf$')
child=$(folded_count uselib.folded '^calltree-[0-9]+;.*main;work;branch_[ab];burn$')
bad=$(folded_count uselib.folded '^calltree-.*(call_lib|lib_entry)|^uselib-.*(branch_a|branch_b)')
note "uselib: lib chain=$lib exec'd child=$child bad=$bad"
[ "$lib" -gt 300 ] || fail "library frames not resolved ($lib)"
[ "$child" -gt 300 ] || fail "exec'd child not resolved ($child)"
[ "$bad" -eq 0 ] || fail "maps not replaced at exec ($bad samples)"

# 4. pipe mode gives the same stacks as file mode.
perf record -q -g -e cpu-clock -F 999 -o - -- ./calltree 1 2>/dev/null |
	"$RTMERGE" - >pipe.folded 2>pipe.err || { cat pipe.err; fail "rtmerge pipe mode"; }
pa=$(folded_count pipe.folded '^calltree;.*main;work;branch_a;burn$')
[ "$pa" -gt 200 ] || fail "pipe mode lost the stacks ($pa)"
grep -q 'samples read' pipe.err || fail "no summary in pipe mode"

# 5. system-wide with a comm filter; the SVG output is well-formed.
perf record -q -a -g -e cpu-clock -F 499 -o all.data -- ./calltree 1 2>/dev/null || fail "record -a"
"$RTMERGE" --comm calltree all.data >all.folded 2>/dev/null || fail "rtmerge -a"
aa=$(folded_count all.folded '^calltree;.*main;work;branch_a;burn$')
others=$(grep -vc '^calltree;' all.folded || true)
[ "$aa" -gt 100 ] && [ "$others" -eq 0 ] || fail "comm filter: a=$aa others=$others"
"$RTMERGE" -f svg -o all.svg all.data 2>/dev/null || fail "svg output"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' all.svg || fail "svg not well-formed"
grep -q 'branch_a' all.svg || fail "svg lacks frames"

# 6. --header names the events and build ids.
"$RTMERGE" --header calltree.data >header.txt || fail "--header"
grep -q 'event : name = cpu-clock' header.txt || { cat header.txt; fail "header lacks the event"; }
grep -q 'calltree$' header.txt || fail "header lacks the build id of calltree"
echo "native_fp: ok"
