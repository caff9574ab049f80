# SPDX-License-Identifier: GPL-2.0-only
# Sourced by tests/e2e/py_matrix.sh and container_py.sh (needs RT_BUILD).
# splice_check BASE PID WORKLOAD: percentage of the workload's samples with
# Python frames whose rtmerge stack has them spliced in at the eval loops,
# in order (<module>, main, branch_*, work with native frames between).
# With ORDER=1 it prints instead the percentage whose Python frames are in
# that order, wherever rtmerge put them (interpreter frames only).
splice_check() {
	"$RT_BUILD/rtmerge" -p "$2" "$1.data" >"$1.folded" 2>"$1.merr" || { echo 0; return; }
	python3 - "$1.folded" "$3" "${ORDER:-0}" <<'PY'
import re, sys
folded, wl, order = sys.argv[1:4]
base = wl.rsplit("/", 1)[-1]
total = ok = 0
for l in open(folded):
    stack, n = l.rstrip("\n").rsplit(" ", 1)
    frames = stack.split(";")
    py = [i for i, f in enumerate(frames) if re.search(r"\(.*" + re.escape(base) + r":\d+\)$", f)]
    if not py:
        continue
    total += int(n)
    names = [frames[i].split(" ")[0] for i in py]
    if order == "1":
        ok += int(n) * (names in [["<module>", "main", b, "work"][:len(names)]
                                  for b in ("branch_a", "branch_b")])
        continue
    # between Python frames there must be native frames (C calls into the
    # next eval loop) unless the version runs calls in one loop (3.11+)
    if names[:1] == ["<module>"] and (names[-1:] != ["work"] or len(names) == 4) and \
            not any(f.startswith("_PyEval_EvalFrameDefault") or f.startswith("PyEval_EvalFrameEx")
                    for f in frames[py[0]:]):
        ok += int(n)
pct = 100.0 * ok / total if total else 0
if order == "1":
    print("%.1f" % pct)
    sys.exit(0)
# rtmerge's own count of stacks it could not splice at the eval loops
m = re.search(r"(\d+) samples with an interpreter stack, .* (\d+) with a broken native callchain",
              open(folded[:-len(".folded")] + ".merr").read())
if m and int(m.group(1)):
    pct = min(pct, 100.0 * (int(m.group(1)) - int(m.group(2))) / int(m.group(1)))
print("%.1f" % pct)
PY
}

