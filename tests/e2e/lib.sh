# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the end-to-end tests (sourced).
set -u
RT_TOP=${RT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RT_BUILD=${RT_BUILD:-$RT_TOP/build}
RTMERGE=$RT_BUILD/rtmerge
E2E_TMP=$(mktemp -d /tmp/rtperf-e2e.XXXXXX)
# RT_KEEP_TMP=1 keeps the recordings and logs for a look after a failure
trap '[ -n "${RT_KEEP_TMP:-}" ] || rm -rf "$E2E_TMP"' EXIT

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

require_perf() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for perf record -a and kernel symbols"
	command -v perf >/dev/null || skip "perf is not installed"
	perf record -e cpu-clock -o "$E2E_TMP/probe.data" -q -- true >/dev/null 2>&1 ||
		skip "perf record does not work here"
	[ -x "$RTMERGE" ] || fail "$RTMERGE not built"
}

# Build the bundled workloads with frame pointers into $E2E_TMP.
build_progs() {
	local cflags="-O0 -g -fno-omit-frame-pointer"
	local p=$RT_TOP/tests/e2e/progs
	cc $cflags -o "$E2E_TMP/calltree" "$p/calltree.c" || fail "build calltree"
	cc $cflags -pthread -o "$E2E_TMP/threads" "$p/threads.c" || fail "build threads"
	cc $cflags -shared -fPIC -o "$E2E_TMP/libcallee.so" "$p/libcallee.c" || fail "build lib"
	cc $cflags -o "$E2E_TMP/uselib" "$p/uselib.c" -L"$E2E_TMP" -lcallee \
		-Wl,-rpath,"$E2E_TMP" || fail "build uselib"
}

# count of samples whose folded stack matches an extended regex
folded_count() { # file regex
	awk -v re="$2" '{ n = $NF; $NF = ""; sub(/ $/, ""); if ($0 ~ re) s += n } END { print s + 0 }' "$1"
}

# wait_for SECONDS CONDITION...: runs CONDITION every 0.3 s until it
# succeeds (0) or SECONDS have passed (1)
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.3
	done
}
folded_total() { awk '{ s += $NF } END { print s + 0 }' "$1"; }

# The machine's steal time since boot, in seconds (all CPUs; /proc/stat's
# eighth figure): time a virtual CPU wanted to run and the hypervisor ran
# something else.  A thread's CPU clock leaves it out, but no switch
# happens and perf's cpu-clock samples go on, so a check of rtmerge against
# a thread's own wall - CPU time allows what steal could explain.
steal_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.3f\n", $9 / hz; exit }' /proc/stat
}

# Build the tokio ground truth (tests/e2e/tokio) offline from Debian's
# crates, with v0 symbol mangling, into $E2E_TMP/tokground; sets TOKGROUND
# to the executable.  Skips without cargo or Debian's tokio crate.
build_tokground() {
	local rc=0
	TOKGROUND=$(bash "$RT_TOP/tests/e2e/tokio/build.sh" "$E2E_TMP/tokground" 2>"$E2E_TMP/tokground.err") || rc=$?
	[ $rc -eq 77 ] && skip "$(cat "$E2E_TMP/tokground.err")"
	[ $rc -eq 0 ] || { cat "$E2E_TMP/tokground.err"; fail "cannot build the tokio ground truth offline"; }
}

# container_root DIST BIN: the root scripts/rootfs.sh built for Debian DIST
# with /usr/bin/BIN in it; status 1 (nothing printed) when there is none.
container_root() {
	local root
	root=$(bash "$RT_TOP/scripts/rootfs.sh" --dir "$1" 2>/dev/null) || return 1
	[ -n "$root" ] && [ -f "$root/.rtperf-rootfs" ] && [ -x "$root/usr/bin/$2" ] || return 1
	echo "$root"
}

# container_cmd ROOT BIN SCRIPT: sets CMD to run BIN on a copy of SCRIPT in
# ROOT, in its own PID, mount, UTS and IPC namespaces (the interpreter is
# pid 1 there), chrooted into ROOT.  The copy is left in ROOT/tmp.
container_cmd() {
	local copy
	copy=$(mktemp "$1/tmp/rtperf-e2e.XXXXXX") || fail "cannot write into $1/tmp"
	cp "$3" "$copy"
	CMD=(unshare --pid --mount --uts --ipc --fork --mount-proc="$1/proc" chroot "$1" "$2" "/tmp/${copy##*/}")
}

# host_main_tid DATA COMM: the host's tid of the main thread (its tid is its
# pid) of the process named COMM in perf.data DATA; fails without one.
host_main_tid() {
	perf script -i "$1" -F comm,pid,tid 2>/dev/null | awk -v c="${2:0:15}" '
		$1 == c { split($2, a, "/"); if (a[1] == a[2]) { print a[1]; found = 1; exit } }
		END { exit !found }'
}

# offcpu_tid LABEL BASE: the thread the program in BASE.json says it
# measured, as the host knows it.  With OFFCPU_COMM set (a program in its
# own PID namespace, where its main thread is 1) the main thread of the
# process of that name in BASE.data.
offcpu_tid() {
	local tid
	tid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tid"])' "$2.json") ||
		fail "$1: the program printed no result"
	if [ -n "${OFFCPU_COMM:-}" ]; then
		[ "$tid" = 1 ] || fail "$1: the program's thread is $tid in its namespace, not its main thread"
		tid=$(host_main_tid "$2.data" "$OFFCPU_COMM") || fail "$1: no $OFFCPU_COMM main thread in $2.data"
	fi
	echo "$tid"
}

# offcpu_record LABEL BASE RECORD-OPTION... -- CMD...: rt-bpf record
# --off-cpu of CMD into BASE.data (CMD prints JSON with its thread's "tid",
# kept in BASE.json; rt-bpf's messages in BASE.log, its off-CPU summary
# printed), then rtmerge --off-cpu of that thread into BASE.off (messages in
# BASE.off.err).  Sets OFFCPU_TID (see offcpu_tid for OFFCPU_COMM).
offcpu_record() {
	local label=$1 base=$2
	shift 2
	timeout 60 "$RT_BUILD/rt-bpf" record --off-cpu -o "$base.data" "$@" >"$base.json" \
		2>"$base.log" || { cat "$base.log" >&2; fail "$label: rt-bpf record"; }
	grep '^rt-bpf: off-CPU:' "$base.log"
	offcpu_switches_add_up "$label" "$base.log"
	OFFCPU_TID=$(offcpu_tid "$label" "$base") || exit 1
	"$RTMERGE" --off-cpu -t "$OFFCPU_TID" -o "$base.off" "$base.data" 2>"$base.off.err" ||
		{ cat "$base.off.err" >&2; fail "$label: rtmerge --off-cpu"; }
}

# offcpu_switches_add_up LABEL RT-BPF-LOG: every switch out the program saw
# (of a command's threads, which all end before the recording) became an
# interval record or a summed interval, or was counted lost (a lost sum
# counts its intervals both as summed and as lost)
offcpu_switches_add_up() {
	sed -n 's/.*switches out=\([0-9]*\), intervals=\([0-9]*\), intervals lost=\([0-9]*\), intervals not written=\([0-9]*\),.*intervals summed=\([0-9]*\),.*/\1 \2 \3 \4 \5/p' \
		"$2" | awk '{ found = 1; done = $2 + $5; ok = $1 >= done && $1 <= done + $3 + $4 }
		END { exit !(found && ok) }' ||
		fail "$1: switches out do not add up: $(grep '^rt-bpf: off-CPU:' "$2")"
}
