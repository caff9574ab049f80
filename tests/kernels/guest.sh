#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# PID 1 of a matrix guest (tests/kernels/check.sh): mounts what perf and BPF
# need, runs the guest suite and powers off.  The host reads the console for
# "rtperf-guest: result ...".
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t debugfs debug /sys/kernel/debug 2>/dev/null
mount -t tracefs trace /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null

if grep -qw rtperf.probe /proc/cmdline; then
	echo "rtperf-guest: probe ok"
else
	echo "rtperf-guest: result $(uname -r) booted"
fi
echo o >/proc/sysrq-trigger
sleep 10
