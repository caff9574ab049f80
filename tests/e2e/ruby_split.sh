#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf + rtmerge on Debian's ruby3.1, a two-branch split: branch_a does
# three times branch_b's work, so its share must be about 3/4; both must go
# <main> -> branch_x -> work at the right call lines and end in work's loop
# (lines 6-8).  Also the share of Ruby samples whose stack reaches <main>.
. "$(dirname "$0")/workloads/rb_common.bash"
rb_require
W=$WORKLOADS/rb_split.rb
rb_record split "$W" 4
python3 - "$E2E_TMP/split.txt" "$W" "$RT_TOP/tests/e2e/workloads" <<'PY' || fail "split wrong"
import sys
sys.path.insert(0, sys.argv[3])
import rb_folded
txt, wl = sys.argv[1:3]
a = b = other = complete = total = 0
for root, fr, n in rb_folded.read(txt):
    rb = [(f[0], f[2]) for f in fr if f[1] and f[1].endswith("rb_split.rb")]
    if not rb:
        continue
    total += n
    if rb[0][0] == "<main>":
        complete += n
    if rb[:2] == [("<main>", 23), ("branch_a", 14)] and rb[2:3] and rb[2][0] == "work" and 6 <= rb[2][1] <= 8 and len(rb) == 3:
        a += n
    elif rb[:2] == [("<main>", 24), ("branch_b", 18)] and rb[2:3] and rb[2][0] == "work" and 6 <= rb[2][1] <= 8 and len(rb) == 3:
        b += n
    else:
        other += n
share = a / (a + b) if a + b else 0
print(f"branch_a {a}, branch_b {b}, other {other}; branch_a share {share:.3f}")
print(f"FIGURE ruby3.1 split: branch_a share {share:.3f} (expected 0.75)")
print(f"FIGURE ruby3.1 split: {100.0 * complete / max(total, 1):.2f}% of {total} Ruby samples reach <main>")
if a + b < 200 or not 0.65 <= share <= 0.85 or other > 0.05 * (a + b) or complete < 0.99 * total:
    sys.exit(1)
PY
echo "ok"
