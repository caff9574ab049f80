# SPDX-License-Identifier: GPL-2.0-only
# Shared by gil_wait.sh and gil_wait_container.sh (sourced): gil_run records
# workloads/gil_contention.py (three threads running Python code, one
# hashing with the GIL released) with rt-bpf record --off-cpu and checks
# rtmerge's --wall and --gil views with workloads/gil_check.py.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads
TOL=${TOL:-10}

require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"

# gil_run LABEL CMD...: CMD runs the workload (its arguments follow)
gil_run() {
	local label=$1 base=$E2E_TMP/$1 steal0 steal
	shift
	steal0=$(steal_seconds)
	timeout 60 "$RTBPF" record --off-cpu -F 499 -o "$base.data" -- "$@" 3 3 \
		>"$base.json" 2>"$base.log" || { cat "$base.log" >&2; fail "$label: rt-bpf record"; }
	steal=$(awk -v a="$steal0" -v b="$(steal_seconds)" 'BEGIN { print b - a }')
	grep '^rt-bpf: off-CPU' "$base.log"
	"$RTMERGE" --wall --tid -o "$base.wall" "$base.data" 2>/dev/null || fail "$label: rtmerge --wall"
	"$RTMERGE" --tid -o "$base.cpu" "$base.data" 2>/dev/null || fail "$label: rtmerge"
	"$RTMERGE" --gil --tid -o "$base.gil" "$base.data" 2>/dev/null || fail "$label: rtmerge --gil"
	python3 "$WORKLOADS/gil_check.py" "$label" "$base.json" "$base.wall" "$base.cpu" "$base.gil" \
		"$TOL" "$steal" || { grep '^rt-bpf' "$base.log" >&2; fail "$label"; }
}
