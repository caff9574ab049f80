# SPDX-License-Identifier: GPL-2.0-only
# Rounds of three configurations (base: no profiling, rt: rt-bpf record,
# off: rt-bpf record --off-cpu; and pre: another build's rt-bpf record
# --off-cpu when RT_BPF_BEFORE names its rt-bpf) in an order that rotates
# each round, and the slowdown of each as the median over rounds of (time /
# the round's baseline).  Sourced by the off-CPU benchmarks; the caller
# defines run CONFIG, which prints the seconds of one run (nothing on
# failure).

# bench_rounds NAME ROUNDS TIMES-FILE WHAT-FAILED: appends "round config
# seconds" lines to TIMES-FILE; 1 when a run printed nothing.
bench_rounds() {
	local name=$1 rounds=$2 times=$3 failed=$4 r k c s
	local configs=(base rt off) order
	[ -n "${RT_BPF_BEFORE:-}" ] && configs+=(pre)
	for r in $(seq "$rounds"); do
		k=$(((r - 1) % ${#configs[@]}))
		order=("${configs[@]:k}" "${configs[@]:0:k}")
		for c in "${order[@]}"; do
			s=$(run "$c")
			[ -n "$s" ] || { echo "$name: $c $failed" >&2; return 1; }
			echo "$r $c $s" >>"$times"
		done
		echo "$name: round $r: $(awk -v r="$r" '$1 == r { printf "%s %ss  ", $2, $3 }' "$times")"
	done
}

# bench_slowdowns TIMES-FILE HEADLINE FIGURE N: prints HEADLINE (a Python
# format string given base, the baseline's median seconds, rounds, and for
# the N units of work each run does us_each and per_s), then
# "FIGURE <FIGURE> slowdown ..." for rt and off.
bench_slowdowns() {
	python3 - "$@" <<'PY'
import statistics, sys
times, headline, figure, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = {}
for line in open(times):
    r, c, s = line.split()
    t.setdefault(int(r), {})[c] = float(s)
base = statistics.median(t[r]["base"] for r in t)
print(headline.format(base=base, rounds=len(t), us_each=1e6 * base / n, per_s=n / base))
for c, name in (("rt", "rt-bpf record"), ("off", "rt-bpf record --off-cpu"),
                ("pre", "RT_BPF_BEFORE's rt-bpf record --off-cpu")):
    if any(c not in t[r] for r in t):
        continue
    ratio = statistics.median(t[r][c] / t[r]["base"] for r in t)
    print(f"FIGURE {figure} slowdown {name}: {100 * (ratio - 1):+.1f}% "
          f"(median of per-round ratios against no profiling)")
PY
}

# summed_share ERR-FILE FIGURE: from rt-bpf record --off-cpu's summaries in
# ERR-FILE (one per run), "FIGURE <FIGURE> switches summed ..." the share
# of the walked threads' switches out whose interval was summed (no walk,
# no record) over all runs.
summed_share() {
	awk -v fig="$2" '/off-CPU: switches out=/ {
		if (match($0, /switches out=[0-9]+/)) sw += substr($0, RSTART + 13, RLENGTH - 13)
		if (match($0, /intervals summed=[0-9]+/)) sm += substr($0, RSTART + 17, RLENGTH - 17)
	} END { if (sw) printf "FIGURE %s switches summed: %.1f%% of %d switches out of walked threads (no walk, no record)\n", fig, 100 * sm / sw, sw }' "$1"
}
