#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input gives one clear error line naming the file (and offset where
# there is one), a non-zero exit, and never a crash or a hang.
source "$(dirname "$0")/lib.sh"
[ -x "$RTMERGE" ] || fail "$RTMERGE not built"
cd "$E2E_TMP"

check() { # name expected-regex rtmerge-args...
	local name=$1 re=$2
	shift 2
	timeout 20 "$RTMERGE" "$@" >out.txt 2>err.txt
	rc=$?
	[ "$rc" -ne 124 ] || fail "$name: rtmerge hung"
	[ "$rc" -ne 0 ] || fail "$name: exit 0 on bad input"
	[ "$rc" -lt 128 ] || { cat err.txt; fail "$name: crashed (exit $rc)"; }
	[ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "$name: expected one error line"; }
	grep -Eq -- "$re" err.txt || { cat err.txt; fail "$name: message does not match /$re/"; }
	[ ! -s out.txt ] || fail "$name: wrote output for bad input"
	note "$name: $(cat err.txt)"
}

usage() { # name expected-regex rtmerge-args...: a usage error, exit 2
	local name=$1
	check "$@"
	[ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2 (usage error)"
}

: >empty.data
check "empty file" 'empty.data: .*empty' empty.data
mkdir dir.data
check "directory" 'dir.data: .*directory' dir.data
head -c 5000 /dev/urandom >random.data
check "random bytes" 'random.data: .*not a perf.data file' random.data
check "missing file" 'nope.data: cannot open' nope.data
printf 'PERFILE2' >short.data
check "magic only" 'short.data: offset 8: file ends inside the header' short.data

if [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null; then
	perf record -q -g -e cpu-clock -F 999 -o real.data -- sh -c \
		'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' 2>/dev/null || fail "perf record"
	size=$(stat -c %s real.data)
	# Attribute section overwritten with garbage.
	cp real.data attrs.data
	printf '\xff\xff\xff\xff\xff\xff\xff\x7f' | dd of=attrs.data bs=1 seek=24 conv=notrunc 2>/dev/null
	check "corrupted header" 'attrs.data: offset 24: attribute section' attrs.data
	# The 20th record of the data section gets size 0 (found by walking the
	# record sizes, so the corruption lands on a record header).
	python3 - real.data zero.data <<'PY' || fail "cannot corrupt real.data"
import struct, sys
data = bytearray(open(sys.argv[1], 'rb').read())
off = struct.unpack_from('<Q', data, 40)[0]
for _ in range(19):
    off += struct.unpack_from('<H', data, off + 6)[0]
struct.pack_into('<H', data, off + 6, 0)
open(sys.argv[2], 'wb').write(data)
PY
	"$RTMERGE" zero.data >/dev/null 2>zero.err
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "zero-size record: exit $rc"
	grep -Eq 'zero.data: offset [0-9]+: ' zero.err || { cat zero.err; fail "zero-size record message"; }
	# Pipe cut mid-record.
	perf record -q -g -e cpu-clock -F 999 -o - -- sh -c \
		'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' 2>/dev/null >pipe.data
	head -c $(( $(stat -c %s pipe.data) - 37 )) pipe.data >cut.data
	# Refused with --strict (by default it is salvaged: tests/e2e/salvage.sh).
	check "pipe cut mid-record, --strict" '<stdin>: offset [0-9]+: .*cut short|<stdin>: offset [0-9]+: data ends inside' --strict - <cut.data
	# Truncated file-mode data: processing stops with a clear error or a warning, never a crash.
	head -c $((size / 2)) real.data >half.data
	timeout 20 "$RTMERGE" half.data >/dev/null 2>half.err
	rc=$?
	[ "$rc" -lt 124 ] || { cat half.err; fail "truncated file crashed or hung ($rc)"; }
	grep -q 'half.data' half.err || { cat half.err; fail "truncated file: no message naming it"; }
	note "truncated file: exit $rc: $(head -n 1 half.err)"

	usage "bad id list" 'bad id list "abc"' -p abc real.data
	usage "empty id list" 'bad id list ""' -t "" real.data
	usage "two frame filters" 'exclude each other' --native-only --interp-only real.data
	usage "two views" 'one view at a time' --off-cpu --wall real.data
	usage "unknown event" 'no event named "nosuch" in the recording \(it has cpu-clock' \
		-e nosuch real.data
	"$RTMERGE" -q real.data >real.folded 2>/dev/null || fail "rtmerge real.data"
	usage "folded input with a perf.data option" \
		'real.folded is folded text: -p applies to perf.data input only' -f svg -p 1 real.folded
	# -o naming the input would overwrite the recording
	cp real.data same.data
	usage "-o the input" '-o same.data is the input same.data: it would be overwritten' \
		-o same.data same.data
	cmp -s real.data same.data || fail "-o the input: the recording changed"
	usage "-o the input (--diff)" '-o same.data is the input same.data' --diff -o same.data \
		real.data same.data
	usage "--per-sample the input" '--per-sample same.data is the input same.data' \
		--per-sample same.data same.data
	cmp -s real.data same.data || fail "--per-sample the input: the recording changed"
	# --diff of a cut recording: the comparison, and exit 3 as for one
	# recording; one recording's options refused
	head -c $(($(stat -c %s real.data) * 6 / 10)) real.data >cut.data
	rc=0
	"$RTMERGE" -q --diff real.data cut.data >diff.folded 2>err.txt || rc=$?
	[ "$rc" = 3 ] && [ -s diff.folded ] && grep -q 'cut.data: recording cut short' err.txt ||
		{ cat err.txt; fail "--diff of a cut recording: exit $rc"; }
	# --strict: as for the recording alone (1 for a cut inside a record, 3
	# at a record's boundary)
	one=0
	"$RTMERGE" -q --strict cut.data >/dev/null 2>&1 || one=$?
	rc=0
	"$RTMERGE" -q --strict --diff real.data cut.data >/dev/null 2>err.txt || rc=$?
	[ "$rc" = "$one" ] && [ "$rc" != 0 ] ||
		{ cat err.txt; fail "--strict --diff of a cut recording: exit $rc, alone $one"; }
	usage "--diff --per-sample" '--per-sample is for one recording' --diff --per-sample ps.txt \
		real.data real.data
	# -o - is standard output, not a file named -
	"$RTMERGE" -q -o - real.data >dash.folded 2>/dev/null || fail "-o -: rtmerge failed"
	[ ! -e - ] && cmp -s dash.folded real.folded || fail "-o -: not the folded output on stdout"
	# --header: to -o, and a cut recording said (exit 3)
	"$RTMERGE" --header -o header.txt real.data 2>err.txt && [ -s header.txt ] ||
		fail "--header -o: $(cat err.txt)"
	rc=0
	"$RTMERGE" --header cut.data >/dev/null 2>err.txt || rc=$?
	[ "$rc" = 3 ] && grep -q 'cut.data: recording cut short' err.txt ||
		{ cat err.txt; fail "--header of a cut recording: exit $rc"; }
	if [ -w /dev/full ]; then
		rc=0
		"$RTMERGE" -q -f svg -o /dev/full real.data 2>err.txt || rc=$?
		[ "$rc" = 1 ] && grep -q 'No space left on device' err.txt ||
			{ cat err.txt; fail "-f svg to a full disk: exit $rc"; }
	fi
	# a folded file shorter than perf.data's magic is folded text
	printf 'a;b 1\n' >tiny.folded
	"$RTMERGE" -f svg -o tiny.svg tiny.folded 2>err.txt && grep -q '<svg' tiny.svg ||
		fail "a one-line folded file: $(cat err.txt)"
	check "not folded text" '/bin/ls is neither perf.data nor folded stacks' -f svg /bin/ls
	[ "$rc" -eq 1 ] || fail "not folded text: exit $rc, expected 1"
	if [ -w /dev/full ]; then
		timeout 20 "$RTMERGE" -q --per-sample /dev/full real.data >/dev/null 2>err.txt
		rc=$?
		[ "$rc" -eq 1 ] || fail "--per-sample /dev/full: exit $rc, expected 1"
		grep -q 'writing /dev/full failed: No space left on device' err.txt ||
			fail "--per-sample /dev/full: $(cat err.txt)"
	fi
else
	echo "note: recorded-file cases need root and perf; synthetic cases ran"
fi
"$RTMERGE" --bogus-option >/dev/null 2>&1 && fail "unknown option accepted"
"$RTMERGE" --help | grep -q 'Usage: rtmerge' || fail "--help"
echo "bad_input: ok"
