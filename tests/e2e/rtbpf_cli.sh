#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf's command line: a command that cannot run fails in one line
# before perf starts (or, when its exec fails later, without the "no
# Python process" warning); record -- CMD exits with the command's status;
# numbers are parsed strictly; -p of a thread records its process; -g is
# perf's; global options go before the command too; a usage error is two
# lines and MODE --help that mode's help; no process, a zombie, a kernel
# thread and a dead perf are said as such; -o's cases; Ctrl-C and SIGTERM,
# and the command's own handling of them.  The system's python3; about
# 45 s.
. "$(dirname "$0")/lib.sh"
RT_BPF=$RT_BUILD/rt-bpf

[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record -a)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v perf >/dev/null || skip "perf is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built"
cd "$E2E_TMP" || fail "cannot enter $E2E_TMP"

# run EXPECTED-STATUS COMMAND...: runs it with its stderr in err, and
# checks its exit status
run() {
	local want=$1 rc=0
	shift
	timeout 30 "$@" >out 2>err || rc=$?
	[ "$rc" = "$want" ] || { cat err >&2; fail "'$*' exited $rc, not $want"; }
}
said() { grep -Eq -- "$1" err || { cat err >&2; fail "no '$1' from '${*:2}'"; }; }
not_said() { ! grep -Eq -- "$1" err || { cat err >&2; fail "'$1' from '${*:2}'"; }; }
NO_RUNTIME='no Python or Ruby process'

# 1. a command that cannot run: one line, before perf starts (no file)
for cmd in /nonexistent nonexistent-cmd-$$; do
	for a in "" -a; do
		run 1 "$RT_BPF" record $a -o none.data -- "$cmd" x
		[ "$(cat err)" = "rt-bpf: cannot run $cmd: No such file or directory" ] ||
			{ cat err; fail "record $a -- $cmd said more or other than one line"; }
		[ ! -e none.data ] || fail "record $a -- $cmd wrote a file"
	done
done
# an exec that fails once started (its interpreter is missing): said by
# the command's process, exit 127, and no hint about versions
printf '#!/nonexistent/interpreter\n' >badinterp
chmod +x badinterp
run 127 "$RT_BPF" record -o bad.data -- ./badinterp
said '^rt-bpf: cannot run ./badinterp: No such file or directory$'
not_said "$NO_RUNTIME|^rt-bpf: wrote"
note "a command that cannot run: one line and a failure"

# 2. the command's exit status; 0 when -d stopped it
run 1 "$RT_BPF" record -o st.data -- false
said 'the command exited with status 1'
run 143 "$RT_BPF" record -o st.data -- sh -c 'kill -TERM $$'
said 'the command was killed by signal 15'
run 0 "$RT_BPF" record -d 0.3 -o st.data -- sleep 10
note "record -- CMD exits with the command's status"

# 3. numbers: whole, in range, nothing after them (exit 2, usage errors)
for args in "record -F -5 -a" "record -F 99abc -a" "record -F 0 -a" "record -F 100001 -a" \
	"record -p 5223abc" "record -p -1" "attach --perf-pid abc" "attach --perf-pid 0" \
	"top -F 5x -a" "async --threshold-ms 5x -p 1" "trace -o d -b 3x -p 1"; do
	run 2 "$RT_BPF" $args
	said '^rt-bpf( [a-z]+)?: (bad|-b takes)' $args
	[ "$(wc -l <err)" = 1 ] || { cat err; fail "'$args' said more than one line"; }
done
note "-F, -p, --perf-pid, --threshold-ms and -b are parsed strictly"

# 4. -p of a thread: its process is recorded, said in one line
python3 -c 'import os, threading, time
t = threading.Thread(target=time.sleep, args=(20,)); t.start()
print(os.getpid(), t.native_id, flush=True); t.join()' >ids & py=$!
trap 'kill "$py" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 50); do [ -s ids ] && break; sleep 0.1; done
read -r pid tid <ids || fail "the threaded program printed no ids"
run 0 "$RT_BPF" record -d 0.3 -o tid.data -p "$tid"
said "^rt-bpf: $tid is a thread of process $pid; recording the process$"
said "recording every thread of pid $pid and the processes it starts"
kill "$py"
note "-p of a thread records its process"

# 6. the supported versions: the warning and the -p check say the same
run 0 "$RT_BPF" record -g -o g.data -- true
walks=$(sed -n "s/.*$NO_RUNTIME.* rt-bpf walks \(.*\) (see -v.*/\1/p" err)
[ -n "$walks" ] || { cat err; fail "no versions in the warning"; }
# 7. -g: perf's frame-pointer callchains
perf evlist -v -i g.data 2>/dev/null | grep -q '^cpu-clock:.*CALLCHAIN' ||
	fail "record -g recorded no callchains"
sleep 5 & spid=$!
run 1 "$RT_BPF" record -p "$spid"
kill "$spid"
grep -qF "rt-bpf walks $walks" err ||
	{ cat err; fail "the -p check names other versions than the warning ($walks)"; }
note "supported versions: $walks"

