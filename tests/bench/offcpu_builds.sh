#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The off-CPU program's time per scheduler switch (the kernel's BPF
# statistics, as rt-bpf prints them) for several builds of rt-bpf, run in
# turn ROUNDS times on one command, so that the machine's drift hits every
# build alike.  Prints each build's runs and their median.
# Usage: offcpu_builds.sh RT-BPF[,RT-BPF...] -- CMD...
#   ROUNDS=6 bash tests/bench/offcpu_builds.sh OLD/rt-bpf,build/rt-bpf -- \
#       taskset -c 1 python3.11 tests/bench/pingpong.py 100000
set -u
rounds=${ROUNDS:-6}
[ $# -ge 3 ] && [ "$2" = -- ] || {
	echo "usage: offcpu_builds.sh RT-BPF[,RT-BPF...] -- CMD..." >&2
	exit 2
}
IFS=, read -r -a builds <<<"$1"
shift 2
for b in "${builds[@]}"; do
	[ -x "$b" ] || { echo "offcpu_builds: $b is not an executable" >&2; exit 2; }
done
tmp=$(mktemp -d /tmp/rt-offbuilds.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for r in $(seq "$rounds"); do
	for i in "${!builds[@]}"; do
		"${builds[$i]}" record --off-cpu -F 99 -o "$tmp/o.data" -- "$@" >/dev/null 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; echo "offcpu_builds: ${builds[$i]} failed" >&2; exit 1; }
		ns=$(sed -n 's/.*off-CPU program: [0-9]* scheduler switches, mean \([0-9]*\) ns each.*/\1/p' \
			"$tmp/err" | tail -n 1)
		[ -n "$ns" ] || { echo "offcpu_builds: ${builds[$i]} printed no BPF time" >&2; exit 1; }
		echo "$i $ns" >>"$tmp/ns"
	done
done
for i in "${!builds[@]}"; do
	awk -v i="$i" -v b="${builds[$i]}" '$1 == i { v[n++] = $2 }
		END {
			for (a = 0; a < n; a++) for (c = a + 1; c < n; c++) if (v[c] < v[a]) { t = v[a]; v[a] = v[c]; v[c] = t }
			m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			s = ""; for (a = 0; a < n; a++) s = s " " v[a]
			printf "FIGURE offcpu builds: %s: median %d ns per scheduler switch (runs:%s)\n", b, m, s
		}' "$tmp/ns"
done
