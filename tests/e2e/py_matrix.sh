#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf on every CPython of the machine: the nine pyenv builds (2.7, 3.6 to
# 3.13: every frame model and thread-state anchor) and Debian's stripped,
# non-PIE python3.11.  Each runs the recursion, threads and split workloads
# (the *_py2.py variants where the originals need a newer Python) under
# `rt-bpf record`; rt-decode's stacks are checked by
# workloads/matrix_check.py.  The split run records --call-graph dwarf and
# goes through rtmerge too: the interpreter frames must splice in at the
# eval-loop frames (one per Python frame before 3.11), in order.  Prints a
# table per version; fails unless every version has >= 99% complete stacks,
# >= 95% hot-line accuracy, >= 95% spliced and no wrong-thread frames.  A missing build is a printed skip, not a pass.
# MATRIX_VERSIONS="3.9.18 3.12.1" limits the run to those pyenv builds,
# MATRIX_SECONDS (default 1.5) sets each workload's length.
. "$(dirname "$0")/workloads/py311_common.bash"
[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf record -a)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v perf >/dev/null || skip "perf is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built (run make)"
[ -x "$RT_DECODE" ] || fail "$RT_DECODE not built"
ROOT=${PYENV_VERSIONS_DIR:-/root/.pyenv/versions}
SECS=${MATRIX_SECONDS:-1.5}

declare -a NAMES=() BINS=()
for v in ${MATRIX_VERSIONS:-2.7.18 3.6.15 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0}; do
	mm=${v%.*}
	bin=$ROOT/$v/bin/python$mm
	if [ -x "$bin" ]; then
		NAMES+=("pyenv-$v"); BINS+=("$bin")
	else
		echo "skipped: pyenv-$v: no $bin"
	fi
done
if [ -n "${MATRIX_VERSIONS:-}" ]; then
	echo "-- MATRIX_VERSIONS=$MATRIX_VERSIONS: Debian's python3.11 not selected"
elif [ -x /usr/bin/python3.11 ]; then
	NAMES+=("debian-3.11"); BINS+=(/usr/bin/python3.11)
else
	echo "skipped: debian-3.11: no /usr/bin/python3.11"
fi
[ ${#BINS[@]} -gt 0 ] || skip "no CPython build found"

# workload file for KIND on interpreter BIN: the original when it runs there
workload() { # kind bin
	local base=$1 py2=0
	case $1 in recursion) base=py_recurse ;; threads) base=py_threads ;; split) base=py_split ;; esac
	"$2" -c 'import sys; sys.exit(sys.version_info < (3, 8))' || py2=1
	if [ $py2 = 1 ] && [ -e "$WORKLOADS/${base}_py2.py" ]; then
		echo "$WORKLOADS/${base}_py2.py"
	else
		echo "$WORKLOADS/$base.py"
	fi
}

. "$WORKLOADS/splice_check.bash"

# run_one NAME KIND PYTHON WORKLOAD CALLGRAPH BASE ARGS...: records and checks
# one run into BASE.{data,out,err,txt,check}.
run_one() {
	local name=$1 kind=$2 py=$3 w=$4 cg=$5 base=$6
	shift 6
	rm -f "$base.check"
	timeout 40 "$RT_BPF" record -F 499 --call-graph "$cg" -o "$base.data" -- "$py" "$w" "$@" \
		>"$base.out" 2>"$base.err"
	if [ ! -s "$base.data" ]; then
		echo "$name $kind: no perf.data: $(tail -2 "$base.err")"
		return
	fi
	perf script -i "$base.data" -F comm,tid,event,bpf-output 2>"$base.perr" |
		"$RT_DECODE" >"$base.txt" 2>"$base.decode"
	python3 "$WORKLOADS/matrix_check.py" "$kind" "$base.txt" "$w" "$base.out" >"$base.check"
	grep -v '^RESULT\|^PID\|^MODULE\|^SHARE' "$base.check"
	echo "$name $kind: $(grep -m1 '^rt-bpf: python samples' "$base.err")"
}

bad=0
results=$PY_TMP/results
: >"$results"
for i in "${!BINS[@]}"; do
	name=${NAMES[$i]} py=${BINS[$i]}
	for kind in recursion threads split; do
		w=$(workload "$kind" "$py")
		case $kind in
		recursion) args=(200 "$SECS") ;;
		*) args=("$SECS") ;;
		esac
		cg=fp
		[ "$kind" = split ] && cg=dwarf
		base=$PY_TMP/$name-$kind
		for attempt in 1 2; do
			run_one "$name" "$kind" "$py" "$w" "$cg" "$base" "${args[@]}"
			r=$(sed -n 's/^RESULT //p' "$base.check" 2>/dev/null)
			# a loaded machine can starve one run: retry it once, saying so
			[ -n "$r" ] && [ "$(echo "$r" | awk '{ print $3 }')" -lt 100 ] && [ $attempt = 1 ] ||
				break
			echo "$name $kind: only $(echo "$r" | awk '{ print $3 }') Python samples, running it again;" \
				"rt-decode: $(tail -1 "$base.decode"); perf script: $(grep -v 'not valid for unknown' "$base.perr" | tail -2)"
		done
		[ -n "$r" ] || { echo "$name $kind: check failed"; bad=1; continue; }
		spliced=-
		if [ "$kind" = split ]; then
			spliced=$(splice_check "$base" "$(sed -n 's/^PID //p' "$base.check")" "$w")
		fi
		echo "$name $r $spliced" >>"$results"
	done
done

printf '\n%-14s %-10s %8s %8s %9s %9s %7s %8s\n' version workload samples python complete% hotline% wrong spliced%
while read -r name kind samples python complete hot wrong spliced; do
	printf '%-14s %-10s %8s %8s %9s %9s %7s %8s\n' "$name" "$kind" "$samples" "$python" "$complete" "$hot" "$wrong" "$spliced"
	if awk -v c="$complete" -v h="$hot" -v p="$python" -v s="$spliced" \
		'BEGIN { exit !(c >= 99 && h >= 95 && p >= 100 && (s == "-" || s >= 95)) }' &&
	   [ "$wrong" = 0 ]; then
		:
	else
		echo "  ^ below the goal (>= 99% complete, >= 95% hot line, >= 100 Python samples, 0 wrong, >= 95% spliced)"
		bad=1
	fi
done <"$results"
echo
for name in "${NAMES[@]}"; do
	awk -v n="$name" '$1 == n { s += $3; p += $4; c += $4 * $5 / 100; w += $7; h = h " " $2 "=" $6 "%"; if ($8 != "-") sp = $8 }
		END { if (p) printf "FIGURE py matrix %s: %d samples, %d Python, %.1f%% complete, hot line%s, %d wrong-thread, %s%% spliced (dwarf)\n", n, s, p, 100 * c / p, h, w, sp }' "$results"
done
[ "$bad" = 0 ] || fail "some version missed the goal"
