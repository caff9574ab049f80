#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf on the CPythons of Debian's releases, each in a container of its
# own (PID, mount, UTS and IPC namespaces, chroot into a root file system
# that scripts/rootfs.sh builds): bullseye's python3.9, trixie's python3.13
# and python3.13d (Py_DEBUG), sid's python3.14, python3.14d and python3.15.
# Stripped, non-PIE builds whose files exist only inside the root and whose
# tids differ from the host's.  Per interpreter:
#   recursion  `record -- unshare ... chroot ROOT pythonX w.py`, fp: the exact
#              200-deep chain with its line numbers; the walker's median run
#              time per sample at ~200 frames (rt-bpf's histogram); the share
#              of samples rooted at <module> (>= 99%);
#   split      `record -p HOSTPID --call-graph dwarf`: branch_a's share of the
#              samples in work() (3/4 of the work), the Python frames in
#              order in rtmerge's stacks;
#   threads    `record -a`: no sample carries another thread's frames (the
#              workload prints namespace tids, mapped through NSpid), one
#              thread hashing with the GIL released.
# Exits 77 only when a root file system is missing.  CONTAINER_SECONDS
# (default 1.2) sets each workload's length; RT_ROOTFS_CACHE the roots'
# cache (as for scripts/rootfs.sh), CONTAINER_KEEP=1 keeps the files.
. "$(dirname "$0")/workloads/py311_common.bash"
. "$WORKLOADS/splice_check.bash"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record -a)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v perf >/dev/null || skip "perf is not installed"
command -v unshare >/dev/null || skip "no unshare (util-linux)"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built (run make)"
[ -x "$RT_DECODE" ] || fail "$RT_DECODE not built"
CACHE=${RT_ROOTFS_CACHE:-/var/cache/rtperf/rootfs}
SECS=${CONTAINER_SECONDS:-1.2}
TARGETS="bullseye:python3.9 trixie:python3.13 trixie:python3.13d sid:python3.14 sid:python3.14d sid:python3.15"

for t in $TARGETS; do
	r=${t%%:*}
	[ -e "$CACHE/$r/.rtperf-rootfs" ] || skip "no $r root file system in $CACHE (bash scripts/rootfs.sh builds it)"
	[ -x "$CACHE/$r/usr/bin/${t#*:}" ] || fail "$CACHE/$r has no /usr/bin/${t#*:}: rebuild it with scripts/rootfs.sh"
done
# the roots are built once: after a run of scripts/rootfs.sh (setup's), the
# next rebuilds nothing
bash "$RT_TOP/scripts/rootfs.sh" >/dev/null 2>&1 || fail "scripts/rootfs.sh failed"
out=$(bash "$RT_TOP/scripts/rootfs.sh" 2>&1) || fail "scripts/rootfs.sh failed: $out"
[ -z "$out" ] || fail "scripts/rootfs.sh rebuilt complete roots: $out"
# the workloads, inside each root (removed at exit)
INNER=/tmp/rtperf-e2e-$$
cleanup() {
	for r in bullseye trixie sid; do rm -rf "${CACHE:?}/$r$INNER"; done
	rm -rf "$PY_TMP"
}
trap cleanup EXIT
[ -n "${CONTAINER_KEEP:-}" ] && trap - EXIT
# A workload recorded with -p or -a waits, before its code runs, for a go
# file the test creates once perf records: a sitecustomize module on
# PYTHONPATH, imported at startup.
for r in bullseye trixie sid; do
	mkdir -p "$CACHE/$r$INNER/gate" && cp "$WORKLOADS"/py_*.py "$CACHE/$r$INNER/"
	printf 'import os, time\nwhile not os.path.exists("%s/go"):\n    time.sleep(0.01)\n' "$INNER" \
		>"$CACHE/$r$INNER/gate/sitecustomize.py"
done

# container ROOT CMD...: CMD in new PID/mount/UTS/IPC namespaces, chrooted
container() {
	local root=$1; shift
	unshare --pid --mount --uts --ipc --fork --mount-proc="$root/proc" chroot "$root" "$@"
}

