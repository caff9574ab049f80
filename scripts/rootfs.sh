#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the Debian root file systems that the container tests run their
# interpreters in, into a machine-wide cache outside the checkout, so a
# fresh clone reuses them.  Idempotent: a root whose stamp matches its
# package list is kept.
#
#   scripts/rootfs.sh [NAME...]     build the missing ones (default: all)
#   scripts/rootfs.sh --dir NAME    print a root's directory
#   scripts/rootfs.sh --mirror      print the Debian mirror apt uses here
#
# The mirror is the one this machine's apt already uses: read from
# /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list, never written
# into the repository.
set -euo pipefail

cache=${RT_ROOTFS_CACHE:-/var/cache/rtperf/rootfs}

packages_of() {
	case $1 in
	bullseye) echo python3.9 ruby2.7 ruby2.7-dev procps ;;
	trixie) echo python3.13 python3.13-dbg ruby3.3 procps ;;
	sid) echo python3.14 python3.14-dbg python3.15 python3.15-dbg ruby3.3 procps ;;
	# the guests of make check-kernels: this machine's binaries need bookworm's libraries
	bookworm-guest) echo python3 python3.11 ruby3.1 linux-perf libbpf1 libelf1 libdw1 libcapstone4 procps mount ;;
	*) return 1 ;;
	esac
}

if [ "${1:-}" = "--dir" ]; then
	packages_of "${2:?name}" >/dev/null || { echo "rootfs: unknown root '$2'" >&2; exit 2; }
	echo "$cache/$2"
	exit 0
fi

mirror() {
	local m=""
	if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
		m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' \
			/etc/apt/sources.list.d/*.sources)
	fi
	if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
		m=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list)
	fi
	[ -n "$m" ] || { echo "rootfs: no Debian mirror in this machine's apt configuration" >&2; return 1; }
	echo "$m"
}

build_one() {
	local name=$1 pkgs dir stamp want tmp m
	pkgs=$(packages_of "$name") || { echo "rootfs: unknown root '$name'" >&2; return 2; }
	dir=$cache/$name
	stamp=$dir/.rtperf-rootfs
	want="$name: $pkgs"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return 0
	fi
	if ! command -v mmdebstrap >/dev/null; then
		echo "rootfs: installing mmdebstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			mmdebstrap >/dev/null
	fi
	m=$(mirror)
	mkdir -p "$cache"
	tmp=$cache/.$name.tmp
	rm -rf "$tmp"
	echo "rootfs: building $name ($pkgs)"
	mmdebstrap --quiet --variant=apt --include="${pkgs// /,}" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		"${name%-guest}" "$tmp" "$m" >"$cache/.$name.log" 2>&1 ||
		{ echo "rootfs: mmdebstrap $name failed; log: $cache/.$name.log" >&2; tail -n 5 "$cache/.$name.log" >&2; return 1; }
	echo "$want" >"$tmp/.rtperf-rootfs"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

if [ "${1:-}" = "--mirror" ]; then
	mirror
	exit 0
fi

names=("$@")
((${#names[@]})) || names=(bullseye trixie sid)
for n in "${names[@]}"; do
	build_one "$n"
done
