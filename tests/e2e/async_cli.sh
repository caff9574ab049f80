#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf async as a user drives it, on Debian's python3.11: -p of a thread
# of the loop traces its process; -p of a program that runs neither CPython
# nor tokio is refused at once; -- CMD exits with the command's status; a
# task name and a function name with control characters in them cannot
# forge lines of the report; a --json path that cannot be written fails
# before anything runs; a step that made no system call has no
# longest_syscall (it said "read", system call 0); a command that ignores
# SIGINT is killed after the wait, not left running.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for uprobes"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "no $PY (Debian's python3.11)"

# the loop runs in a second thread: -p of that thread's id
cat > "$E2E_TMP/thr.py" <<'PY'
import asyncio, sys, threading, time
async def block():
    time.sleep(0.05)
async def main():
    sys.stdout.write("%d\n" % threading.get_native_id()); sys.stdout.flush()
    await asyncio.sleep(1)
    for _ in range(5):
        await block()
        await asyncio.sleep(0.05)
t = threading.Thread(target=lambda: asyncio.run(main()))
t.start(); t.join()
PY
"$PY" "$E2E_TMP/thr.py" > "$E2E_TMP/thr.out" &
pid=$!
for _ in $(seq 50); do [ -s "$E2E_TMP/thr.out" ] && break; sleep 0.1; done
tid=$(head -1 "$E2E_TMP/thr.out")
"$RTBPF" async --threshold-ms 20 --json "$E2E_TMP/thr.json" -p "$tid" > "$E2E_TMP/thr.rep" 2>&1 ||
	{ cat "$E2E_TMP/thr.rep"; fail "-p TID: rt-bpf async failed"; }
wait $pid
grep -q "$tid is a thread of process $pid; tracing the process" "$E2E_TMP/thr.rep" ||
	{ cat "$E2E_TMP/thr.rep"; fail "-p TID: not taken as its process"; }
python3 - "$E2E_TMP/thr.json" <<'PY' || fail "-p TID: the report"
import json, sys
r = json.load(open(sys.argv[1]))
blocks = [b for b in r["blocking"] if b["task"].endswith("main")]
assert len(r["tasks"]) >= 1 and len(blocks) >= 4, (len(r["tasks"]), len(blocks))
assert all(b["longest_syscall"]["name"] == "clock_nanosleep" for b in blocks), blocks[0]
print("-p TID: %d tasks, %d blocking steps of main, each in clock_nanosleep" % (len(r["tasks"]), len(blocks)))
PY

# -p of a program that is neither: refused within seconds, exit 1
sleep 30 &
spid=$!
SECONDS=0
timeout 20 "$RTBPF" async -p $spid > "$E2E_TMP/sleep.out" 2>&1
rc=$?
kill $spid
[ "$rc" -eq 1 ] && [ "$SECONDS" -le 5 ] && grep -q "runs neither a CPython nor tokio" "$E2E_TMP/sleep.out" ||
	{ cat "$E2E_TMP/sleep.out"; fail "-p of sleep: exit $rc after ${SECONDS}s"; }

# names from the target's memory: a newline and an escape sequence in a
# task's name and a function's name reach no line of the report
cat > "$E2E_TMP/evil.py" <<'PY'
import asyncio, sys, time
def spin():
    time.sleep(0.05)
spin.__code__ = spin.__code__.replace(co_name="spin\n   9. FORGED\x1b[31m",
                                      co_qualname="spin\n   9. FORGED\x1b[31m")
async def work():
    await asyncio.sleep(0.3)        # alive while rt-bpf reads its name
    spin()
async def main():
    await asyncio.sleep(0.5)        # rt-bpf attaches once _asyncio is loaded
    await asyncio.create_task(work(), name="t\nX")
asyncio.run(main())
sys.exit(3)
PY
"$RTBPF" async --threshold-ms 20 --json "$E2E_TMP/evil.json" -- "$PY" "$E2E_TMP/evil.py" \
	> "$E2E_TMP/evil.rep" 2>&1
rc=$?
[ "$rc" -eq 3 ] || { cat "$E2E_TMP/evil.rep"; fail "-- CMD: exit $rc, not the command's 3"; }
grep -q "the command exited with status 3" "$E2E_TMP/evil.rep" || fail "-- CMD: status not said"
grep -q "t?X" "$E2E_TMP/evil.rep" && grep -q "spin?   9. FORGED?\[31m" "$E2E_TMP/evil.rep" ||
	{ cat "$E2E_TMP/evil.rep"; fail "names: not found with their control characters replaced"; }
! grep -q "^   9. FORGED\|^X\|$(printf '\033')" "$E2E_TMP/evil.rep" ||
	{ cat -A "$E2E_TMP/evil.rep"; fail "names: a forged line or an escape in the report"; }

# a --json path that cannot be written: said before anything runs
SECONDS=0
"$RTBPF" async --json /nonexistent/dir/x.json -- "$PY" -c 'import time; time.sleep(5)' \
	> "$E2E_TMP/json.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && [ "$SECONDS" -le 3 ] && grep -q "cannot write /nonexistent/dir/x.json" "$E2E_TMP/json.out" ||
	{ cat "$E2E_TMP/json.out"; fail "--json: exit $rc after ${SECONDS}s"; }

# a CPU-bound step: no system call, no longest_syscall
cat > "$E2E_TMP/cpu.py" <<'PY'
import asyncio, time
async def main():
    await asyncio.sleep(0.5)
    end = time.perf_counter() + 0.08
    while time.perf_counter() < end:
        pass
asyncio.run(main())
PY
"$RTBPF" async --threshold-ms 20 --json "$E2E_TMP/cpu.json" -- "$PY" "$E2E_TMP/cpu.py" \
	> "$E2E_TMP/cpu.rep" 2>&1 || { cat "$E2E_TMP/cpu.rep"; fail "cpu: rt-bpf async failed"; }
python3 - "$E2E_TMP/cpu.json" <<'PY' || fail "cpu: longest_syscall"
import json, sys
r = json.load(open(sys.argv[1]))
cpu = [b for b in r["blocking"] if b["cause"] == "cpu"]
assert cpu, [b["cause"] for b in r["blocking"]]
assert all(b["longest_syscall"] is None or b["longest_syscall"]["ms"] > 0 for b in cpu), cpu[0]
print("cpu: %d CPU-bound steps, no system call named where none was made" % len(cpu))
PY

# a command that ignores SIGINT: Ctrl-C to rt-bpf ends it within the wait
cat > "$E2E_TMP/ign.py" <<'PY'
import asyncio, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
async def main():
    sys.stdout.write("ready\n"); sys.stdout.flush()
    await asyncio.sleep(60)
asyncio.run(main())
PY
"$RTBPF" async -- "$PY" "$E2E_TMP/ign.py" > "$E2E_TMP/ign.out" 2> "$E2E_TMP/ign.err" &
rpid=$!
for _ in $(seq 100); do grep -q ready "$E2E_TMP/ign.out" && break; sleep 0.1; done
cpid=$(pgrep -f "$E2E_TMP/ign.py" | grep -v "^$rpid$" | head -1)
SECONDS=0
kill -INT $rpid
wait $rpid
rc=$?
sleep 0.2
if kill -0 "$cpid" 2>/dev/null; then
	kill -9 "$cpid"
	fail "SIGINT: the command was left running"
fi
[ "$SECONDS" -le 8 ] && grep -q "did not end on signal 2: killing it" "$E2E_TMP/ign.err" ||
	{ cat "$E2E_TMP/ign.err"; fail "SIGINT: rt-bpf took ${SECONDS}s (exit $rc)"; }
echo "PASS: async_cli"
