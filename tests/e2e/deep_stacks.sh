#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Deep interpreter stacks (record format 3, docs/record-format.md): a
# 3,000-deep recursion in CPython (pyenv 3.11 and 3.12, Debian's 3.11) and
# in Debian's ruby3.1 must come out of rtmerge whole, every interpreter
# frame from the root to the leaf in order; a 5,000-deep one is cut at
# the walker's 4,096 frames and says so ([truncated] at the root).  The
# rootward part of a deep stack goes out as chunks sent once per process:
# far fewer chunk records than stack records, or a deep stack would cost
# its whole depth on every sample.
. "$(dirname "$0")/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
WL=$RT_TOP/tests/e2e/workloads
PYTHONS=()
for py in /root/.pyenv/versions/3.11.7/bin/python3.11 /root/.pyenv/versions/3.12.1/bin/python3.12 \
	/usr/bin/python3.11; do
	[ -x "$py" ] && PYTHONS+=("$py")
done
RUBY=/usr/bin/ruby3.1
[ ${#PYTHONS[@]} -gt 0 ] || [ -x "$RUBY" ] || skip "no CPython 3.11/3.12 and no ruby3.1"

# record NAME DEPTH CMD...: rt-bpf record of CMD, rtmerge --tid folded
# output in NAME.folded, rt-bpf's log in NAME.log
record() {
	local name=$1
	shift
	timeout 40 "$RTBPF" record -F 299 -o "$E2E_TMP/$name.data" -- "$@" \
		>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.log" ||
		{ tail -5 "$E2E_TMP/$name.log" >&2; fail "$name: rt-bpf record failed"; }
	"$RTMERGE" --tid -o "$E2E_TMP/$name.folded" "$E2E_TMP/$name.data" 2>"$E2E_TMP/$name.merge" ||
		{ tail -3 "$E2E_TMP/$name.merge" >&2; fail "$name: rtmerge failed"; }
	grep -E '^rt-bpf: (python|ruby).* samples=|median' "$E2E_TMP/$name.log"
}

# check NAME KIND DEPTH FILE: the leaf samples' interpreter frames, root
# first, against what the workload's source says (lines from its markers)
check() {
	python3 - "$E2E_TMP/$1.folded" "$E2E_TMP/$1.log" "$@" <<'PY' || fail "$3: deep stacks wrong"
import re, sys
folded, log, name, kind, depth, src = sys.argv[1:7]
depth = int(depth)
line_of = {}
for n, text in enumerate(open(src), 1):
    m = re.search(r"# ([A-Z_]+_LINE)$", text)
    if m:
        line_of[m.group(1)] = n
FRAME = re.compile(r"^(?P<f>.+) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
base = src.rsplit("/", 1)[1]
if kind == "py":
    head = [("<module>", line_of["MODULE_LINE"]), ("main", line_of["MAIN_LINE"])]
    rec = "recurse"
else:
    head = [("<main>", line_of["MAIN_LINE"])]
    rec = "rec"
want = head + [(rec, line_of["RECURSE_LINE" if kind == "py" else "REC_LINE"])] * (depth - 1) + \
    [(rec, line_of["CALL_LEAF_LINE"]), ("leaf", line_of["LEAF_LINE"])]
LIMIT = 4096  # RT_REC_MAX_DEPTH
cut = len(want) > LIMIT
if cut:  # the walker keeps the leafmost frames
    want = want[-LIMIT:]
good = bad = 0
for line in open(folded):
    stack, count = line.rstrip("\n").rsplit(" ", 1)
    frames = stack.split(";")[1:]
    interp = []
    marked = False
    for f in frames:
        m = FRAME.match(f)
        if m and m["file"].endswith(base):
            interp.append((m["f"], int(m["line"] or 0)))
        elif f == "[truncated]":
            marked = True
    if not any(f[0] == "leaf" for f in interp):
        continue  # start-up, the way down, exit
    # the leaf runs its loop's line or (CPython) the line in its body
    leaf_ok = interp and interp[-1][1] in (want[-1][1], want[-1][1] + (kind == "py"))
    if leaf_ok and interp[:-1] == want[:-1] and marked == cut and (not cut or frames.index("[truncated]") < 2):
        good += int(count)
    else:
        bad += int(count)
        if bad <= 2:
            print(name, "bad:", len(interp), "frames, marked" if marked else "frames",
                  interp[:3], "...", interp[-3:])
stats = open(log).read()
stacks = int(re.findall(r" stacks=(\d+)", stats)[-1])
chunks = int(re.findall(r"stack chunks=(\d+)", stats)[-1])
med = re.findall(r"median (\d+)-\d+ us", stats)
print(f"{name}: {good} leaf samples with the {len(want)} frames in order"
      f"{' and [truncated] at the root' if cut else ''}, {bad} wrong; "
      f"{chunks} chunk records for {stacks} stack records")
if med:
    print(f"FIGURE deep stacks {name}: BPF walker median {med[-1]} us per sample at {len(want)} frames")
# every leaf sample right; chunks sent once, not per sample
sys.exit(0 if good >= 100 and bad == 0 and chunks * 4 < stacks else 1)
PY
}

for py in "${PYTHONS[@]}"; do
	name=py-$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-$(
		[ "${py#/usr/}" != "$py" ] && echo debian || echo pyenv)
	record "$name" "$py" "$WL/py_recurse.py" 3000 1.5
	check "$name" py 3000 "$WL/py_recurse.py"
done
if [ ${#PYTHONS[@]} -gt 0 ]; then
	py=${PYTHONS[${#PYTHONS[@]} - 1]}
	record py-cut "$py" "$WL/py_recurse.py" 5000 1.5
	check py-cut py 5000 "$WL/py_recurse.py"
fi
if [ -x "$RUBY" ]; then
	record ruby-3.1 "$RUBY" "$WL/rb_deep.rb" 3000 1.5
	check ruby-3.1 rb 3000 "$WL/rb_deep.rb"
else
	note "no $RUBY: Ruby not checked"
fi
echo ok
