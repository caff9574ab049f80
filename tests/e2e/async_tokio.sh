#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf async on the tokio ground truth (tests/e2e/tokio, built offline
# from Debian's crates with v0 symbol mangling): every blocking
# std::thread::sleep of the blocker found with its duration within 20% and
# its cause; the light and CPU-slice tasks never flagged; tasks woken
# behind blocking polls (counted, not asserted for most: see
# docs/async.md); tasks named by their futures.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for uprobes"
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
THRESHOLD=20
build_tokground
"$RTBPF" async -v --threshold-ms $THRESHOLD --json "$E2E_TMP/tokio.json" -- \
	"$TOKGROUND" "$E2E_TMP/tokio.log" >"$E2E_TMP/tokio.out" 2>&1 ||
	{ cat "$E2E_TMP/tokio.out"; fail "rt-bpf async failed"; }
grep -q "polls of tokground::blocker at" "$E2E_TMP/tokio.out" || fail "no poll function of the blocker"
grep -q "spawn_blocking" "$E2E_TMP/tokio.out" || fail "no recommendation"
python3 "$RT_TOP/tests/e2e/workloads/async_check.py" tokio "$E2E_TMP/tokio.json" \
	"$E2E_TMP/tokio.log" $THRESHOLD tokio ||
	{ sed -n '/Worst/,/Tasks by/p' "$E2E_TMP/tokio.out" | head -20; fail "report wrong"; }
echo "PASS async_tokio"
