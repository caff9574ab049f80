#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Splicing of interpreter frames into native callchains, on a synthetic
# recording whose every frame is known: rt-bpf records (bpf/record.h)
# inside bpf-output samples, native callchains into a real library.
source "$(dirname "$0")/lib.sh"
[ -x "$RTMERGE" ] || fail "$RTMERGE not built"
cd "$E2E_TMP"
d=$RT_TOP/tests/e2e/splice
cc -O1 -g -shared -fPIC -fno-inline -o libfakepy.so "$d/fakepy.c" || fail "build libfakepy.so"
python3 "$d/mkperfdata.py" "$E2E_TMP/libfakepy.so" mixed.data || fail "mkperfdata"

"$RTMERGE" mixed.data >all.folded 2>all.err || { cat all.err; fail "rtmerge"; }
cat all.folded
cat all.err
expect_line() { # file line
	grep -qxF -- "$2" "$1" || fail "missing in $1: $2"
}
M='<module> (app/main.py:3)'; H='Handler.handle (app/views.py:12)'; C='compress_it (app/views.py:22)'
expect_line all.folded "python3;fake_main;$M;$H;PyObject_Vectorcall;$C;zlib_compress;deflate 5"
# a chain broken at an address no mapping covers: that frame is noise
expect_line all.folded "python3;$M;$H;$C;deflate 3"
expect_line all.folded "python3;fake_main;[truncated];$M;$H;PyObject_Vectorcall;$C;zlib_compress;deflate 2"
expect_line all.folded "python3;fake_main;[incomplete];$M;$H;PyObject_Vectorcall;$C;zlib_compress;deflate 2"
# The reused code address must not keep the old name.
expect_line all.folded "python3;fake_main;$M;$H;PyObject_Vectorcall;[unknown python];zlib_compress;deflate 1"
expect_line all.folded "python3;fake_main;$M;$H;PyObject_Vectorcall;$C;zlib_compress;_PyEval_EvalFrameDefault 2"
expect_line all.folded "native;fake_main;zlib_compress;deflate 4"
[ "$(folded_total all.folded)" -eq 19 ] || fail "expected 19 samples, got $(folded_total all.folded)"
grep -q '15 samples with an interpreter stack, 4 incomplete' all.err || fail "summary counts"
grep -q "3 with a broken native callchain" all.err || fail "broken-chain count"
grep -q '4 code records' all.err || fail "code record count"

"$RTMERGE" --interp-only mixed.data >py.folded 2>/dev/null || fail "--interp-only"
expect_line py.folded "python3;$M;$H;$C 10"
expect_line py.folded "python3;[incomplete];$M;$H;$C 2"
"$RTMERGE" --native-only mixed.data >native.folded 2>/dev/null || fail "--native-only"
expect_line native.folded \
	"python3;fake_main;_PyEval_EvalFrameDefault;PyObject_Vectorcall;_PyEval_EvalFrameDefault;zlib_compress;deflate 10"

# The eval loop inlined into its callers (DWARF's inline instances): with
# --inline its frames are named and the interpreter frames splice there.
cc -O1 -g -shared -fPIC -o libfakepy_inl.so "$d/fakepy_inline.c" || fail "build libfakepy_inl.so"
python3 "$d/mkperfdata.py" "$E2E_TMP/libfakepy_inl.so" inl.data --inline-eval || fail "mkperfdata inline"
"$RTMERGE" --inline inl.data >inl.folded 2>inl.err || { cat inl.err; fail "rtmerge --inline"; }
cat inl.folded
expect_line inl.folded "python3;fake_main;$M;$H;PyObject_Vectorcall;$C;zlib_compress;deflate 5"
grep -q '0 with a broken native callchain' inl.err || fail "inline eval loops not spliced"
"$RTMERGE" --inline --native-only inl.data >inl-native.folded 2>/dev/null || fail "--inline --native-only"
expect_line inl-native.folded \
	"python3;fake_main;_PyEval_EvalFrameDefault;PyObject_Vectorcall;_PyEval_EvalFrameDefault;zlib_compress;deflate 5"
