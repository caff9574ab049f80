#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf on a 200-deep Python recursion, pyenv 3.11.7 and Debian's 3.11.2:
# every stack sampled in leaf() must be <module> -> main -> recurse x200 ->
# leaf with the right line numbers and eval-loop entry marks.  The second
# run records with -p on an already running process, so the BPF time is
# measured on Python samples only.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require
W=$WORKLOADS/py_recurse.py

check() { # name txt
	python3 - "$1" "$2" "$W" <<'PY' || fail "$1: stacks wrong"
import sys
name, txt, wl = sys.argv[1:4]
total = complete = bad = 0
for line in open(txt):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 3 or wl not in parts[2]:
        continue
    frames = parts[2].split(";")
    total += 1
    names = [f.lstrip("+").split("@")[0] for f in frames]
    if "leaf" not in names:
        continue      # startup/teardown samples
    want = ["<module>", "main"] + ["recurse"] * 200 + ["leaf"]
    lines = [int(f.rsplit(":", 1)[1]) for f in frames]
    ok = (names == want and parts[1] == "-" and lines[0] == 29 and lines[1] == 26
          and all(l == 21 for l in lines[2:201]) and lines[201] == 20 and lines[202] in (13, 14)
          # Python-to-Python calls stay in one eval loop: one entry frame
          and frames[0].startswith("+") and not any(f.startswith("+") for f in frames[1:]))
    if ok:
        complete += 1
    else:
        bad += 1
        if bad < 3:
            print(name, "bad stack:", parts[1], ";".join(frames[:4]), "...", ";".join(frames[-3:]))
print(f"{name}: {total} stacks from the workload, {complete} complete, {bad} wrong")
if total < 100 or bad > 0 or complete < 0.9 * total:
    sys.exit(1)
print(f"FIGURE py311 recursion {name}: {100.0 * complete / total:.1f}% of Python samples complete down to <module> (200 deep)")
PY
}

# the same stacks in rtmerge's folded output: 203 interpreter frames from the
# root, then the native frames leafward of the eval loop
check_merged() { # name
	py311_merge "$1"
	py311_check "$1" "$W" <<'PY'
import sys
import py311_folded as F
name, folded, wl = sys.argv[1:4]
st = F.load(folded, wl)
want = [("<module>", 29), ("main", 26)] + [("recurse", 21)] * 199 + [("recurse", 20)]
good = bad = 0
for s in st:
    fl = s.func_lines()
    if "leaf" not in s.funcs():
        continue
    if fl[:-1] == want and fl[-1] in (("leaf", 13), ("leaf", 14)) and s.interp_contiguous_from_root():
        good += s.count
    else:
        bad += s.count
        if bad < 3:
            print(name, "bad folded stack:", ";".join(s.frames)[:200], "...", ";".join(s.frames[-3:]))
print(f"{name} rtmerge: {good} stacks with the 203 frames in order, {bad} wrong")
F.completeness_figure("recursion", name, F.load(sys.argv[5], wl, True), wl)
sys.exit(0 if good >= 100 and bad == 0 else 1)
PY
}

for py in "${PYTHONS[@]}"; do
	name=$(py311_name "$py")
	py311_record "$name" "$py" "$W" 200 2
	check "$name" "$PY_TMP/$name.txt"
	check_merged "$name"
done

# -p on a running process: all BPF runs are Python samples at depth 203.
py=${PYTHONS[0]}
"$py" "$W" 200 3 >/dev/null &
wpid=$!
sleep 0.5
timeout 25 "$RT_BPF" record -F 499 -p "$wpid" -o "$PY_TMP/pid-mode.data" >/dev/null 2>"$PY_TMP/pid-mode.err"
wait "$wpid"
grep '^rt-bpf:' "$PY_TMP/pid-mode.err"
perf script -i "$PY_TMP/pid-mode.data" -F comm,tid,event,bpf-output 2>/dev/null | "$RT_DECODE" >"$PY_TMP/pid-mode.txt"
check "pid-mode" "$PY_TMP/pid-mode.txt"
check_merged pid-mode
ns=$(py311_bpf_ns "$PY_TMP/pid-mode.err")
[ -n "$ns" ] || fail "no BPF run time reported"
echo "FIGURE py311 BPF walker mean ${ns} ns/sample at 203 frames (-p mode)"
# the median from the walker's own histogram of interpreter samples
med=$(sed -n 's/.*BPF run time on interpreter samples: \([0-9]*\) samples, median \([0-9]*-[0-9]*\) us, 90th percentile \([0-9]*-[0-9]*\) us.*/\1 \2 \3/p' \
	"$PY_TMP/pid-mode.err" | tail -n 1)
[ -n "$med" ] || fail "no median BPF run time reported"
set -- $med
echo "FIGURE py311 BPF walker median $2 us per sample at 203 frames, 90th percentile $3 us ($1 samples, -p mode)"
