#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs what rtperf needs to build and test, then builds libperf from
# Debian's linux-source-6.12 into build/libperf, and the Debian root file
# systems of the container tests (scripts/rootfs.sh).  Idempotent: a second
# run checks and does nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${RT_BUILD_DIR:-$top/build}

packages=(
	build-essential clang llvm libbpf-dev bpftool libelf-dev libdw-dev
	libtraceevent-dev libcapstone-dev libcunit1-dev libiberty-dev zlib1g-dev
	linux-source-6.12 xz-utils linux-perf chromium elfutils binutils time python3 libxml2-utils
	ruby3.1 ruby3.1-dev libncurses-dev tmux librust-tokio-dev
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages: ${missing[*]}; run this as root (or install them)" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libperf and libapi from the kernel tree Debian packages.
stamp=$build/libperf/.built-6.12
if [ ! -f "$stamp" ]; then
	tarball=$(ls /usr/src/linux-source-6.12*.tar.xz | head -n 1)
	src=$build/linux-src
	rm -rf "$src" "$build/libperf"
	mkdir -p "$src"
	echo "setup: extracting tools/ from $tarball"
	base=$(basename "$tarball" .tar.xz)
	tar -xJf "$tarball" -C "$src" --strip-components=1 \
		"$base/tools" "$base/include/uapi" "$base/arch/x86/include/uapi" "$base/scripts"
	echo "setup: building libperf and libapi"
	make -s -C "$src/tools/lib/perf" DESTDIR="$build/libperf" prefix= libdir_relative=lib \
		install_lib install_headers >/dev/null
	make -s -C "$src/tools/lib/api" DESTDIR="$build/libperf" prefix= libdir_relative=lib \
		install_lib install_headers >/dev/null 2>&1 ||
		make -s -C "$src/tools/lib/api" >/dev/null
	[ -f "$build/libperf/lib/libapi.a" ] || cp "$src/tools/lib/api/libapi.a" "$build/libperf/lib/"
	touch "$stamp"
fi
# Debian root file systems the container tests run interpreters in: built
# once into a machine-wide cache (scripts/rootfs.sh keeps a complete one).
if [ "$(id -u)" -eq 0 ]; then
	bash "$top/scripts/rootfs.sh"
else
	echo "setup: not root: container root file systems not built (scripts/rootfs.sh)"
fi
echo "setup: ok (libperf in $build/libperf)"
