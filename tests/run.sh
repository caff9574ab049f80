#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every test: CUnit suites (plain and under ASan+UBSan), bounded fuzzing
# of the parsers, and the end-to-end scripts.  Exit status 77 from a test
# means "skipped"; the test prints why.  Ends with "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
unit_only=0
if [ "${1:-}" = "--unit-only" ]; then unit_only=1; shift; fi
build=${1:-build}
export RT_BUILD=$top/$build RT_TOP=$top

passed=0 failed=0 skipped=0
failed_names=() skipped_names=()
log_dir=$top/build/test-logs
mkdir -p "$log_dir"

run_one() { # name command...
	local name=$1; shift
	local log=$log_dir/${name//\//_}.log start end rc
	start=$(date +%s.%N)
	# In a session of its own (the background job is no group leader, so
	# setsid does not fork and its pid is the session's id): whatever the
	# test leaves running, as a test that fails before its own clean-up
	# does, is killed here instead of loading the machine under the tests
	# that follow.
	setsid "$@" >"$log" 2>&1 &
	local sid=$!
	wait "$sid"
	rc=$?
	end=$(date +%s.%N)
	local left
	left=$(pgrep -s "$sid" | wc -l)
	if [ "$left" -gt 0 ]; then
		pkill -KILL -s "$sid"
		echo "run.sh: killed $left process(es) the test left running" >>"$log"
		echo "     $name left $left process(es) running: killed"
	fi
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
	case $rc in
	0) passed=$((passed + 1)); printf 'PASS %-40s %6ss\n' "$name" "$secs" ;;
	77) skipped=$((skipped + 1)); skipped_names+=("$name")
	    printf 'SKIP %-40s %s\n' "$name" "$(grep -m1 -i 'skipped' "$log" || echo 'skipped: no reason given')" ;;
	*) failed=$((failed + 1)); failed_names+=("$name")
	   printf 'FAIL %-40s (exit %d) log: %s\n' "$name" "$rc" "$log"
	   tail -n 25 "$log" | sed 's/^/    | /' ;;
	esac
	# Tests that print figures show them in the run's output.
	grep -h '^FIGURE' "$log" 2>/dev/null | sed 's/^/    /'
}

for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done

if [ "$unit_only" = 0 ]; then
	# The same suites under ASan+UBSan.
	if make -s SAN=1 all >"$log_dir/san-build.log" 2>&1; then
		for t in build/san/tests/unit/test_*; do
			[ -x "$t" ] || continue
			run_one "san/$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
				UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$t"
		done
	else
		failed=$((failed + 1)); failed_names+=("san-build")
		echo "FAIL san-build (log: $log_dir/san-build.log)"; tail -n 20 "$log_dir/san-build.log"
	fi
	# One at a time machine-wide: the end-to-end tests record every CPU
	# (perf record -a) and measure shares of time, so a second run of them
	# (another checkout's) must wait, not mix in.  -o: a process a test
	# leaks does not keep the lock.
	lock=()
	command -v flock >/dev/null && lock=(flock -o "${RT_E2E_LOCK:-/tmp/rtperf-e2e.lock}")
	for t in tests/fuzz/*.sh tests/e2e/*.sh; do
		[ -f "$t" ] || continue
		[ "$(basename "$t")" = lib.sh ] && continue # shared helpers, not a test
		run_one "${t#tests/}" "${lock[@]}" bash "$t"
	done
fi

echo
[ ${#skipped_names[@]} -gt 0 ] && echo "skipped: ${skipped_names[*]}"
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