# 8. global options before the command
run 0 "$RT_BPF" -v record -o v.data -- true
run 2 "$RT_BPF" --layout /nonexistent record -a
said '^rt-bpf: --layout /nonexistent: No such file or directory$'
run 2 "$RT_BPF" -p 1 record
said "options go after the command: rt-bpf record -p"
note "global options before the command work"

# 9. a usage error: getopt's line and where the help is; MODE --help: its own
run 2 "$RT_BPF" record --bogus
[ "$(wc -l <err)" = 2 ] || { cat err; fail "a bad option printed more than 2 lines"; }
said "^rt-bpf: see 'rt-bpf record --help'$"
run 0 "$RT_BPF" record --help
grep -q '^record ' out && grep -q '^global options' out || fail "record --help lacks its help"
! grep -Eq '^(attach|top|async|trace) ' out || fail "record --help shows other commands' help"
run 0 "$RT_BPF" --help
[ "$(grep -Ec '^(attach|record|top|async|trace) ' out)" = 5 ] || fail "--help lacks a command"
note "usage errors are short; MODE --help shows that mode"

# a command runs with SIGPIPE as rt-bpf was started with (rt-bpf ignores
# it for itself; an ignored signal stays ignored across exec)
# (through timeout, as run does: it handles SIGINT, SIGQUIT and SIGHUP, so
# a command under it has them at their default even where this script
# ignores them)
want=$(timeout 30 sh -c 'grep SigIgn /proc/self/status')
run 0 "$RT_BPF" record -o pipe.data -- sh -c 'grep SigIgn /proc/self/status'
[ "$(grep SigIgn out)" = "$want" ] || fail "the command's ignored signals: $(grep SigIgn out), not $want"
note "the command's signals are as outside rt-bpf"

# -o: a directory refused (perf would rename it to DIR.old, and delete
# files in that at the next run); -o - keeps the command's output out of
# the data (it goes to standard error, as perf does with its workload); a
# file perf could not finish (a full disk) is an error, not "wrote"
mkdir -p odir
run 1 "$RT_BPF" record -o odir -- true
said "^rt-bpf: -o odir is a directory: give a file name"
[ -d odir ] && [ ! -e odir.old ] || fail "-o DIR: the directory was moved"
rc=0
timeout 30 "$RT_BPF" record -o - -- sh -c 'echo HELLO-FROM-CMD' >stream.data 2>err || rc=$?
[ "$rc" = 0 ] || { cat err; fail "record -o - exited $rc"; }
! grep -q HELLO-FROM-CMD stream.data && said HELLO-FROM-CMD || fail "-o -: the command's output went into the data"
"$RT_BUILD/rtmerge" -q stream.data >/dev/null 2>stream.err || { cat stream.err; fail "-o -: rtmerge cannot read the stream"; }
mkdir -p small
mount -t tmpfs -o size=64k tmpfs small || fail "cannot mount a small tmpfs"
rc=0
timeout 30 "$RT_BPF" record -d 2 -o small/full.data -- sh -c 'while :; do :; done' >out 2>err || rc=$?
umount small
[ "$rc" = 1 ] || { cat err; fail "record to a full disk exited $rc, not 1"; }
said "^rt-bpf: perf did not finish .*full.data"
not_said "^rt-bpf: wrote"
note "-o: a directory refused, -o - keeps the command's output apart, a full disk said"

# 10. no process, and a perf that dies
run 1 "$RT_BPF" async -p 999999999
said '^rt-bpf async: no process 999999999$'
run 1 "$RT_BPF" attach --perf-pid 999999999
said '^rt-bpf: no process 999999999$'
# a zombie (exited, not reaped by its parent): said so by every mode with -p,
# not as a process of no known runtime
python3 -c 'import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(30)' >zpid & zparent=$!
for _ in $(seq 50); do [ -s zpid ] && break; sleep 0.1; done
zombie=$(cat zpid)
for _ in $(seq 50); do [ "$(awk '{print $3}' "/proc/$zombie/stat" 2>/dev/null)" = Z ] && break; sleep 0.1; done
[ "$(awk '{print $3}' "/proc/$zombie/stat" 2>/dev/null)" = Z ] || fail "no zombie to ask about"
for m in record trace async; do
	case $m in
	record) who=rt-bpf args="record -o z.data" ;;
	trace) who="rt-bpf trace" args="trace -o zt" ;;
	async) who="rt-bpf async" args=async ;;
	esac
	run 1 "$RT_BPF" $args -p "$zombie"
	[ "$(cat err)" = "$who: process $zombie has exited (a zombie its parent has not reaped)" ] ||
		{ cat err; fail "$m -p of a zombie said more or other than one line"; }
done
[ ! -e z.data ] && [ ! -e zt ] || fail "-p of a zombie left a file"
# a kernel thread (it said "no process 2")
kthread=$(ps -eo pid=,comm= | awk '$2 == "kthreadd" { print $1; exit }')
if [ -n "$kthread" ]; then
	run 1 "$RT_BPF" record -o k.data -p "$kthread"
	[ "$(cat err)" = "rt-bpf: process $kthread is a kernel thread: there is no interpreter to walk" ] ||
		{ cat err; fail "-p of a kernel thread"; }
