#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf async on the tokio ground truth (tests/e2e/tokio, built offline
# from Debian's crates with v0 symbol mangling): every blocking
# std::thread::sleep of the blocker found with its duration within 20% and
# its cause; the light and CPU-slice tasks never flagged; tasks woken
# behind blocking polls (counted, not asserted for most: see
# docs/async.md); tasks named by their futures; each blocking poll's native
# stack, unwound from the copy taken at the sleep's end, in order down to
# the process entry.  A second run makes the blocker spin instead: the
# stacks then come from the CPU-time sampler, the cause is CPU.
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
	{ sed -n '/Worst/,/Tasks by/p' "$E2E_TMP/tokio.out" | head -40; fail "report wrong"; }
"$RTBPF" async --threshold-ms $THRESHOLD --json "$E2E_TMP/spin.json" -- \
	"$TOKGROUND" "$E2E_TMP/spin.log" spin >"$E2E_TMP/spin.out" 2>&1 ||
	{ cat "$E2E_TMP/spin.out"; fail "rt-bpf async failed on the spinning blocker"; }
grep -q "CPU-bound poll" "$E2E_TMP/spin.out" || fail "no CPU-bound recommendation"
python3 "$RT_TOP/tests/e2e/workloads/async_check.py" tokio-spin "$E2E_TMP/spin.json" \
	"$E2E_TMP/spin.log" $THRESHOLD tokio spin ||
	{ sed -n '/Worst/,/Tasks by/p' "$E2E_TMP/spin.out" | head -40; fail "report wrong (spinning)"; }
echo "PASS async_tokio"
