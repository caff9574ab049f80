#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# GIL contention (pyenv's CPython 3.11, 3.12 and 3.13, Debian's 3.11; the
# GIL's place comes from layouts/, in the interpreter from 3.12): three
# threads running Python code and one hashing with the GIL released,
# recorded with rt-bpf record --off-cpu.  The spinners' [gil wait] and
# [preempted] shares of their wall time (rtmerge --wall) match their own
# timing (wall - CPU) within TOL points, [gil wait] at least half of it
# (workloads/gil_check.py); rtmerge --gil keeps the spinners' samples and
# leaves out the hasher's.  gil_wait_container.sh: the same for Debian's
# 3.13, 3.14 and 3.15 in containers.
. "$(dirname "$0")/workloads/gil_common.bash"

ran=0
for py in /root/.pyenv/versions/3.11.7/bin/python3.11 /usr/bin/python3.11 \
	/root/.pyenv/versions/3.12.1/bin/python3.12 /root/.pyenv/versions/3.13.0/bin/python3.13; do
	[ -x "$py" ] || continue
	v=${py##*/python}
	case $py in /root/*) label=pyenv-$v ;; *) label=debian-$v ;; esac
	gil_run "$label" "$py" "$WORKLOADS/gil_contention.py"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "no pyenv 3.11.7, 3.12.1, 3.13.0 or /usr/bin/python3.11"
echo "PASS: gil_wait ($ran interpreters)"