# host pid of the interpreter started under host pid $1 (down its first
# children: subshell, unshare, chroot exec'ing python); waits for it
inner_pid() {
	local i p=$1 c
	for i in $(seq 200); do
		case $(readlink "/proc/$p/exe") in
		*/python3*) echo "$p"; return ;;
		esac
		c=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
		if [ -n "$c" ]; then p=${c%% *}; else sleep 0.01; fi
	done
}

# go DATA GOFILE ERR PID: once perf has written DATA's header (its events
# are open, the walker loaded) and rt-bpf says (-v, in ERR) that it walks
# PID, create GOFILE, which the workload waits for (gate/sitecustomize.py)
go() {
	local i
	for i in $(seq 400); do [ -s "$1" ] && break; sleep 0.05; done
	for i in $(seq 400); do grep -q "walking pid $4:" "$3" 2>/dev/null && break; sleep 0.05; done
	sleep 0.2
	: >"$2"
}

# check NAME KIND BASE W [TIDMAP]: decode BASE.data, check it (W: the
# workload's file name, its path inside the container is $INNER/W)
check() {
	perf script -i "$3.data" -F comm,tid,event,bpf-output 2>"$3.perr" |
		"$RT_DECODE" >"$3.txt" 2>"$3.decode"
	python3 "$WORKLOADS/matrix_check.py" "$2" "$3.txt" "$INNER/$4=$WORKLOADS/$4" "$3.out" \
		${5:+"$5"} >"$3.check"
	grep -v '^RESULT\|^PID\|^MODULE\|^SHARE' "$3.check" | sed "s/^/$1 $2: /"
}

