#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Deep interpreter stacks (record format 3, docs/record-format.md): a
# 3,000-deep recursion in CPython (pyenv 3.11 and 3.12, Debian's 3.11) and
# in Debian's ruby3.1 must come out of rtmerge whole, every interpreter
# frame from the root to the leaf in order; a 5,000-deep one is cut at
# the walker's 4,096 frames and says so ([truncated] at the root).  The
# rootward part of a deep stack goes out as chunks sent once per process:
# a run's chunk records are bounded by the stack's depth, not by its
# samples, or a deep stack would cost its whole depth on every sample.
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
	python3 "$WL/deep_check.py" "$E2E_TMP/$1.folded" "$E2E_TMP/$1.log" "$@" 100 ||
		fail "$1: deep stacks wrong"
}

for py in "${PYTHONS[@]}"; do
	name=py-$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-$(
		[ "${py#/usr/}" != "$py" ] && echo debian || echo pyenv)
	record "$name" "$py" "$WL/py_recurse.py" 3000 1
	check "$name" py 3000 "$WL/py_recurse.py"
done
if [ ${#PYTHONS[@]} -gt 0 ]; then
	py=${PYTHONS[${#PYTHONS[@]} - 1]}
	record py-cut "$py" "$WL/py_recurse.py" 5000 1
	check py-cut py 5000 "$WL/py_recurse.py"
	# the SVG and --diff keep every frame of such a stack, the leaf too
	# (both cut at 4,096 frames from the root: the hot leaf was gone)
	"$RTMERGE" -q -f svg -o "$E2E_TMP/cut.svg" "$E2E_TMP/py-cut.data" || fail "py-cut: rtmerge -f svg"
	grep -q '<title>leaf (' "$E2E_TMP/cut.svg" || fail "py-cut: the SVG lost the leaf frame"
	"$RTMERGE" -q --diff "$E2E_TMP/py-cut.data" "$E2E_TMP/py-cut.data" >"$E2E_TMP/cut.diff" ||
		fail "py-cut: rtmerge --diff"
	grep -q ';leaf ([^;]*) [0-9]* [0-9]*$' "$E2E_TMP/cut.diff" || fail "py-cut: --diff lost the leaf frame"
	note "py-cut: the SVG and --diff keep the leaf of a 4,100-frame stack"
fi
if [ -x "$RUBY" ]; then
	record ruby-3.1 "$RUBY" "$WL/rb_deep.rb" 3000 1
	check ruby-3.1 rb 3000 "$WL/rb_deep.rb"
else
	note "no $RUBY: Ruby not checked"
fi
echo ok
