# SPDX-License-Identifier: GPL-2.0-only
# Shared setup for the Ruby e2e tests (sourced): Debian's ruby3.1, rt-bpf
# record of a workload, rtmerge's folded output.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
RUBY=${RUBY:-/usr/bin/ruby3.1}
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads

rb_require() {
	require_perf
	[ -x "$RUBY" ] || skip "no $RUBY (Debian package ruby3.1; scripts/setup.sh installs it)"
	[ -x "$RTBPF" ] || fail "$RTBPF not built"
	[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
}

# rb_record NAME WORKLOAD SECONDS [rt-bpf options...]: records the workload
# into $E2E_TMP/NAME.data and writes rtmerge's folded output (with
# --tid) to $E2E_TMP/NAME.txt and rt-bpf's log to $E2E_TMP/NAME.log.
rb_record() {
	local name=$1 wl=$2 secs=$3
	shift 3
	timeout 60 "$RTBPF" record -F 199 "$@" -o "$E2E_TMP/$name.data" -- "$RUBY" "$wl" "$secs" \
		>"$E2E_TMP/$name.log" 2>&1 || { cat "$E2E_TMP/$name.log" >&2; fail "$name: rt-bpf record failed"; }
	"$RTMERGE" --tid -o "$E2E_TMP/$name.txt" "$E2E_TMP/$name.data" 2>"$E2E_TMP/$name.merge" ||
		{ cat "$E2E_TMP/$name.merge" >&2; fail "$name: rtmerge failed"; }
}

# BPF run time per sample from rt-bpf's log, in ns ("" if not reported)
rb_bpf_ns() { sed -n 's/.*mean \([0-9]*\) ns\/sample.*/\1/p' "$1" | tail -n 1; }
