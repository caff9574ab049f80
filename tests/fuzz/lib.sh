# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the fuzz scripts after they set $out and $secs.

# fuzz_report NAME RC LINES: the last LINES lines of fuzzer NAME's log
# ($out/NAME.log), its FIGURE line (inputs run in $secs), and exit 1 when
# its run (exit status RC) found a crash.
fuzz_report() {
	local name=$1 rc=$2 runs
	tail -n "$3" "$out/$name.log"
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$')
	echo "FIGURE fuzz $name: ${runs:-0} inputs in ${secs}s, exit $rc"
	[ "$rc" -eq 0 ] || { echo "fuzzer found a crash: see $out/$name.log"; exit 1; }
}
