#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf on a two-branch split (pyenv 3.11.7 and Debian 3.11.2): branch_a
# does three times branch_b's work, so its share of samples must be about
# 3/4, and both must end in work() at its loop lines; checked on rt-decode's
# stacks and on rtmerge's folded stacks of the same recording.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require
W=$WORKLOADS/py_split.py

for py in "${PYTHONS[@]}"; do
	name=$(py311_name "$py")
	py311_record "$name" "$py" "$W" 2
	python3 - "$name" "$PY_TMP/$name.txt" "$W" <<'PY' || fail "$name: split wrong"
import sys
name, txt, wl = sys.argv[1:4]
a = b = other = 0
for line in open(txt):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 3 or wl not in parts[2]:
        continue
    fr = [(f.lstrip("+").split("@")[0], int(f.rsplit(":", 1)[1])) for f in parts[2].split(";")]
    if fr[:2] == [("<module>", 32), ("main", 28)] and fr[2:3] == [("branch_a", 18)] and \
       fr[3:] in ([("work", 12)], [("work", 13)]):
        a += 1
    elif fr[:2] == [("<module>", 32), ("main", 29)] and fr[2:3] == [("branch_b", 22)] and \
       fr[3:] in ([("work", 12)], [("work", 13)]):
        b += 1
    else:
        other += 1
share = a / (a + b) if a + b else 0
print(f"{name}: branch_a {a}, branch_b {b}, other {other}; branch_a share {share:.2f}")
print(f"FIGURE py311 split {name}: branch_a share {share:.2f} (expected 0.75)")
if a + b < 200 or not 0.65 <= share <= 0.85 or other > 0.05 * (a + b):
    sys.exit(1)
PY
	# the same recording through rtmerge: folded stacks, per-line shares
	py311_merge "$name"
	py311_check "$name" "$W" <<'PY'
import sys
import py311_folded as F
name, folded, wl = sys.argv[1:4]
st = F.load(folded, wl)
a = b = other = hot = 0
for s in st:
    fl = s.func_lines()
    if "work" not in s.funcs():
        continue
    tail = fl[3:]
    if not s.interp_contiguous_from_root() or len(tail) != 1 or tail[0][0] != "work":
        other += s.count
    elif fl[:3] == [("<module>", 32), ("main", 28), ("branch_a", 18)]:
        a += s.count
    elif fl[:3] == [("<module>", 32), ("main", 29), ("branch_b", 22)]:
        b += s.count
    else:
        other += s.count
    if tail and tail[-1] in (("work", 12), ("work", 13)):
        hot += s.count
total, complete, t2, c2 = F.completeness_figure("split", name, F.load(sys.argv[5], wl, True), wl)
share = a / (a + b) if a + b else 0
print(f"{name} rtmerge: branch_a {a}, branch_b {b}, other {other}, at work's loop lines {hot}; "
      f"complete {complete}/{total}")
print(f"FIGURE py311 split rtmerge {name}: branch_a share {share:.2f} (expected 0.75)")
ok = (a + b >= 200 and 0.65 <= share <= 0.85 and other <= 0.02 * (a + b)
      and hot >= 0.95 * (a + b + other) and complete >= 0.97 * total and c2 >= 0.99 * t2)
sys.exit(0 if ok else 1)
PY
done
