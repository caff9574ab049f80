#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record --off-cpu on ground-truth programs (pyenv's CPython 3.8 and
# 3.10-3.13, Debian's 3.11 and Ruby 3.1 on the host; bullseye's python3.9
# and ruby2.7, trixie's python3.13 and ruby3.3, sid's python3.14 and 3.15
# in containers, when scripts/rootfs.sh built their roots) whose main thread spends random slices
# computing, sleeping and blocked on a pipe read: rtmerge --wall's shares of
# the slices' time, each kind's time, and --off-cpu's sleep:pipe split agree
# with the program's own clock within TOL points, each kind's blocked time
# ends in its system call's leaf frame, and every interval is paired with
# its stack.
. "$(dirname "$0")/lib.sh"
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads
# Measured: the shares of the slices' time and each kind's time within 0.2
# points in 8 runs of Debian's 3.11, also beside a CPU hog (README); the
# shares of the thread's whole time, which the test used before, dropped by
# up to 1.9 points with the hog: the interpreter's start-up, outside the
# program's own clock, grows with the load: most likely the cause of the
# earlier outliers (-5.3 and -6.2 points).  5 points is the issue's goal.
TOL=${TOL:-5}
SECS=${SECS:-4}

require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"

# run LABEL SLEEP_LEAF PIPE_LEAF INTERPRETER WORKLOAD
run() {
	local label=$1 sleep_leaf=$2 pipe_leaf=$3 base=$E2E_TMP/$1 tid
	shift 3
	timeout 60 "$RTBPF" record --off-cpu -F 499 -o "$base.data" -- "$@" "$SECS" 4 3 3 \
		>"$base.json" 2>"$base.log" || { cat "$base.log" >&2; fail "$label: rt-bpf record"; }
	grep '^rt-bpf: off-CPU' "$base.log"
	offcpu_switches_add_up "$label" "$base.log"
	tid=$(offcpu_tid "$label" "$base") || exit 1
	"$RTMERGE" --wall -t "$tid" -o "$base.wall" "$base.data" 2>"$base.wall.err" ||
		{ cat "$base.wall.err" >&2; fail "$label: rtmerge --wall"; }
	"$RTMERGE" --off-cpu -t "$tid" -o "$base.off" "$base.data" 2>"$base.off.err" ||
		{ cat "$base.off.err" >&2; fail "$label: rtmerge --off-cpu"; }
	grep 'off-CPU intervals' "$base.off.err"
	# the main thread's intervals all find their stacks
	grep -q 'intervals: [0-9]* read, [0-9]* counted ([0-9.]* s), 0 without their stack' \
		"$base.off.err" || fail "$label: intervals without their stack"
	# the loops sleep and read from the same places: perf's callchain is
	# taken once and reused (bpf/offcpu.bpf.h), and every reuse finds it
	grep -q 'native chains reused=[1-9]' "$base.log" ||
		fail "$label: no switch out reused its thread's previous native chain"
	# (a stack record on a remembered chain, or a sum of intervals on
	# one: unchanged stacks are summed)
	grep -Eq "previous native chain \(0 without one\)|sums: [0-9]+ read, [0-9]+ intervals in them, [0-9]+ of those without" \
		"$base.off.err" ||
		fail "$label: reused native chains not found: $(grep -E 'samples read|sums:' "$base.off.err")"
	if grep -Eq "previous native chain \([1-9]" "$base.off.err"; then
		fail "$label: reused native chains not found: $(grep -E 'samples read|sums:' "$base.off.err")"
	fi
	# every sum finds its stack.  Ruby's once lost theirs in one run of
	# about ten (2 of 254 intervals), before the pairing faults that
	# docs/offcpu.md tells of were fixed; none in about 100 recordings
	# since, then 6 of 281 in one CI run of trixie's ruby3.3 on a machine
	# so loaded that the off-CPU program took 11 us a switch (1-4 us
	# otherwise): CRuby may miss up to 3%, CPython none; the whole
	# summaries are printed when a recording misses any, to find why
	sed -n 's/.*sums: [0-9]* read, \([0-9]*\) intervals in them, \([0-9]*\) of those without.*/\1 \2/p' \
		"$base.off.err" | awk -v label="$label" '{
		printf "FIGURE offcpu %s summed intervals without their stack: %d of %d\n", label, $2, $1
		if ($2) {
			allowed = label ~ /ruby/ ? int($1 * 3 / 100) : 0
			system("grep -E \"^(rt-bpf|rtmerge)\" '"$base.log"' '"$base.off.err"' | sed \"s/^/    /\"")
			if ($2 > allowed) exit 1
		}
	}' || fail "$label: summed intervals without their stack: $(grep -E 'sums:' "$base.off.err")"
	# and each is the chain of its own kind of switch: a sleep in a system
	# call never shows the return-to-user path of a preempted thread
	if grep -E '\[syscall\] [a-z_0-9]+ [0-9]+$' "$base.off" | grep -q 'irqentry_exit_to_user_mode'; then
		fail "$label: a system call's interval has a preemption's native chain"
	fi
	python3 "$WORKLOADS/offcpu_check.py" "$label" "$base.json" "$base.wall" "$base.off" "$TOL" \
		"$sleep_leaf" "$pipe_leaf" || fail "$label: shares off by more than $TOL points"
}

