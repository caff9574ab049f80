#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# layouts/gen/ruby.c is generated: regenerating it from the headers it
# names must give the same bytes.
. "$(dirname "$0")/lib.sh"
mapfile -t names < <(sed -n 's/^\t\/\* from \(rb_mjit_min_header-.*\.h\) \*\/$/\1/p' "$RT_TOP/layouts/gen/ruby.c")
[ ${#names[@]} -gt 0 ] || fail "no '/* from HEADER */' entries in layouts/gen/ruby.c"
headers=()
for n in "${names[@]}"; do
	h=$(ls /usr/include/*/ruby-*/"$n" 2>/dev/null | head -n 1)
	[ -n "$h" ] || skip "$n not installed (Debian: ruby3.1-dev of the same version)"
	headers+=("$h")
done
bash "$RT_TOP/layouts/ruby_gen.sh" -o "$E2E_TMP/ruby.c" "${headers[@]}" || fail "generator failed"
cmp "$E2E_TMP/ruby.c" "$RT_TOP/layouts/gen/ruby.c" ||
	fail "regenerated table differs: $(diff "$RT_TOP/layouts/gen/ruby.c" "$E2E_TMP/ruby.c" | head -5)"
echo "ok: ${#headers[@]} header(s) regenerate layouts/gen/ruby.c byte for byte"
