#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make install PREFIX=... DESTDIR=...: rt-bpf, rtmerge and rt-decode land in
# DESTDIR/PREFIX/bin and run from there (--version).
source "$(dirname "$0")/lib.sh"
dest=$E2E_TMP/dest
make -s -C "$RT_TOP" install PREFIX=/opt/rtperf DESTDIR="$dest" >"$E2E_TMP/make.out" 2>&1 ||
	fail "make install: $(tail -3 "$E2E_TMP/make.out")"
for tool in rt-bpf rtmerge rt-decode; do
	[ -x "$dest/opt/rtperf/bin/$tool" ] || fail "$tool not installed in $dest/opt/rtperf/bin"
done
"$dest/opt/rtperf/bin/rt-bpf" --version | grep -Eq '^rt-bpf [0-9]+\.[0-9]+' ||
	fail "rt-bpf --version: $("$dest/opt/rtperf/bin/rt-bpf" --version 2>&1)"
"$dest/opt/rtperf/bin/rtmerge" --version | grep -Eq '^rtmerge [0-9]+\.[0-9]+' ||
	fail "installed rtmerge --version"
[ -z "$(find "$dest" -type f ! -path "$dest/opt/rtperf/bin/*")" ] || fail "files outside bin"
echo "ok"
