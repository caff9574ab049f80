#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Crafted perf.data files from someone else (docs/threat-model.md): rtmerge
# must not touch freed memory when attribute or build-id records arrive
# after samples (run under ASan when build/san exists), must not print a
# forged folded line from a process name, must not hang on a FIFO named as
# a mapped file, and must stay within time and memory ratios of equally
# sized benign files for inputs aimed at its tables and caps.  Runs perf
# record once: take the e2e lock.
source "$(dirname "$0")/lib.sh"
[ -x "$RTMERGE" ] || fail "$RTMERGE not built"
command -v python3 >/dev/null || skip "python3 is not installed"
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed"
gen=$RT_TOP/tests/e2e/hostile/mkhostile.py
san=${RT_SAN_BUILD:-$RT_TOP/build/san}/rtmerge
cd "$E2E_TMP"

# measure NAME FILE: prints "seconds max-rss-KB" of one rtmerge run
measure() {
	/usr/bin/time -f "%e %M" -o "$1.time" timeout 60 "$RTMERGE" -q "$2" >/dev/null 2>&1
	[ $? -ne 124 ] || fail "$1: rtmerge hung"
	cat "$1.time"
}

# ratio_ok NAME VALUE BASE MAX FLOOR: VALUE / max(BASE, FLOOR) <= MAX
ratio_ok() {
	awk -v n="$1" -v v="$2" -v b="$3" -v max="$4" -v floor="$5" 'BEGIN {
		if (b < floor) b = floor
		r = v / b
		printf "FIGURE %s: %.2f against benign (limit %s)\n", n, r, max
		exit !(r <= max) }' || fail "$1: ratio above $4"
}

# 1. Use after free: events and build ids that grow after the first sample.
for c in attrs-after-samples buildids-after-sample; do
	python3 "$gen" $c $c.data || fail "generate $c"
	for bin in "$RTMERGE" "$san"; do
		[ -x "$bin" ] || { note "$c: no sanitizer build at $bin (make SAN=1 all)"; continue; }
		timeout 60 "$bin" $c.data >$c.out 2>$c.err || { cat $c.err; fail "$c: $bin failed"; }
		! grep -q 'AddressSanitizer\|runtime error' $c.err || { cat $c.err; fail "$c: sanitizer"; }
		want=$(grep -o '^rtmerge: [0-9]* samples read' $c.err | grep -o '[0-9]*')
		[ "$(folded_total $c.out)" = "$want" ] ||
			fail "$c: $(folded_total $c.out) of $want samples folded"
	done
	note "$c: every sample folded, no sanitizer report"
done

# 6. A process name with a tab and a newline cannot forge a line.
python3 "$gen" forged-comm forged.data || fail "generate forged-comm"
"$RTMERGE" forged.data >forged.out 2>forged.err || fail "forged-comm: rtmerge failed"
[ "$(wc -l <forged.out)" -eq 1 ] || { cat -A forged.out; fail "forged-comm: extra lines"; }
grep -q '9999999' forged.out && ! grep -qP '\t' forged.out || { cat -A forged.out; fail "forged-comm"; }
[ "$(folded_total forged.out)" -eq 5 ] || fail "forged-comm: count is not 5"
grep -q 'control characters' forged.err || fail "forged-comm: not counted in the summary"
note "forged-comm: $(cat forged.out)"

# ...and the same from a real process that renamed itself, recorded by perf.
if [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null; then
	perf record -q -g -e cpu-clock -F 999 -o renamed.data -- sh -c \
		'printf "x\t9999999\nforged" >/proc/self/comm; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done' \
		>/dev/null 2>&1 || fail "perf record of the renamed process"
	"$RTMERGE" renamed.data >renamed.out 2>renamed.err || fail "renamed: rtmerge failed"
	grep -q '^x?9999999?forge' renamed.out || { cat -A renamed.out | head; fail "renamed: no scrubbed name"; }
	! grep -Eq '^forge|	' renamed.out || { cat -A renamed.out | head; fail "renamed: forged line"; }
	! grep -Evq ' [0-9]+$' renamed.out || fail "renamed: a line without a count"
	note "renamed process: $(grep -c '^x?9999999?forge' renamed.out) stacks under x?9999999?forge"
else
	note "renamed process: not recorded (needs root and perf)"
fi

# 8. Run as root, -o and --per-sample never write through a symbolic link.
if [ "$(id -u)" -eq 0 ]; then
	echo keep >precious
	ln -s "$E2E_TMP/precious" out.lnk
	"$RTMERGE" -q -o out.lnk forged.data 2>/dev/null && fail "-o followed a symbolic link"
	"$RTMERGE" -q --per-sample out.lnk forged.data >/dev/null 2>&1 &&
		fail "--per-sample followed a symbolic link"
	[ "$(cat precious)" = keep ] || fail "the link's target was overwritten"
	note "output symlinks refused"
fi

# 3. A FIFO named as a mapped file (and a device): symbolizing must not block.
mkfifo fifo.so
for path in "$E2E_TMP/fifo.so" /dev/zero; do
	python3 "$gen" mapped-path mapped.data "$path" || fail "generate mapped-path"
	timeout 20 "$RTMERGE" mapped.data >mapped.out 2>mapped.err
	rc=$?
	[ $rc -ne 124 ] || fail "mapped-path $path: rtmerge hung"
	[ $rc -eq 0 ] || { cat mapped.err; fail "mapped-path $path: exit $rc"; }
	[ "$(folded_total mapped.out)" -eq 5 ] || fail "mapped-path $path: samples lost"
done
note "mapped FIFO and device: not opened, samples kept"

# 5. Blow-ups, as ratios to benign files of the same size measured here.
python3 "$gen" cache-aimed cache-aimed.data && python3 "$gen" cache-benign cache-benign.data ||
	fail "generate cache"
read -r t1 m1 < <(measure cache-aimed cache-aimed.data)
read -r t0 m0 < <(measure cache-benign cache-benign.data)
ratio_ok "frame cache, addresses i<<40, time" "$t1" "$t0" 3 0.05

python3 "$gen" forks forks.data && python3 "$gen" forks-benign forks-benign.data ||
	fail "generate forks"
read -r t1 m1 < <(measure forks forks.data)
read -r t0 m0 < <(measure forks-benign forks-benign.data)
ratio_ok "2,000 maps x 20,000 forks, memory" "$m1" "$m0" 3 10000
ratio_ok "2,000 maps x 20,000 forks, time" "$t1" "$t0" 3 0.05

python3 "$gen" ids-shared ids.data && python3 "$gen" ids-benign ids-benign.data ||
	fail "generate ids"
read -r t1 m1 < <(measure ids ids.data)
read -r t0 m0 < <(measure ids-benign ids-benign.data)
ratio_ok "4,096 events sharing 32,768 ids, memory" "$m1" "$m0" 8 10000
"$RTMERGE" ids.data 2>&1 >/dev/null | grep -q 'event ids dropped' || fail "ids: cap not reported"

python3 "$gen" maps-desc maps-desc.data && python3 "$gen" maps-asc maps-asc.data ||
	fail "generate maps"
read -r t1 m1 < <(measure maps-desc maps-desc.data)
read -r t0 m0 < <(measure maps-asc maps-asc.data)
ratio_ok "80,000 maps inserted high to low, time" "$t1" "$t0" 3 0.05
echo "hostile inputs: ok"
