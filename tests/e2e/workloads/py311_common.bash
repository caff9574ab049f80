# SPDX-License-Identifier: GPL-2.0-only
# Shared by tests/e2e/py311_*.sh (sourced): skips, the two CPython 3.11
# builds, and recording a workload with rt-bpf then decoding it with
# rt-decode from `perf script` output.
set -u
RT_TOP=${RT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
RT_BUILD=${RT_BUILD:-$RT_TOP/build}
RT_BPF=$RT_BUILD/rt-bpf
RT_DECODE=$RT_BUILD/rt-decode
WORKLOADS=$RT_TOP/tests/e2e/workloads
PY_PYENV=/root/.pyenv/versions/3.11.7/bin/python3.11
PY_DEBIAN=/usr/bin/python3.11
PY_TMP=$(mktemp -d /tmp/rt-py311.XXXXXX)
trap 'rm -rf "$PY_TMP"' EXIT

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

py311_require() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record -a)"
	[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
	command -v perf >/dev/null || skip "perf is not installed"
	[ -x "$RT_BPF" ] || skip "$RT_BPF not built (make all builds it)"
	[ -x "$RT_DECODE" ] || fail "$RT_DECODE not built"
	PYTHONS=()
	[ -x "$PY_PYENV" ] && PYTHONS+=("$PY_PYENV")
	[ -x "$PY_DEBIAN" ] && PYTHONS+=("$PY_DEBIAN")
	[ ${#PYTHONS[@]} -gt 0 ] || skip "neither $PY_PYENV nor $PY_DEBIAN exists"
	true
}

# py311_record NAME PYTHON WORKLOAD ARGS...: records the workload run as a
# command; leaves $PY_TMP/NAME.{data,err,out,txt} (txt: rt-decode output).
py311_record() {
	local name=$1 py=$2; shift 2
	local base=$PY_TMP/$name
	timeout 25 "$RT_BPF" record -F 499 -o "$base.data" -- "$py" "$@" >"$base.out" 2>"$base.err"
	echo "rt-bpf exit $? for $name"
	grep '^rt-bpf:' "$base.err" | grep -v '^rt-bpf: perf record failed'
	[ -s "$base.data" ] || fail "$name: no perf.data; rt-bpf said: $(tail -3 "$base.err")"
	perf script -i "$base.data" -F comm,tid,event,bpf-output 2>/dev/null |
		"$RT_DECODE" >"$base.txt" 2>"$base.decode" || fail "$name: rt-decode failed"
	cat "$base.decode"
}

# BPF mean ns per run from rt-bpf's stderr (empty if unavailable)
py311_bpf_ns() { sed -n 's/.*mean \([0-9]*\) ns\/sample.*/\1/p' "$1"; }

# short label for a python binary: pyenv-3.11.7 or debian-3.11
py311_name() { [ "$1" = "$PY_DEBIAN" ] && echo debian-3.11 || echo "pyenv-$(basename "$(dirname "$(dirname "$1")")")"; }

# py311_merge NAME: folds $PY_TMP/NAME.data with rtmerge --tid into
# $PY_TMP/NAME.folded (rtmerge's summary in NAME.merr; one line per sample
# in NAME.samples) and prints the summary's interpreter lines.
RT_MERGE=$RT_BUILD/rtmerge
py311_merge() {
	local base=$PY_TMP/$1
	[ -x "$RT_MERGE" ] || fail "$RT_MERGE not built"
	"$RT_MERGE" --tid "$base.data" >"$base.folded" 2>"$base.merr" ||
		fail "$1: rtmerge failed: $(tail -3 "$base.merr")"
	"$RT_MERGE" -q --tid --per-sample "$base.samples" "$base.data" >/dev/null ||
		fail "$1: rtmerge --per-sample failed"
	grep 'interpreter' "$base.merr"
	[ -s "$base.folded" ] || fail "$1: rtmerge printed no stacks"
}

# py311_check NAME WORKLOAD: runs the Python check read from stdin with
# argv = NAME FOLDED WORKLOAD OUT SAMPLES and tests/e2e/workloads on sys.path
# (py311_folded.py reads the folded stacks).
py311_check() {
	PYTHONPATH=$WORKLOADS python3 - "$1" "$PY_TMP/$1.folded" "$2" "$PY_TMP/$1.out" "$PY_TMP/$1.samples" ||
		fail "$1: rtmerge's folded stacks are wrong"
}