results=$PY_TMP/results
: >"$results"
bad=0
for t in $TARGETS; do
	r=${t%%:*} py=${t#*:}
	root=$CACHE/$r
	name=$r-$py
	container "$root" "$py" -c 1 # warm the page cache: the workloads' lengths are fixed
	case $py in python3.9) wt=py_threads_py2.py ;; *) wt=py_threads.py ;; esac

	# recursion: record -- the container
	base=$PY_TMP/$name-recursion
	timeout 40 "$RT_BPF" record -F 499 -o "$base.data" -- \
		unshare --pid --mount --uts --ipc --fork --mount-proc="$root/proc" chroot "$root" \
		"$py" "$INNER/py_recurse.py" 200 "$SECS" >"$base.out" 2>"$base.err"
	check "$name" recursion "$base" py_recurse.py
	rec=$(sed -n 's/^RESULT //p' "$base.check")
	module=$(sed -n 's/^MODULE //p' "$base.check")
	median=$(sed -n 's/.*on interpreter samples: .* median \([0-9]*\)-[0-9]* us.*/\1/p' "$base.err")

	# split: record -p the host pid, dwarf; the workload starts once perf
	# records (the go file)
	base=$PY_TMP/$name-split
	rm -f "$root$INNER/go"
	PYTHONPATH=$INNER/gate container "$root" "$py" "$INNER/py_split.py" "$SECS" >"$base.out" 2>&1 &
	cpid=$!
	hp=$(inner_pid $cpid)
	timeout 40 "$RT_BPF" record -v -F 499 --call-graph dwarf -o "$base.data" -p "$hp" \
		>/dev/null 2>"$base.err" &
	bpf=$!
	go "$base.data" "$root$INNER/go" "$base.err" "$hp"
	wait "$cpid"
	wait "$bpf"
	check "$name" split "$base" py_split.py
	spl=$(sed -n 's/^RESULT //p' "$base.check")
	share=$(sed -n 's/^SHARE //p' "$base.check")
	spliced=$(splice_check "$base" "$hp" "$INNER/py_split.py")
	order=$(ORDER=1 splice_check "$base" "$hp" "$INNER/py_split.py")
	# Debian's stripped 3.14 and 3.15 keep most of their eval loop in a
	# local function (_PyEval_EvalFrameDefault.cold) only their debug files
	# name: rt-bpf copies the container's debug file (python3.1x-dbg) into
	# the build-id cache, so every version splices at its eval loop
	gate=90

	# threads: record -a, the workload's threads start once perf records
	base=$PY_TMP/$name-threads
	rm -f "$root$INNER/go"
	"$RT_BPF" record -v -a -F 499 -o "$base.data" >/dev/null 2>"$base.err" &
	bpf=$!
	PYTHONPATH=$INNER/gate container "$root" "$py" "$INNER/$wt" "$SECS" >"$base.out" 2>&1 &
	cpid=$!
	hp=$(inner_pid $cpid)
	go "$base.data" "$root$INNER/go" "$base.err" "$hp"
	# the namespace-to-host tid map once every thread (five and main) has
	# said its tid: spinners holding the GIL can delay the last threads'
	# start by far more than a fixed wait (a debug build's hasher once
	# started after it, and its samples matched no thread)
	for _ in $(seq 200); do
		[ "$(grep -c '^[0-9]* ' "$base.out" 2>/dev/null)" -ge 6 ] && break
		sleep 0.05
	done
	: >"$base.tids"
	for s in /proc/"$hp"/task/*/status; do
		awk '/^NSpid:/ && NF == 3 { print $3, $2 }' "$s" >>"$base.tids"
	done
	wait "$cpid"
	kill -INT "$bpf"
	wait "$bpf"
	check "$name" threads "$base" "$wt" "$base.tids"
	thr=$(sed -n 's/^RESULT //p' "$base.check")

	echo "$name ${rec:-x 0 0 0 0 1} | ${spl:-x 0 0 0 0 1} | ${thr:-x 0 0 0 0 1} | ${module:-0} ${median:-x} ${share:-0} ${spliced:-0} ${order:-0} $gate" >>"$results"
done

# Goals: every walk exact; branch_a's share 0.6-0.9 (measured 0.72-0.81
# over five runs of the six interpreters, sd about 0.02, and once 0.647 on
# a loaded machine, hence the wider band); splicing >= 90%
# where the eval loop is named (measured 94.2-100%).
printf '\n%-20s %12s %15s %11s %7s %6s %5s %9s %8s %6s\n' interpreter samples complete% hotline% module% share wrong BPFus@200 spliced% order%
while IFS='|' read -r a b c d; do
	set -- $a; name=$1 rs=$4 rc=$5 rh=$6
	set -- $b; ss=$3 sc=$4 sh=$5
	set -- $c; ts=$3 tc=$4 tw=$6
	set -- $d; module=$1 median=$2 share=$3 spliced=$4 order=$5 gate=$6
	printf '%-20s %12s %15s %11s %7s %6s %5s %9s %8s %6s\n' "$name" "$rs/$ss/$ts" "$rc/$sc/$tc" "$rh/$sh" \
		"$module" "$share" "$tw" "$median" "$spliced" "$order"
	echo "FIGURE container $name: recursion $rs samples, $rc% exact chain and lines; split $ss samples, branch_a share $share (expected 0.75), $spliced% spliced, $order% in order (dwarf, -p); threads $ts samples, $tw wrong-thread (-a); <module> $module%; BPF median ${median} us at 200 frames"
	if ! awk -v rs="$rs" -v rc="$rc" -v rh="$rh" -v ss="$ss" -v sc="$sc" -v ts="$ts" -v tc="$tc" \
		-v tw="$tw" -v m="$module" -v sh="$share" -v sp="$spliced" -v o="$order" -v g="$gate" 'BEGIN {
		exit !(rs >= 100 && rc >= 99 && rh >= 95 && ss >= 100 && sc >= 99 && ts >= 100 &&
		       tc >= 99 && tw == 0 && m >= 99 && sh >= 0.6 && sh <= 0.9 && sp >= g && o >= 99) }'; then
		echo "  ^ $name below the goal (>= 100 samples, >= 99% complete, <module> and in order, >= 95% hot line, >= $gate% spliced, share 0.6-0.9, 0 wrong)"
		bad=1
	fi
done <"$results"
[ "$bad" = 0 ] || fail "some interpreter missed the goal"
echo "PASS"
