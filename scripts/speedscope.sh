#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the speedscope viewer (its npm package ships the whole app as
# static files) into a machine-wide cache outside the checkout, for
# tests/e2e/outputs_7030.sh to load rtmerge's speedscope files into.
# Idempotent: a second run checks the version and does nothing.  Uses the
# npm client's configured registry.
set -euo pipefail

dir=${RT_SPEEDSCOPE_DIR:-/var/cache/rtperf/speedscope}
version=1.25.0
app=$dir/node_modules/speedscope/dist/release/index.html

installed() {
	[ -f "$app" ] && grep -q "\"version\": \"$version\"" \
		"$dir/node_modules/speedscope/package.json" 2>/dev/null
}
if installed; then
	exit 0
fi
if ! command -v npm >/dev/null; then
	echo "speedscope: npm is not installed (apt-get install npm)" >&2
	exit 1
fi
mkdir -p "$dir"
echo "speedscope: installing speedscope $version into $dir"
npm install --silent --no-audit --no-fund --prefix "$dir" "speedscope@$version" >/dev/null
installed || { echo "speedscope: $app missing after npm install" >&2; exit 1; }
