# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the fuzz scripts after they set $top, $build, $out and $secs.

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

# fuzz_build NAME ARGS...: builds $out/fuzz_NAME from ARGS (sources and
# options, paths from $top) with libFuzzer, ASan and UBSan; exits 1 when it
# cannot.
fuzz_build() {
	local name=$1
	shift
	(cd "$top" && clang -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -D_GNU_SOURCE -I. "$@" -o "$out/fuzz_$name") ||
		{ echo "cannot build the fuzzer"; exit 1; }
}

# fuzz_library: sets $srcs and $libs to the library's sources and link
# options as the Makefile lists them, for a fuzzer that reaches all of it;
# skips (77) before `make all` wrote the generated headers.
fuzz_library() {
	local db
	[ -f "$build/bpf/perffd.skel.h" ] && [ -f "$build/gen/rtmerge/flamegraph_js.h" ] ||
		{ echo "skipped: run make all first (generated headers are missing)"; exit 77; }
	db=$(make -s -C "$top" -p -n all 2>/dev/null)
	srcs=$(sed -n 's/^LIB_SRCS := //p' <<<"$db")
	libs=$(sed -n 's/^LDLIBS = //p' <<<"$db")
	[ -n "$srcs" ] && [ -n "$libs" ] || { echo "cannot list the library sources"; exit 1; }
}

# fuzz_run NAME CORPUS LINES OPTIONS...: runs $out/fuzz_NAME on CORPUS for
# $secs seconds with libFuzzer OPTIONS, its log in $out/NAME.log, then
# fuzz_report NAME with the log's last LINES lines.
fuzz_run() {
	local name=$1 corpus=$2 lines=$3
	shift 3
	"$out/fuzz_$name" -max_total_time="$secs" "$@" -print_final_stats=1 "$corpus" \
		>"$out/$name.log" 2>&1
	fuzz_report "$name" $? "$lines"
}