ran=0
# CPython up to 3.10 sleeps in select() (pselect6), from 3.11 in clock_nanosleep
leaf_of() { case $1 in 3.[0-9]|3.10) echo "[syscall] pselect6" ;; *) echo "[syscall] clock_nanosleep" ;; esac; }
for v in 3.8.18 3.10.13 3.11.7 3.12.1 3.13.0; do
	py=/root/.pyenv/versions/$v/bin/python${v%.*}
	[ -x "$py" ] || continue
	run "pyenv-${v%.*}" "$(leaf_of "${v%.*}")" "[syscall] read" "$py" "$WORKLOADS/offcpu_truth.py"
	ran=$((ran + 1))
done
if [ -x /usr/bin/python3.11 ]; then
	run debian-3.11 "[syscall] clock_nanosleep" "[syscall] read" /usr/bin/python3.11 \
		"$WORKLOADS/offcpu_truth.py"
	ran=$((ran + 1))
fi
# Ruby's sleep and blocking read wait in ppoll and poll
if [ -x /usr/bin/ruby3.1 ]; then
	run ruby-3.1 "[syscall] ppoll" "[syscall] poll" /usr/bin/ruby3.1 "$WORKLOADS/offcpu_truth.rb"
	ran=$((ran + 1))
fi
# Debian's interpreters in containers: the program's main thread is 1 in
# its namespace, the host's tid comes from the recording (OFFCPU_COMM)
# (bullseye's glibc makes CPython 3.9's select() the select system call;
# Ruby 2.7 reads a pipe in read(), 3.3 sleeps on a condition variable)
skipped=""
for target in "bullseye:python3.9:[syscall] select:[syscall] read" \
	"trixie:python3.13:[syscall] clock_nanosleep:[syscall] read" \
	"sid:python3.14:[syscall] clock_nanosleep:[syscall] read" \
	"sid:python3.15:[syscall] clock_nanosleep:[syscall] read" \
	"bullseye:ruby2.7:[syscall] ppoll:[syscall] read" \
	"trixie:ruby3.3:[syscall] futex:[syscall] poll"; do
	IFS=: read -r dist bin sleep_leaf pipe_leaf <<<"$target"
	root=$(container_root "$dist" "$bin") || { skipped="$skipped $dist:$bin"; continue; }
	case $bin in
	python*) container_cmd "$root" "$bin" "$WORKLOADS/offcpu_truth.py" ;;
	*) container_cmd "$root" "$bin" "$WORKLOADS/offcpu_truth.rb" ;;
	esac
	OFFCPU_COMM=$bin run "$dist-$bin" "$sleep_leaf" "$pipe_leaf" "${CMD[@]}"
	rm -f "$root/tmp/${CMD[-1]##*/}"
	ran=$((ran + 1))
done
[ -z "$skipped" ] || note "no container root for:$skipped (scripts/rootfs.sh builds them)"
[ "$ran" -gt 0 ] || skip "no pyenv CPython, /usr/bin/python3.11, /usr/bin/ruby3.1 or container root"
echo "PASS: offcpu_wall ($ran interpreters)"
