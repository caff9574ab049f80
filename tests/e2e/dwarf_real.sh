#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --call-graph dwarf on real programs, not the benchmarks: CPython's
# compileall (pyenv 3.12) and Ruby's rdoc over the standard library's net/
# (Debian ruby3.1) recorded with rt-bpf record --call-graph dwarf (its
# default stack copy): at least 99% of the target's samples must be unwound
# to the process or thread entry.  rdoc is recorded once more with perf's
# own 8 KiB copy, which must fall short: the workloads are deep enough for
# the copy's size to matter.
source "$(dirname "$0")/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
RUBY=${RUBY:-/usr/bin/ruby3.1}
RDOC=${RDOC:-/usr/bin/rdoc}
PY312=${PY312:-$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -n 1)}
[ -x "$RUBY" ] && [ -r "$RDOC" ] || skip "no $RUBY or $RDOC (Debian packages ruby3.1, ruby)"
[ -n "$PY312" ] && [ -x "$PY312" ] || skip "no pyenv CPython 3.12 (scripts/setup.sh)"
netdir=$("$RUBY" -e 'print RbConfig::CONFIG["rubylibdir"]')/net
[ -d "$netdir" ] || skip "no $netdir"
pylib=$("$PY312" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
cd "$E2E_TMP"
cp -r "$netdir" net || fail "copy $netdir"
mkdir pysrc && for d in email json asyncio xml concurrent; do cp -r "$pylib/$d" pysrc/; done ||
	fail "copy $pylib"

# record NAME CALLGRAPH CMD...: the share unwound to the entry (one decimal)
record() {
	local name=$1 cg=$2
	shift 2
	timeout 60 "$RTBPF" record -F 999 --call-graph "$cg" -o "$name.data" -- "$@" \
		>"$name.log" 2>&1 || { cat "$name.log" >&2; fail "$name: rt-bpf record failed"; }
	"$RTMERGE" -o "$name.txt" "$name.data" 2>"$name.merge" ||
		{ cat "$name.merge" >&2; fail "$name: rtmerge failed"; }
	local line
	line=$(grep 'samples unwound from stack copies' "$name.merge") ||
		fail "$name: no sample unwound"
	echo "$name: ${line#rtmerge: }" >&2
	local n=${line#rtmerge: }
	n=${n%% *}
	[ "$n" -ge 300 ] || fail "$name: only $n samples unwound"
	sed -n 's/.* to the process or thread entry (\([0-9.]*\)%).*/\1/p' <<<"$line"
}

# at_least SHARE MIN: SHARE >= MIN (decimal numbers)
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

py=$(record compileall dwarf sh -c \
	"for i in 1 2; do '$PY312' -m compileall -f -q pysrc >/dev/null || exit 1; done")
rb=$(record rdoc dwarf "$RUBY" "$RDOC" -q -o "$E2E_TMP/doc" net)
rb8=$(record rdoc8k dwarf,8192 "$RUBY" "$RDOC" -q -o "$E2E_TMP/doc8" net)
echo "FIGURE dwarf_real: to the entry, compileall (3.12) ${py}%, rdoc (ruby3.1) ${rb}%, rdoc with an 8 KiB copy ${rb8}%"
at_least "$py" 99 || fail "compileall: ${py}% of samples to the entry (want >= 99%)"
at_least "$rb" 99 || fail "rdoc: ${rb}% of samples to the entry (want >= 99%)"
at_least "$rb8" 90 && fail "rdoc with 8 KiB: ${rb8}%: the workload no longer needs a larger copy"
echo "dwarf_real: ok"
