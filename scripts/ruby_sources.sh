#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Gathers what layouts/ruby_gen.sh needs for the Ruby builds whose layouts
# are committed in layouts/gen/ruby.c but whose headers this machine does
# not install, into a machine-wide cache (default /var/cache/rtperf/ruby):
#   rb_mjit_min_header-2.7.4.h  Debian bullseye's ruby2.7-dev (taken from
#                               the bullseye root of scripts/rootfs.sh)
#   rb_mjit_min_header-3.1.7.h  bookworm-security's ruby3.1-dev
#                               3.1.7-1~deb12u2, since replaced by
#                               3.1.7+really3.1.2 (whose header is 3.1.2's,
#                               as the host's ruby3.1-dev installs it)
#   ruby-3.3.8/                 Debian's ruby3.3 source (trixie's 3.3.8-2),
#                               with config.h from ruby3.3-dev 3.3.8-2
# Packages come through apt from the mirror this machine's apt configuration
# names (never written into the repository); the one that apt no longer
# indexes is checked against its SHA-256 below.  Idempotent.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${RT_RUBY_CACHE:-/var/cache/rtperf/ruby}
mkdir -p "$cache"
cd "$cache"

# The first URI of this machine's apt sources whose path ends in $1.
apt_uri() {
	cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk -v want="$1" '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ ("/" want "/?$")) { print $i; exit } }'
}

# 2.7: the bullseye root has ruby2.7-dev installed
if [ ! -f rb_mjit_min_header-2.7.4.h ]; then
	root=$(bash "$top/scripts/rootfs.sh" --dir bullseye)
	[ -f "$root/.rtperf-rootfs" ] || bash "$top/scripts/rootfs.sh" bullseye
	cp "$root"/usr/include/x86_64-linux-gnu/ruby-2.7.0/rb_mjit_min_header-2.7.4.h .tmp.h
	mv .tmp.h rb_mjit_min_header-2.7.4.h
fi

# 3.1.7: no longer in the security suite's index; its pool file, pinned
if [ ! -f rb_mjit_min_header-3.1.7.h ]; then
	deb=ruby3.1-dev_3.1.7-1~deb12u2_amd64.deb
	sum=3973fa7697360dbd63bb0ad6119ca2776654d3bd66da5940006d3e80b61b1c3a
	if [ ! -f "$deb" ]; then
		sec=$(apt_uri debian-security)
		[ -n "$sec" ] || { echo "ruby_sources: no debian-security URI in the apt configuration" >&2; exit 1; }
		curl -fsS -o "$deb.part" "${sec%/}/pool/updates/main/r/ruby3.1/$deb"
		mv "$deb.part" "$deb"
	fi
	echo "$sum  $deb" | sha256sum -c --quiet - || { rm -f "$deb"; exit 1; }
	tmp=$(mktemp -d)
	dpkg-deb -x "$deb" "$tmp"
	cp "$tmp"/usr/include/x86_64-linux-gnu/ruby-3.1.0/rb_mjit_min_header-3.1.7.h .tmp.h
	rm -rf "$tmp"
	mv .tmp.h rb_mjit_min_header-3.1.7.h
fi

# 3.3.8: the source package and the -dev package of the same build, through
# a throw-away apt configuration for trixie
if [ ! -f ruby-3.3.8/.rtperf-complete ]; then
	mirror=$(apt_uri debian)
	[ -n "$mirror" ] || { echo "ruby_sources: no Debian mirror in the apt configuration" >&2; exit 1; }
	apt=$(mktemp -d)
	trap 'rm -rf "$apt"' EXIT
	mkdir -p "$apt"/{lists/partial,parts,archives/partial}
	printf 'Types: deb deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" > "$apt/parts/trixie.sources"
	opts=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$apt/parts"
	      -o Dir::State::Lists="$apt/lists" -o Dir::Cache::archives="$apt/archives"
	      -o Dir::State::status=/dev/null -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	      -o APT::Architecture=amd64 -o APT::Sandbox::User=root)
	if [ ! -f ruby3.3_3.3.8.orig.tar.xz ] || [ ! -f ruby3.3-dev_3.3.8-2_amd64.deb ]; then
		apt-get -qq "${opts[@]}" update
		apt-get -qq "${opts[@]}" source --download-only ruby3.3=3.3.8-2
		apt-get -qq "${opts[@]}" download ruby3.3-dev=3.3.8-2
	fi
	rm -rf ruby-3.3.8 .tmp-src
	mkdir .tmp-src
	tar -C .tmp-src -xf ruby3.3_3.3.8.orig.tar.xz
	dpkg-deb -x ruby3.3-dev_3.3.8-2_amd64.deb .tmp-src/dev
	mkdir -p .tmp-src/ruby-3.3.8/config/ruby
	cp .tmp-src/dev/usr/include/x86_64-linux-gnu/ruby-3.3.0/ruby/config.h .tmp-src/ruby-3.3.8/config/ruby/
	touch .tmp-src/ruby-3.3.8/.rtperf-complete
	mv .tmp-src/ruby-3.3.8 ruby-3.3.8
	rm -rf .tmp-src
fi
