# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the end-to-end tests (sourced).
set -u
RT_TOP=${RT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RT_BUILD=${RT_BUILD:-$RT_TOP/build}
RTMERGE=$RT_BUILD/rtmerge
E2E_TMP=$(mktemp -d /tmp/rtperf-e2e.XXXXXX)
trap 'rm -rf "$E2E_TMP"' EXIT

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

folded_total() { awk '{ s += $NF } END { print s + 0 }' "$1"; }

# Build the tokio ground truth (tests/e2e/tokio) offline from Debian's
# crates, with v0 symbol mangling, into $E2E_TMP/tokground; sets TOKGROUND
# to the executable.  Skips without cargo or Debian's tokio crate.
build_tokground() {
	local rc=0
	TOKGROUND=$(bash "$RT_TOP/tests/e2e/tokio/build.sh" "$E2E_TMP/tokground" 2>"$E2E_TMP/tokground.err") || rc=$?
	[ $rc -eq 77 ] && skip "$(cat "$E2E_TMP/tokground.err")"
	[ $rc -eq 0 ] || { cat "$E2E_TMP/tokground.err"; fail "cannot build the tokio ground truth offline"; }
}

# offcpu_record LABEL BASE RECORD-OPTION... -- CMD...: rt-bpf record
# --off-cpu of CMD into BASE.data (CMD prints JSON with its thread's "tid",
# kept in BASE.json; rt-bpf's messages in BASE.log, its off-CPU summary
# printed), then rtmerge --off-cpu of that thread into BASE.off (messages in
# BASE.off.err).  Sets OFFCPU_TID.
offcpu_record() {
	local label=$1 base=$2
	shift 2
	timeout 60 "$RT_BUILD/rt-bpf" record --off-cpu -o "$base.data" "$@" >"$base.json" \
		2>"$base.log" || { cat "$base.log" >&2; fail "$label: rt-bpf record"; }
	grep '^rt-bpf: off-CPU:' "$base.log"
	OFFCPU_TID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tid"])' \
		"$base.json") || fail "$label: the program printed no result"
	"$RTMERGE" --off-cpu -t "$OFFCPU_TID" -o "$base.off" "$base.data" 2>"$base.off.err" ||
		{ cat "$base.off.err" >&2; fail "$label: rtmerge --off-cpu"; }
}
