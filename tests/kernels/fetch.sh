#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetches one Debian cloud kernel per release of the kernel matrix and
# unpacks it into a machine-wide cache outside the checkout, so a fresh
# clone reuses it.  Idempotent: a kernel whose stamp names its package is
# kept.
#
#   tests/kernels/fetch.sh [RELEASE...]   fetch the missing ones (default: all)
#   tests/kernels/fetch.sh --dir RELEASE  print a release's unpacked kernel
#
# The package is the one the release's linux-image-cloud-amd64 depends on,
# from the mirror this machine's apt uses (scripts/rootfs.sh --mirror).  The
# other releases are read through a throw-away apt configuration, so the
# machine's own sources are never changed.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${RT_KERNEL_CACHE:-/var/cache/rtperf/kernels}
releases=(bullseye bookworm trixie)

if [ "${1:-}" = "--dir" ]; then
	echo "$cache/${2:?release}"
	exit 0
fi

# apt_for SUITE ARGS...: runs an apt command against SUITE's main component
# only, with lists kept in the cache and the machine's configuration untouched
# (bookworm is this machine's own release: its configuration is used as is).
apt_for() {
	local suite=$1 cmd=$2
	shift 2
	if [ "$suite" = bookworm ]; then
		"$cmd" -q "$@"
		return
	fi
	local d=$cache/.apt-$suite
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/parts" "$d/prefs"
	echo "deb $(bash "$top/scripts/rootfs.sh" --mirror) $suite main" >"$d/sources.list"
	"$cmd" -q -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/parts" \
		-o Dir::Etc::PreferencesParts="$d/prefs" -o Dir::State::Lists="$d/lists" \
		-o Dir::Cache="$d" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o Acquire::Check-Valid-Until=false -o APT::Get::List-Cleanup=false "$@"
}

fetch_one() {
	local rel=$1 dir=$cache/$1 pkg deb
	if [ "$rel" != bookworm ]; then
		apt_for "$rel" apt-get update >"$cache/.$rel.log" 2>&1 ||
			{ echo "kernels: apt-get update for $rel failed; log: $cache/.$rel.log" >&2; return 1; }
	fi
	pkg=$(apt_for "$rel" apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-.*-cloud-amd64$/ { print $2; exit }')
	[ -n "$pkg" ] || { echo "kernels: $rel has no linux-image-cloud-amd64" >&2; return 1; }
	if [ -f "$dir/.rtperf-kernel" ] && [ "$(cat "$dir/.rtperf-kernel")" = "$pkg" ]; then
		return 0
	fi
	echo "kernels: fetching $pkg ($rel)"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/deb"
	(cd "$dir.tmp/deb" && apt_for "$rel" apt-get download "$pkg") >>"$cache/.$rel.log" 2>&1 ||
		{ echo "kernels: apt-get download $pkg failed; log: $cache/.$rel.log" >&2; return 1; }
	deb=$(echo "$dir.tmp"/deb/*.deb)
	dpkg-deb -x "$deb" "$dir.tmp/root"
	echo "$pkg" >"$dir.tmp/.rtperf-kernel"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

mkdir -p "$cache"
want=("$@")
((${#want[@]})) || want=("${releases[@]}")
for r in "${want[@]}"; do
	fetch_one "$r"
done
