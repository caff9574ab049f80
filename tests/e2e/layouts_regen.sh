#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make layouts` is reproducible: structlayout on each pyenv CPython build
# and mergelayout over the layout files give byte for byte the checked-in
# layouts/data/*.layout and layouts/gen/cpython.c.
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
root=${LAYOUT_PYENV_DIR:-/root/.pyenv/versions}
versions=$(sed -n 's/^LAYOUT_PYENV_VERSIONS := //p' "$top/layouts/module.mk")
[ -n "$versions" ] || { echo "FAIL: no LAYOUT_PYENV_VERSIONS in layouts/module.mk"; exit 1; }
missing=()
for v in $versions; do
	ls "$root/$v"/lib/libpython*.so.1.0 >/dev/null 2>&1 || missing+=("$v")
done
[ ${#missing[@]} -eq 0 ] || { echo "skipped: pyenv builds missing under $root: ${missing[*]}"; exit 77; }
[ -x "$build/structlayout" ] && [ -x "$build/mergelayout" ] || { echo "FAIL: tools not built"; exit 1; }
tmp=$(mktemp -d /tmp/rt-layouts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
LAYOUTS_OUT=$tmp bash "$top/scripts/layouts.sh" "$build" "$root" $versions || { echo "FAIL: regeneration failed"; exit 1; }
end=$(date +%s.%N)
rc=0
for f in "$top"/layouts/data/*.layout "$top/layouts/gen/cpython.c"; do
	rel=${f#"$top/layouts/"}
	if ! cmp -s "$f" "$tmp/$rel"; then
		echo "FAIL: $rel differs from a fresh regeneration:"
		diff "$f" "$tmp/$rel" | head -20
		rc=1
	fi
done
[ "$(ls "$tmp"/data/*.layout | wc -l)" = "$(ls "$top"/layouts/data/*.layout | wc -l)" ] ||
	{ echo "FAIL: regeneration made a different set of layout files"; rc=1; }
[ $rc = 0 ] && echo "FIGURE layouts: $(echo $versions | wc -w) CPython builds regenerated identically in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
exit $rc
