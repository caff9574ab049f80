#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the tokio ground truth (this directory) offline from Debian's
# packaged crates, with v0 symbol mangling, in DIR (kept between builds:
# cargo rebuilds only what changed) and prints the executable's path.
#
#   tests/e2e/tokio/build.sh DIR
#
# Exits 77 without cargo or Debian's tokio crate (librust-tokio-dev).
set -euo pipefail
dir=${1:?usage: build.sh DIR}
src=$(cd "$(dirname "$0")" && pwd)
cargo=$(command -v cargo || echo /root/.cargo/bin/cargo)
[ -x "$cargo" ] || { echo "no cargo" >&2; exit 77; }
ls -d /usr/share/cargo/registry/tokio-1.* >/dev/null 2>&1 ||
	{ echo "Debian's tokio crate is not installed (apt-get install librust-tokio-dev)" >&2; exit 77; }
mkdir -p "$dir/.cargo"
cp -rp "$src/Cargo.toml" "$src/src" "$dir/"
cat >"$dir/.cargo/config.toml" <<'TOML'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
TOML
(cd "$dir" && RUSTFLAGS="-C symbol-mangling-version=v0" "$cargo" build --release -q) >&2
echo "$dir/target/release/tokground"