fi
kill "$zparent"
wait "$zparent" 2>/dev/null || true
# (the command runs once the walker is attached and perf enabled: its file
# says the recording is under way)
rm -f started
"$RT_BPF" record -o killed.data -- sh -c 'touch started; exec sleep 20' >out 2>err & rt=$!
for _ in $(seq 200); do
	perf=$(pgrep -P "$rt" -x perf) && [ -e started ] && break
	sleep 0.1
done
[ -n "$perf" ] && [ -e started ] || fail "no perf under rt-bpf record, or the command never ran"
kill -KILL "$perf"
rc=0
wait "$rt" || rc=$?
[ "$rc" = 1 ] || { cat err; fail "rt-bpf record exited $rc after perf was killed"; }
said '^rt-bpf: perf record was killed by signal 9$'
not_said "$NO_RUNTIME|status 0x"
note "no process, a zombie and a killed perf are said as such"

# 11. Ctrl-C ends the recording as -d does: the command is stopped, the
# file written, exit 0
rm -f started
"$RT_BPF" record -o int.data -- sh -c 'touch started; exec sleep 20' >out 2>err & rt=$!
for _ in $(seq 200); do
	[ -e started ] && break
	sleep 0.1
done
[ -e started ] || fail "the command never ran"
kill -INT "$rt"
rc=0
wait "$rt" || rc=$?
[ "$rc" = 0 ] || { cat err; fail "rt-bpf record exited $rc after Ctrl-C"; }
said '^rt-bpf: wrote '
[ -s int.data ] || fail "no file after Ctrl-C"
note "Ctrl-C: the file written, exit 0"

# 11b. Ctrl-C while rt-bpf starts: said as such, exit 130, the command not
# released; it said "install perf", "perf record did not start" or
# nothing, and released the command to interrupt it at once
# (SIGTERM: a script's background job has SIGINT ignored)
rm -f early.data
"$RT_BPF" record -o early.data -- sh -c 'touch early.ran' >out 2>err & rt=$!
sleep 0.1
kill -TERM "$rt"
rc=0
wait "$rt" || rc=$?
if [ "$rc" = 130 ]; then
	said "^rt-bpf: interrupted before the recording started$"
	not_said "install perf|did not start"
	[ ! -e early.ran ] || fail "interrupted at the start: the command ran"
else
	# the machine was fast enough to start in 50 ms: then it is a Ctrl-C
	# mid-recording, exit 0
	[ "$rc" = 0 ] || { cat err; fail "Ctrl-C at the start: exit $rc"; }
	note "(rt-bpf started within 0.1 s: the early Ctrl-C case was not reached)"
fi

# 12. the command's own handling of the signal that ends the recording: it
# has 5 s to end on it, whether Ctrl-C came from the terminal (the command
# has it already: not sent twice, which cut a KeyboardInterrupt handler
# short) or to rt-bpf alone (passed on once; the command was sent SIGTERM
# right after perf stopped); one that ignores it is killed then
started() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
# a terminal's Ctrl-C (script gives rt-bpf a terminal of its own)
(started tty.started && sleep 0.5; printf '\003') |
	timeout 60 script -qec "'$RT_BPF' record -o tty.data -- python3 '$RT_TOP/tests/e2e/workloads/py_catch_stop.py' tty 1.5" /dev/null >tty.out 2>&1
[ "$(cat tty 2>/dev/null)" = cleaned ] ||
	{ tr -d '\r' <tty.out; fail "a terminal's Ctrl-C: the command's cleanup was cut short"; }
# SIGTERM to rt-bpf alone
"$RT_BPF" record -o one.data -- python3 "$RT_TOP/tests/e2e/workloads/py_catch_stop.py" one 1.5 >out 2>err & rt=$!
started one.started || fail "py_catch_stop.py never started"
sleep 0.5
kill -TERM "$rt"
rc=0
wait "$rt" || rc=$?
[ "$rc" = 0 ] && [ "$(cat one 2>/dev/null)" = cleaned ] ||
	{ cat err; fail "SIGTERM to rt-bpf: exit $rc, or the command's cleanup was cut short"; }
# a command that ignores it: SIGTERM after 5 s, then SIGKILL
"$RT_BPF" record -o ign.data -- python3 -c 'import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open("ign.started", "w").close()
time.sleep(60)' >out 2>err & rt=$!
started ign.started || fail "the command that ignores SIGTERM never started"
SECONDS=0
kill -TERM "$rt"
wait "$rt" || true
[ "$SECONDS" -le 20 ] || fail "a command ignoring SIGTERM held rt-bpf for $SECONDS s"
said "^rt-bpf: pid [0-9]* did not end on signal 15 in 5 s: sending it SIGTERM$"
said "^rt-bpf: pid [0-9]* did not end on SIGTERM: killing it$"
note "the command's own handling of Ctrl-C or SIGTERM finishes; one that ignores it is ended"
echo "ok: rt-bpf's command line"
