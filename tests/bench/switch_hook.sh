#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What the hook on the scheduler's switch costs by itself, whatever the
# program on it does: a C ping-pong over pipes pinned to one CPU (CPU,
# default 1), TRIPS round trips (two switches each), with nothing on the
# switch, and with the same small filter program (tests/bench/
# switch_hook.bpf.c: what rt_offcpu does for a thread it does not walk) on
# perf's sched_switch tracepoint event (rt-bpf record --off-cpu's hook), as
# a BTF raw tracepoint (tp_btf/sched_switch) and as a raw tracepoint.
# Configurations alternate ROUNDS times; each figure is the median over
# rounds of (CPU time / the round's time with nothing on the switch).
# Usage: switch_hook.sh [BUILD_DIR] (called by `make bench`).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${RT_BUILD:-$top/${1:-build}}
rounds=${ROUNDS:-7}
trips=${TRIPS:-500000}
cpu=${CPU:-1}
skip() { echo "switch_hook: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
[ -r "$build/vmlinux.h" ] || skip "$build/vmlinux.h not generated (make all)"
command -v clang >/dev/null || skip "clang is not installed"
command -v taskset >/dev/null || skip "taskset is not installed"
tmp=$(mktemp -d /tmp/rt-hookbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$build" -c -o "$tmp/hook.bpf.o" \
	"$top/tests/bench/switch_hook.bpf.c" || { echo "switch_hook: cannot build the programs" >&2; exit 1; }
cc -O2 -o "$tmp/switch_hook" "$top/tests/bench/switch_hook.c" -lbpf -lpthread ||
	{ echo "switch_hook: cannot build the loader" >&2; exit 1; }
configs=(none perf btf raw)
for r in $(seq "$rounds"); do
	k=$(((r - 1) % ${#configs[@]}))
	for c in "${configs[@]:k}" "${configs[@]:0:k}"; do
		s=$(taskset -c "$cpu" "$tmp/switch_hook" "$c" "$tmp/hook.bpf.o" "$trips") ||
			{ echo "switch_hook: $c failed" >&2; exit 1; }
		echo "$r $c $s" >>"$tmp/times"
	done
	echo "switch_hook: round $r: $(awk -v r="$r" '$1 == r { printf "%s %ss  ", $2, $3 }' "$tmp/times")"
done
python3 - "$tmp/times" "$trips" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    r, c, s = line.split()
    t.setdefault(int(r), {})[c] = float(s)
n = int(sys.argv[2])
base = statistics.median(t[r]["none"] for r in t)
print(f"switch_hook: {n} round trips on one CPU, {1e6 * base / n / 2:.2f} us of CPU per switch "
      f"with nothing on it (median), {len(t)} rounds")
for c, name in (("perf", "perf's sched_switch event + program (today's hook)"),
                ("btf", "tp_btf/sched_switch program"), ("raw", "raw_tp/sched_switch program")):
    ratio = statistics.median(t[r][c] / t[r]["none"] for r in t)
    print(f"FIGURE switch hook {name}: {100 * (ratio - 1):+.1f}% CPU per switch "
          f"({1e9 * base * (ratio - 1) / n / 2:+.0f} ns)")
PY
