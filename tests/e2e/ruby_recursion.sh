#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf + rtmerge on Debian's ruby3.1 with 150-deep recursion whose leaf
# runs a block under Integer#times: stacks must read <main>, 150 x rec,
# leaf, Integer#times (then block in leaf, or not between two calls), with
# the hot lines; the share of
# complete stacks and the BPF run time per sample are FIGUREs.
. "$(dirname "$0")/workloads/rb_common.bash"
rb_require
W=$WORKLOADS/rb_recurse.rb
rb_record recurse "$W" 4
# The mean covers every run, samples of other processes too (cheap): the
# cost per Ruby sample is the total over the Ruby samples (an upper bound).
runs=$(sed -n 's/.*BPF run time: \([0-9]*\) runs.*/\1/p' "$E2E_TMP/recurse.log" | tail -n 1)
mean=$(rb_bpf_ns "$E2E_TMP/recurse.log")
walked=$(sed -n 's/.*python samples=\([0-9]*\),.*/\1/p' "$E2E_TMP/recurse.log" | tail -n 1)
ns=""
[ -n "$runs" ] && [ -n "$mean" ] && [ "${walked:-0}" -gt 0 ] && ns=$((runs * mean / walked))
med=$(sed -n 's/.*BPF run time on interpreter samples: \([0-9]*\) samples, median \([0-9]*-[0-9]*\) us, 90th percentile \([0-9]*-[0-9]*\) us.*/\1 \2 \3/p' \
	"$E2E_TMP/recurse.log" | tail -n 1)
[ -n "$med" ] || fail "no median BPF run time reported"
python3 - "$E2E_TMP/recurse.txt" "$RT_TOP/tests/e2e/workloads" "${ns:-}" "$med" <<'PY' || fail "recursion wrong"
import sys
sys.path.insert(0, sys.argv[2])
import rb_folded
ns = sys.argv[3]
med = sys.argv[4] if len(sys.argv) > 4 else ""
total = good = complete = 0
for root, fr, n in rb_folded.read(sys.argv[1]):
    ours = [f for f in fr if f[1] is not None or f[0] in ("Integer#times",)]
    rb = [(f[0], f[2]) for f in ours if f[0] == "Integer#times" or (f[1] or "").endswith("rb_recurse.rb")]
    if not any(f[0] == "rec" for f in rb):
        continue
    total += n
    if rb[0][0] == "<main>":
        complete += n
    want = [("<main>", 15)] + [("rec", 11)] * 149 + [("rec", 10), ("leaf", 5), ("Integer#times", None)]
    got = [(a, None if a == "Integer#times" else b) for a, b in rb[:len(want)]]
    # the leaf is the block, or Integer#times itself between two calls of it
    if got == want and rb[len(want):] in ([], [("block in leaf", 5)]):
        good += n
print(f"{good} of {total} recursion samples exact")
print(f"FIGURE ruby3.1 recursion: {100.0 * complete / max(total, 1):.2f}% of {total} samples complete down to <main> (150 deep)")
print(f"FIGURE ruby3.1 recursion: {100.0 * good / max(total, 1):.2f}% exact (names, order, lines, block, C method)")
if ns:
    print(f"FIGURE ruby3.1 BPF walker {ns} ns per Ruby sample at 153 frames (all runs' time over Ruby samples)")
if med:
    n, m, p90 = med.split()
    print(f"FIGURE ruby3.1 BPF walker median {m} us per Ruby sample at 153 frames, 90th percentile {p90} us ({n} samples)")
if total < 100 or complete < 0.99 * total or good < 0.95 * total:
    sys.exit(1)
PY
echo ok
