#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make layouts`: writes layouts/data/cpython-X.Y.Z.layout for each pyenv
# build present (structlayout, from DWARF), then layouts/gen/cpython.c from
# every layout file in layouts/data (mergelayout).  Usage:
#   scripts/layouts.sh BUILD PYENV_ROOT VERSION...
# With LAYOUTS_OUT=DIR, writes DIR/data/*.layout and DIR/gen/cpython.c
# instead of the checked-in files (the regeneration test uses that).
set -eu
build=$1 root=$2; shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
out=${LAYOUTS_OUT:-$top/layouts}
mkdir -p "$out/data" "$out/gen"
for v in "$@"; do
	lib=$(ls "$root/$v"/lib/libpython*.so.1.0 2>/dev/null | head -1 || true)
	[ -n "$lib" ] || lib=$(ls "$root/$v"/bin/python[23].* 2>/dev/null | grep -v -- -config | head -1 || true)
	if [ -z "$lib" ]; then
		echo "layouts: no pyenv build $v under $root: keeping layouts/data/cpython-$v.layout as it is" >&2
		[ "$out" = "$top/layouts" ] || cp "$top/layouts/data/cpython-$v.layout" "$out/data/" 2>/dev/null || true
		continue
	fi
	"$build/structlayout" -r python -v "$v" -o "$out/data/cpython-$v.layout" "$lib"
done
# layout files added as data (not from a pyenv build here) take part too
for f in "$top"/layouts/data/*.layout; do
	[ -e "$f" ] || continue
	[ -e "$out/data/$(basename "$f")" ] || cp "$f" "$out/data/"
done
"$build/mergelayout" -o "$out/gen/cpython.c" "$out"/data/*.layout
echo "layouts: wrote $out/gen/cpython.c from $(ls "$out"/data/*.layout | wc -l) layout files"
