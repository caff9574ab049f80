#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# layouts/ruby_tables.c is generated: regenerating it from the headers it
# names must give the same bytes.
. "$(dirname "$0")/lib.sh"
mapfile -t names < <(sed -n 's/^\t\/\* from \(rb_mjit_min_header-.*\.h\) \*\/$/\1/p' "$RT_TOP/layouts/ruby_tables.c")
[ ${#names[@]} -gt 0 ] || fail "no '/* from HEADER */' entries in layouts/ruby_tables.c"
headers=()
for n in "${names[@]}"; do
	h=$(ls /usr/include/*/ruby-*/"$n" 2>/dev/null | head -n 1)
	[ -n "$h" ] || skip "$n not installed (Debian: ruby3.1-dev of the same version)"
	headers+=("$h")
done
bash "$RT_TOP/layouts/ruby_gen.sh" -o "$E2E_TMP/ruby_tables.c" "${headers[@]}" || fail "generator failed"
cmp "$E2E_TMP/ruby_tables.c" "$RT_TOP/layouts/ruby_tables.c" ||
	fail "regenerated table differs: $(diff "$RT_TOP/layouts/ruby_tables.c" "$E2E_TMP/ruby_tables.c" | head -5)"
echo "ok: ${#headers[@]} header(s) regenerate layouts/ruby_tables.c byte for byte"
