#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Event-driven discovery: Python and Ruby processes that start, or exec
# from one interpreter into the other, during a recording carry interpreter
# frames from their first samples.  Each process works for 40 ms, in
# zlib's deflate called from py_busy or rb_busy; a sample in libz was
# taken while the interpreter ran that function, so it must carry the
# function's frame (the interpreter's start-up before it is not counted).  Measured over every such short phase, under
# `rt-bpf record -- CMD` (the processes are CMD's descendants: fork events
# give the parentage) and under `rt-bpf record -a`.
#   flock /tmp/rtperf-e2e.lock bash tests/e2e/discovery_exec.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export RT_BUILD=${RT_BUILD:-$top/build}
source "$top/tests/e2e/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
[ -x "$RTBPF" ] || fail "$RTBPF not built"
command -v ruby3.1 >/dev/null || skip "no ruby3.1"
ruby3.1 -e 'require "zlib"' 2>/dev/null || skip "ruby3.1 has no zlib"
pys=()
for py in /usr/bin/python3.11 /root/.pyenv/versions/3.10.13/bin/python3.10; do
	[ -x "$py" ] && pys+=("$py")
done
[ ${#pys[@]} -gt 0 ] || skip "no python3.11 nor pyenv 3.10"
# Shares of libz samples with the interpreter frame: 1.000 in each of
# eight runs per mode; a discovery that waits for a poll or misses an exec
# leaves whole phases native-only (a phase is ~3% of the samples).
MIN_SHARE=${MIN_SHARE:-0.85}
dir=$top/tests/e2e/discovery

check() { # mode data
	local folded=$E2E_TMP/$1.folded
	"$RTMERGE" -q --pid "$2" >"$folded" 2>"$E2E_TMP/$1.rtmerge" ||
		fail "$1: rtmerge: $(tail -3 "$E2E_TMP/$1.rtmerge")"
	# per process phase (root frame comm-PID): libz samples, and those
	# with the interpreter's function
	awk '{ n = $NF; root = $0; sub(/;.*/, "", root)
	       if (root !~ /^(python3|ruby)/ || $0 !~ /;(\[libz\.so[^;]*\]|deflate|adler32_z)[ ;]/) next
	       busy[root] += n
	       if ($0 ~ /(py_busy|rb_busy)/) walked[root] += n }
	     END { for (r in busy) printf "%s %d %d\n", r, busy[r], walked[r] }' "$folded" |
		sort >"$E2E_TMP/$1.phases"
	local phases busy walked share
	read -r phases busy walked < <(awk '{ p++; b += $2; w += $3 } END { print p + 0, b + 0, w + 0 }' \
		"$E2E_TMP/$1.phases")
	share=$(awk -v b="$busy" -v w="$walked" 'BEGIN { printf "%.3f", b ? w / b : 0 }')
	echo "FIGURE discovery $1: $phases short-lived interpreter phases, $walked of $busy libz samples carry interpreter frames (share $share)"
	awk '$3 < $2 { print "   phase", $1, "walked", $3, "of", $2 }' "$E2E_TMP/$1.phases"
	# 3 rounds of python, python->ruby, ruby->python (5 phases) per python,
	# and a ruby; a phase too short to be sampled in libz is rare
	[ "$phases" -ge $((3 * (5 * ${#pys[@]} + 1) - 2)) ] || fail "$1: only $phases phases sampled"
	awk -v s="$share" -v m="$MIN_SHARE" 'BEGIN { exit !(s >= m) }' ||
		fail "$1: share $share below $MIN_SHARE"
}

timeout 60 "$RTBPF" record -F 999 -o "$E2E_TMP/tree.data" -- \
	bash "$dir/driver.sh" "$dir" "${pys[@]}" >/dev/null 2>"$E2E_TMP/tree.err" ||
	fail "rt-bpf record -- CMD: $(tail -3 "$E2E_TMP/tree.err")"
check tree "$E2E_TMP/tree.data"

timeout 60 "$RTBPF" record -a -F 999 -o "$E2E_TMP/all.data" 2>"$E2E_TMP/all.err" & rt=$!
for i in $(seq 100); do
	pgrep -P "$rt" -x perf >/dev/null && break
	sleep 0.05
done
sleep 0.5 # the BPF programs attach after perf starts
bash "$dir/driver.sh" "$dir" "${pys[@]}" >/dev/null
kill -INT "$rt"
wait "$rt" || fail "rt-bpf record -a: $(tail -3 "$E2E_TMP/all.err")"
check all "$E2E_TMP/all.data"
