#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf trace on Debian trixie's ruby3.3 in a container: its libruby has no
# USDT probes, so rt-bpf falls back to hardware write breakpoints on its
# threads' ec->cfp (docs/trace.md).  For tests/e2e/trace/truth.rb
# (recursion, a class method, Class#new calling initialize, a block run by
# Array#each, a write) and raise.rb (an exception unwinding four Ruby
# methods, three blocks and three Array#each; a method called from C by
# Array#map): the program waits, rt-bpf attaches with -p, and the calls and
# returns of main's subtree, Ruby and C methods, must be the sequence
# TracePoint (:call, :return, :c_call, :c_return) logs in a run of the same
# interpreter, but for what TracePoint reports without a frame being
# pushed: the Integer operators the VM runs as specialised instructions
# (a c_call hook turns the specialisation off, so TracePoint sees calls the
# untraced program does not make), attr_reader methods, and
# Exception#backtrace (rb_get_backtrace fires the hooks itself); and
# RubyVM::FrozenCore's methods, which TracePoint does not report.
# Singleton methods: TracePoint #<Class:Counter>#make, rt-bpf Counter.make.
# threads.rb: two more threads, found by rt-bpf (their thread pointer in
# the VM's thread list), each one's calls and returns TracePoint's.
# truth.rb again under -- CMD (rt-bpf starts it, through chroot): the same
# from the script's first line.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf breakpoints, namespaces)"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
T=$RT_TOP/tests/e2e/trace
ROOT=$(bash "$RT_TOP/scripts/rootfs.sh" --dir trixie)
[ -f "$ROOT/.rtperf-rootfs" ] || skip "no trixie root file system (scripts/rootfs.sh trixie)"
[ -x "$ROOT/usr/bin/ruby3.3" ] || skip "no ruby3.3 in $ROOT"
W=$(mktemp -d "$ROOT/tmp/rtperf-trace.XXXXXX")
IN=${W#"$ROOT"}
trap 'rm -rf "$E2E_TMP" "$W"' EXIT
cp "$T/truth.rb" "$T/raise.rb" "$W/"

in_container() {
	unshare --pid --mount --uts --ipc --fork --mount-proc="$ROOT/proc" chroot "$ROOT" "$@"
}

# trace PROG: rt-bpf trace -p of PROG.rb in the container into
# $E2E_TMP/PROG, attached while the program waits for its go file
trace() {
	local prog=$1 pid="" k cpid tpid
	in_container ruby3.3 "$IN/$prog.rb" --wait "$IN/$prog.go" > "$E2E_TMP/$prog.out" &
	cpid=$!
	for k in $(seq 100); do
		pid=$(pgrep -n -f "^ruby3.3 $IN/$prog.rb --wait" || true)
		[ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || { touch "$W/$prog.go"; fail "$prog: the container's ruby3.3 did not start"; }
	# bounded: a target left stopped must fail the test, not hang it
	timeout 30 "$RTBPF" trace -o "$E2E_TMP/$prog" -p "$pid" > /dev/null 2> "$E2E_TMP/$prog.err" &
	tpid=$!
	for k in $(seq 200); do
		grep -q '^rt-bpf: tracing pid' "$E2E_TMP/$prog.err" && break
		kill -0 "$tpid" 2> /dev/null || break
		sleep 0.05
	done
	touch "$W/$prog.go"
	wait "$tpid" || { cat "$E2E_TMP/$prog.err"; fail "$prog: rt-bpf trace failed"; }
	wait "$cpid" || fail "$prog: the program failed"
	checked "$prog"
}

# checked DIR: rt-bpf's messages for the trace $E2E_TMP/DIR say the
# fallback and nothing lost or unnamed, and the directory is valid
checked() {
	grep -q "runs a CRuby 3.3 without USDT probes: falling back to hardware write breakpoints on its threads' ec->cfp" \
		"$E2E_TMP/$1.err" || fail "$1: the fallback is not said: $(cat "$E2E_TMP/$1.err")"
	if grep -q 'records lost\|did not read\|without a name' "$E2E_TMP/$1.err"; then
		fail "$1: $(cat "$E2E_TMP/$1.err")"
	fi
	python3 "$T/compare.py" validate "$E2E_TMP/$1" > /dev/null || fail "$1: not a valid trace directory"
}

# same_as_tracepoint DIR PROG: the calls and returns of main's subtree in
# the trace $E2E_TMP/DIR are those TracePoint logged for PROG.rb
same_as_tracepoint() {
	python3 - "$E2E_TMP/$1" "$W/$2.tp" "$T" <<'PY' || fail "$1: calls and returns differ from TracePoint's"
import re, sys
d, ref = sys.argv[1:3]
sys.path.insert(0, sys.argv[3])
from compare import report, subtree
got, stack = subtree(d, "Object#main")
assert not stack or "Object#main" not in stack, "main never returned"
got = [g for g in got if not g.split()[1].startswith("RubyVM::FrozenCore.")]
# no frame is pushed for these (see the header)
frameless = {"Integer#==", "Integer#<", "Integer#-", "Integer#+", "Integer#*", "Counter#value",
             "Exception#backtrace"}
want = []
for line in open(ref):
    event, name = line.split()
    name = re.sub(r"^#<Class:([\w:]+)>#", r"\1.", name)
    if name in frameless:
        continue
    want.append("%s %s" % (event.replace("c_", ""), name))
if not report(want, got):
    sys.exit(1)
print("main's subtree: %d calls and returns equal TracePoint's, %d of them C methods'" %
      (len(got), sum(1 for g in got if g.startswith("call ") and not g.split()[1].startswith(("Object#", "Counter")))))
PY
}

for prog in truth raise; do
	in_container ruby3.3 "$IN/$prog.rb" --tracepoint "$IN/$prog.tp" > "$E2E_TMP/$prog.tpout" ||
		fail "$prog: the TracePoint run failed"
	trace "$prog"
	cmp -s "$E2E_TMP/$prog.out" "$E2E_TMP/$prog.tpout" || fail "$prog: its output differs between the runs"
	same_as_tracepoint "$prog" "$prog"
done

# -- CMD: truth.rb started by rt-bpf through chroot (followed through its
# exec), stopped at ruby_run_node for its main thread's breakpoint: main's
# subtree is TracePoint's as with -p, and the calls before it are those
# of the script's first lines, in order (the hooks its definitions call):
# nothing of the script is missed.  unshare without --fork: the same
# process runs chroot, then ruby3.3.
timeout 30 "$RTBPF" trace -o "$E2E_TMP/cmd" -- unshare --mount --uts --ipc --mount-proc="$ROOT/proc" \
	chroot "$ROOT" ruby3.3 "$IN/truth.rb" > "$E2E_TMP/cmd.out" 2> "$E2E_TMP/cmd.err" ||
	fail "-- CMD: rt-bpf trace failed: $(cat "$E2E_TMP/cmd.err")"
checked cmd
grep -qx 'total 8 6' "$E2E_TMP/cmd.out" || fail "-- CMD: truth.rb's output is wrong"
same_as_tracepoint cmd truth
python3 - "$E2E_TMP/cmd" <<'PY' || fail "-- CMD: the script's first calls are not in the trace"
import json, os, sys
ev = json.load(open(os.path.join(sys.argv[1], "trace.json")))
fns = [e["Function"] for e in ev if "Function" in e]
calls = [fns[e["Call"]["function_id"]]["name"] for e in ev if "Call" in e]
assert "Object#main" in calls, calls
# def fib; class Counter (const_added, inherited); attr_reader :value;
# def initialize, bump; def self.make; def main
want = ["Module#method_added", "Module#const_added", "Class#inherited", "Module#attr_reader",
        "Module#method_added", "Module#method_added", "Module#method_added",
        "BasicObject#singleton_method_added", "Module#method_added"]
got = calls[:calls.index("Object#main")]
assert got == want, got
print("-- CMD: the script's %d calls before main recorded" % len(got))
PY

# threads: each thread's calls and returns under its outermost work() are
# TracePoint's for that thread (two threads found by rt-bpf's thread
# look-up, and the main thread)
cp "$T/threads.rb" "$W/"
in_container ruby3.3 "$IN/threads.rb" --tracepoint "$IN/threads.tp" > "$E2E_TMP/threads.tpout" ||
	fail "threads: the TracePoint run failed"
trace threads
grep -qx 'total 24' "$E2E_TMP/threads.out" || fail "threads.rb's output is wrong"
python3 - "$E2E_TMP/threads" "$W/threads.tp" <<'PY' || fail "threads: calls and returns differ from TracePoint's"
import json, os, sys
d, ref = sys.argv[1:3]
frameless = {"Integer#<=", "Integer#-", "Integer#+"}

def subtrees(events):
    """events: (thread, "call"/"return", name); each thread's sequences
    from its outermost Object#work's call to its return"""
    out, depth, cur = [], {}, {}
    for th, ev, name in events:
        if name in frameless:
            continue
        if ev == "call" and name == "Object#work" and not depth.get(th):
            cur[th] = []
        if th in cur:
            cur[th].append(ev + " " + name)
            if name == "Object#work":
                depth[th] = depth.get(th, 0) + (1 if ev == "call" else -1)
                if not depth[th]:
                    out.append(cur.pop(th))
    return sorted(out)

want = []
for line in open(ref):
    th, ev, name = line.split()
    want.append((th, ev.replace("c_", ""), name))
ev = json.load(open(os.path.join(d, "trace.json")))
fns = [e["Function"] for e in ev if "Function" in e]
got, stacks, tid = [], {}, None
for e in ev:
    (k, b), = e.items()
    if k == "Event" and b["kind"] == 12 and b["metadata"] == "thread":
        tid = b["content"]
    elif k == "Call":
        name = fns[b["function_id"]]["name"]
        stacks.setdefault(tid, []).append(name)
        got.append((tid, "call", name))
    elif k == "Return":
        got.append((tid, "return", stacks[tid].pop()))
w, g = subtrees(want), subtrees(got)
if len(w) != 3 or w != g:
    print("TracePoint:", w)
    print("rt-bpf:", g)
    sys.exit(1)
print("threads: %d threads' work() subtrees equal TracePoint's (%d events)" %
      (len(g), sum(len(x) for x in g)))
PY

grep -qx 'total 8 6' "$E2E_TMP/truth.out" || fail "truth.rb's output is wrong"
grep -qx 'rescued bottom' "$E2E_TMP/raise.out" || fail "raise.rb's output is wrong"
python3 - "$E2E_TMP/truth" "$IN/truth.rb" "$T/truth.rb" <<'PY' || fail "truth.rb: trace content"
import json, os, sys
d, src, here = sys.argv[1:4]
ev = json.load(open(os.path.join(d, "trace.json")))
paths = json.load(open(os.path.join(d, "trace_paths.json")))
fns = [e["Function"] for e in ev if "Function" in e]
where = {f["name"]: (paths[f["path_id"]], f["line"]) for f in fns}
# a Ruby method at its def line, a C method at its caller's line
assert where["Counter#initialize"] == (src, 15), where["Counter#initialize"]
assert where["Counter.make"] == (src, 23), where["Counter.make"]
assert where["Class#new"] == (src, 24), where["Class#new"]
assert where["Array#each"] == (src, 31), where["Array#each"]
assert where["IO#write"] == (src, 32), where["IO#write"]
writes = [e["Event"] for e in ev if "Event" in e and e["Event"]["kind"] == 0]
assert any(w["content"] == "total 8 6\n" for w in writes), writes
assert open(os.path.join(d, "files") + src).read() == open(here).read()
print("truth.rb: places of Ruby and C methods, the write Event and files/ ok")
PY
echo "PASS trace_rb33"
