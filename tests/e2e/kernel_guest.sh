#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make check's share of the kernel matrix (make check-kernels runs all of
# it): Debian 12's 6.1 cloud kernel, not this machine's, booted in QEMU with
# the guest suite of tests/kernels (rt-bpf record of Python fp and dwarf and
# of Ruby, rt-bpf attach, checked on rtmerge's stacks), and Debian 11's 5.10
# refused in one line.  Run it under the e2e lock like every e2e script.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (apt, /var/cache/rtperf, BPF in the guest)"
[ -d "$RT_BUILD" ] || fail "$RT_BUILD not built"
if ! command -v qemu-system-x86_64 >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		qemu-system-x86 >/dev/null 2>&1 || skip "qemu-system-x86 is not installed and cannot be"
fi
# what the guests boot: without them QEMU has nothing to run
bash "$RT_TOP/tests/kernels/fetch.sh" bookworm bullseye >"$E2E_TMP/fetch.log" 2>&1 ||
	skip "cannot fetch the Debian kernels: $(tail -n 1 "$E2E_TMP/fetch.log")"
RT_KERNELS_LOCK=0 bash "$RT_TOP/tests/kernels/check.sh" "$RT_BUILD" bookworm bullseye
