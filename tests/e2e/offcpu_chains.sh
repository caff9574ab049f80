#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Off-CPU native frames stay with their own interpreter stack: a CPython
# thread sleeps in read() from five call sites in turn, three through
# os.read() and two through a file object's read() (workloads/
# offcpu_chains.py).  Every sleep has the same user registers and system
# call, the native chain the off-CPU program remembers a perf sample by
# (bpf/offcpu.bpf.h), yet the frames between the Python frame and read()
# differ: os_read or _io_FileIO_read.  With --call-graph dwarf, each site's
# off-CPU time in rtmerge --off-cpu must sit under its own native frames,
# none under the other kind's (before chains were kept per interpreter
# stack, about 40% of every site's time was under the wrong ones).
. "$(dirname "$0")/lib.sh"
RTBPF=$RT_BUILD/rt-bpf
WORKLOADS=$RT_TOP/tests/e2e/workloads
N=${N:-3000}

require_perf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"

# run LABEL INTERPRETER: the interpreter's own symbols name os_read and
# _io_FileIO_read (pyenv builds keep them; Debian's stripped one does not)
run() {
	local label=$1 py=$2 base=$E2E_TMP/$1
	offcpu_record "$label" "$base" --call-graph dwarf -F 99 -- \
		"$py" "$WORKLOADS/offcpu_chains.py" "$N" 0.0003
	python3 - "$label" "$base.json" "$base.off" <<'PY' || fail "$label: native frames under another site's stack"
import json, sys
label, truth, off = sys.argv[1:4]
sites = json.load(open(truth))["sites"]
want = {int(k): (";os_read;" if int(k) % 2 == 0 else ";_io_FileIO_read;") for k in sites}
other = {";os_read;": ";_io_FileIO_read;", ";_io_FileIO_read;": ";os_read;"}
own = {k: 0 for k in want}
wrong = {k: 0 for k in want}
bare = {k: 0 for k in want}
for line in open(off):
    stack, _, n = line.rstrip("\n").rpartition(" ")
    if not stack.endswith("[syscall] read"):
        continue
    for k, no in sites.items():
        k = int(k)
        if f";reads (workloads/offcpu_chains.py:{no});" not in stack:
            continue
        if other[want[k]] in stack:
            wrong[k] += int(n)
        elif want[k] in stack:
            own[k] += int(n)
        else:
            bare[k] += int(n)
ok = True
for k in sorted(want):
    total = own[k] + wrong[k] + bare[k]
    print(f"FIGURE offcpu_chains {label} site {k} ({want[k].strip(';')}): {own[k] / 1e6:.4f} s under its "
          f"own frames, {wrong[k] / 1e6:.4f} s under the other kind's, {bare[k] / 1e6:.4f} s under neither")
    # each site sleeps N/5 times for at least 0.3 ms; nearly all of it
    # named through its own frames
    ok &= wrong[k] == 0 and total > 0 and own[k] >= 0.95 * total
sys.exit(0 if ok else 1)
PY
}

ran=0
for spec in pyenv-3.11=/root/.pyenv/versions/3.11.7/bin/python3.11 \
	pyenv-3.12=/root/.pyenv/versions/3.12.1/bin/python3.12; do
	[ -x "${spec#*=}" ] || continue
	run "${spec%%=*}" "${spec#*=}"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "no pyenv 3.11.7 or 3.12.1"
echo "PASS: offcpu_chains ($ran interpreters)"
