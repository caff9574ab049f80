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
# stacks then come from the CPU-time sampler, the cause is CPU.  A third
# runs the program chrooted into trixie's root in its own PID and mount
# namespaces, attached by -p: the same report, its stacks named from the
# container's libc.
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

# the container: the paths in its maps mean other files from here
src=$(bash "$RT_TOP/scripts/rootfs.sh" --dir trixie)
if [ ! -f "$src/.rtperf-rootfs" ]; then
	bash "$RT_TOP/scripts/rootfs.sh" trixie >&2 || skip "root file system trixie missing and could not be built"
fi
cp -al "$src" "$E2E_TMP/root"
cp "$TOKGROUND" "$E2E_TMP/root/tmp/tokground"
# the first sleep after 2 s: time to find the process and attach
unshare --pid --mount --uts --ipc --fork --mount-proc="$E2E_TMP/root/proc" \
	chroot "$E2E_TMP/root" /tmp/tokground /tmp/box.log sleep 2000 >"$E2E_TMP/box.run" 2>&1 &
box=$!
for _ in $(seq 100); do
	tok=$(pgrep -f '^/tmp/tokground /tmp/box.log' | head -n 1)
	[ -n "$tok" ] && break
	sleep 0.02
done
[ -n "$tok" ] || fail "the container's tokground did not start: $(cat "$E2E_TMP/box.run")"
"$RTBPF" async --threshold-ms $THRESHOLD --json "$E2E_TMP/box.json" -p "$tok" >"$E2E_TMP/box.out" 2>&1 ||
	{ cat "$E2E_TMP/box.out"; fail "rt-bpf async failed on the container"; }
wait $box
python3 "$RT_TOP/tests/e2e/workloads/async_check.py" tokio-container "$E2E_TMP/box.json" \
	"$E2E_TMP/root/tmp/box.log" $THRESHOLD tokio ||
	{ sed -n '/Worst/,/Tasks by/p' "$E2E_TMP/box.out" | head -40; fail "report wrong (container)"; }
grep -q '__libc_start_main (libc.so.6)' "$E2E_TMP/box.json" ||
	fail "no frame named from the container's libc"
rm -rf "$E2E_TMP/root"
echo "PASS async_tokio"