# without --inline the eval loops are not there to splice at
"$RTMERGE" inl.data >noinl.folded 2>noinl.err || fail "rtmerge without --inline"
grep -q '5 with a broken native callchain' noinl.err || fail "expected unspliced samples without --inline"
# rt-bpf record --off-cpu: each stack record joins the native sample of
# its own kind, an off-CPU one the switch sample that follows it (the
# tracepoint's program writes it first), also after a switch out whose
# walk wrote no record (as a thread starts): that sample folds alone, not
# with the next record, and an on-CPU record between takes no switch sample.
# Each interval is counted on its own switch's stack: the first switch's
# sample (on another CPU) is not held back for a record until the later
# intervals have come.
python3 "$d/mkperfdata.py" "$E2E_TMP/libfakepy.so" off.data --offcpu || fail "mkperfdata offcpu"
"$RTMERGE" --off-cpu --per-sample off.ps -o off.folded off.data 2>off.err ||
	{ cat off.err; fail "rtmerge --off-cpu"; }
cat off.ps
expect_line off.ps "1000 200 python3;fake_main;PyObject_Vectorcall"
expect_line off.ps "1000 301 python3;$M;$H;fake_main;deflate"
expect_line off.ps "1000 401 python3;fake_main;$M;$H;$C;zlib_compress;deflate"
[ "$(wc -l <off.ps)" -eq 3 ] || fail "--off-cpu: expected 3 switch samples"
grep -q 'off-CPU intervals: 3 read, 3 counted (0.000 s), 0 without their stack, 0 stacks without' off.err ||
	fail "--off-cpu: intervals not each on their own switch: $(grep 'intervals:' off.err)"
grep -q '2 interpreter stack records (joined to their native samples; 0 found none)' off.err ||
	fail "--off-cpu: the off-CPU records not all joined (or an on-CPU one counted)"
"$RTMERGE" --wall --per-sample wall.ps -o wall.folded off.data 2>wall.err ||
	{ cat wall.err; fail "rtmerge --wall"; }
expect_line wall.ps "1000 350 python3;$M;$H;fake_main;zlib_compress"
expect_line wall.ps "1000 301 python3;$M;$H;fake_main;deflate"
grep -q '3 interpreter stack records (joined to their native samples; 0 found none)' wall.err ||
	fail "--wall: a stack record without its sample"
"$RTMERGE" --per-sample cpu.ps -o cpu.folded off.data 2>cpu.err || { cat cpu.err; fail "rtmerge"; }
expect_line cpu.ps "1000 350 python3;$M;$H;fake_main;zlib_compress"
grep -q '1 interpreter stack records (joined to their native samples; 0 found none)' cpu.err ||
	fail "on-CPU view: off-CPU records not left out with their switch samples"
# A sample perf lost (its buffer full) whose stack record was written: the
# record is left alone (found no sample), and each later sample of the
# thread keeps its own record, not the one of the sample before it.
python3 "$d/mkperfdata.py" "$E2E_TMP/libfakepy.so" lost.data --lost || fail "mkperfdata lost"
"$RTMERGE" --per-sample lost.ps -o /dev/null lost.data 2>lost.err || { cat lost.err; fail "rtmerge (lost)"; }
X="$M;$H;$C;fake_main;zlib_compress;deflate"
Y="$M;$H;fake_main;PyObject_Vectorcall"
for l in "300 python3;$X" "310 python3;$Y" "320 python3;$X" "340 python3;$X" "350 python3;$Y" \
	"360 python3;$X" "370 python3;$Y"; do
	expect_line lost.ps "1000 $l"
done
grep -q '(joined to their native samples; 1 found none)' lost.err ||
	fail "lost sample: its record not counted as one without a sample: $(grep 'samples read' lost.err)"
# BPF programs are named by the recording's KSYMBOL records as they were at
# each sample (/proc/kallsyms today has other programs, or none, there):
# one program unloaded and another loaded at its address in between.
python3 "$d/mkperfdata.py" "$E2E_TMP/libfakepy.so" ks.data --ksymbol || fail "mkperfdata ksymbol"
"$RTMERGE" -o ks.folded ks.data 2>ks.err || { cat ks.err; fail "rtmerge (ksymbol)"; }
cat ks.folded
expect_line ks.folded "native;fake_main;bpf_prog_1111111111111111_first 1"
expect_line ks.folded "native;fake_main;bpf_prog_2222222222222222_second 2"
"$RTMERGE" --kernel -f speedscope -o ks.json ks.data 2>/dev/null || fail "rtmerge speedscope (ksymbol)"
grep -q '"bpf_prog_2222222222222222_second_\[k\]"' ks.json || fail "speedscope --kernel: no _[k]"
"$RTMERGE" -f speedscope -o ks.json ks.data 2>/dev/null || fail "rtmerge speedscope (ksymbol)"
grep -q '"bpf_prog_2222222222222222_second"' ks.json || fail "speedscope: kernel frame named with _[k] without --kernel"
echo "splice_synthetic: ok"
