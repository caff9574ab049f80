#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# layouts/gen/ruby.c is generated: regenerating it from the headers and
# source trees it names must give the same bytes.  What this machine lacks
# (the 2.7 and 3.1.7 headers, the 3.3 source) scripts/ruby_sources.sh
# fetches into its cache first.
. "$(dirname "$0")/lib.sh"
cache=${RT_RUBY_CACHE:-/var/cache/rtperf/ruby}
mapfile -t names < <(sed -n 's/^\t\/\* from \([^ ]*\)\( (source)\)\? \*\/$/\1/p' "$RT_TOP/layouts/gen/ruby.c")
[ ${#names[@]} -gt 0 ] || fail "no '/* from INPUT */' entries in layouts/gen/ruby.c"
find_input() {
	ls -d /usr/include/*/ruby-*/"$1" "$cache/$1" 2>/dev/null | head -n 1
}
for n in "${names[@]}"; do
	if [ -z "$(find_input "$n")" ]; then
		bash "$RT_TOP/scripts/ruby_sources.sh" >&2 ||
			skip "$n is not installed and scripts/ruby_sources.sh could not fetch it"
		break
	fi
done
inputs=()
for n in "${names[@]}"; do
	i=$(find_input "$n")
	[ -n "$i" ] || fail "$n: neither installed nor fetched by scripts/ruby_sources.sh"
	inputs+=("$i")
done
bash "$RT_TOP/layouts/ruby_gen.sh" -o "$E2E_TMP/ruby.c" "${inputs[@]}" || fail "generator failed"
cmp "$E2E_TMP/ruby.c" "$RT_TOP/layouts/gen/ruby.c" ||
	fail "regenerated table differs: $(diff "$RT_TOP/layouts/gen/ruby.c" "$E2E_TMP/ruby.c" | head -5)"
echo "ok: ${#inputs[@]} Ruby build(s) (${names[*]}) regenerate layouts/gen/ruby.c byte for byte"
