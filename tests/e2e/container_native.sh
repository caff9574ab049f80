#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Native frames of container interpreters after the container is gone:
# python3.13 and ruby3.3 of a copy of the trixie root, each compressing
# with zlib in its own namespaces, recorded with `rt-bpf record
# --call-graph dwarf`; the copy is deleted before rtmerge runs.  The
# container's files (its libc, libz, libruby, the python3.13 executable)
# must still give named frames and complete unwinding, found by build id in
# the cache rt-bpf filled while they lived ($HOME/.debug; HOME is a fresh
# directory here).  Control: rtmerge with an empty cache leaves them
# unresolved, so the names come from the cache, not from the host's files.
. "$(dirname "$0")/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -x "$RTBPF" ] || fail "$RTBPF not built"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
src=$(bash "$RT_TOP/scripts/rootfs.sh" --dir trixie)
if [ ! -f "$src/.rtperf-rootfs" ]; then
	bash "$RT_TOP/scripts/rootfs.sh" trixie >&2 || skip "root file system trixie missing and could not be built"
fi
mkdir -p "$E2E_TMP/home" "$E2E_TMP/empty"

# one interpreter: NAME CMD...; the root copy is $E2E_TMP/root
run_one() {
	local name=$1
	shift
	# hard links: a copy in no time, whose removal leaves the cache alone
	cp -al "$src" "$E2E_TMP/root"
	cp "$E2E_TMP"/z.* "$E2E_TMP/root/tmp/"
	HOME=$E2E_TMP/home timeout 60 "$RTBPF" record -F 199 --call-graph dwarf -o "$E2E_TMP/$name.data" -- \
		unshare --pid --mount --uts --ipc --fork --mount-proc="$E2E_TMP/root/proc" \
		chroot "$E2E_TMP/root" "$@" >"$E2E_TMP/$name.log" 2>&1 ||
		{ cat "$E2E_TMP/$name.log" >&2; fail "$name: rt-bpf record failed"; }
	rm -rf "$E2E_TMP/root"
	HOME=$E2E_TMP/home "$RTMERGE" -o "$E2E_TMP/$name.txt" "$E2E_TMP/$name.data" 2>"$E2E_TMP/$name.merge" ||
		{ cat "$E2E_TMP/$name.merge" >&2; fail "$name: rtmerge failed"; }
	HOME=$E2E_TMP/empty "$RTMERGE" -o "$E2E_TMP/$name.nocache.txt" "$E2E_TMP/$name.data" \
		2>/dev/null || fail "$name: rtmerge (no cache) failed"
}

# check NAME COMM WANT...: the share of COMM's samples under zlib's deflate
# whose stack names every WANT, with and without the cache
check() {
	local name=$1 comm=$2
	shift 2
	python3 - "$E2E_TMP/$name.txt" "$E2E_TMP/$name.nocache.txt" "$name" "$comm" "$@" <<'PY' ||
import sys
path, nocache, name, comm, want = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]

def share(p):
    total = named = unknown = 0
    for line in open(p):
        stack, n = line.rstrip("\n").rsplit(" ", 1)
        fr = stack.split(";")
        if not fr[0].startswith(comm) or not any(f == "deflate" or f.startswith("[libz") for f in fr):
            continue
        n = int(n)
        total += n
        if all(any(f == w for f in fr) for w in want):
            named += n
        if "[unknown]" in fr:
            unknown += n
    return total, named, unknown

t, k, u = share(path)
t0, k0, _ = share(nocache)
print(f"FIGURE {name} native frames after the container is gone: {k} of {t} zlib samples name {', '.join(want)}; {u} with [unknown] (empty cache: {k0} of {t0})")
if t < 50 or k < 0.9 * t or k0 > 0.1 * max(t0, 1):
    top = max((l for l in open(path) if l.startswith(comm)), key=lambda l: int(l.rsplit(" ", 1)[1]), default="")
    print("most frequent stack:", top.strip(), file=sys.stderr)
    sys.exit(1)
PY
		fail "$name: native frames not resolved"
}

cat >"$E2E_TMP/z.py" <<'PY'
import time, zlib
data = bytes(range(256)) * 2048
end = time.time() + 3
while time.time() < end:
    zlib.compress(data, 9)
PY
cat >"$E2E_TMP/z.rb" <<'RB'
require 'zlib'
data = (0..255).map(&:chr).join * 2048
t_end = Time.now + 3
Zlib::Deflate.deflate(data, 9) while Time.now < t_end
RB
# libz's deflate, python's PyEval_EvalCode (in the stripped, non-PIE
# executable's .dynsym; the eval loop below it is replaced by the spliced
# Python frames) and libc's __libc_start_main, all the container's files.
# rt-bpf keeps copying a container process's files while it lives: libc
# is mapped after the interpreter was recognised.  One recording each.
run_one py313 python3.13 /tmp/z.py
check py313 python3.13 deflate PyEval_EvalCode __libc_start_main
# the container's libz (1.3.1, not the host's), zlib.so (dlopen'd by
# `require 'zlib'`, long after ruby3.3 was recognised: without its copy the
# unwind stops there), libruby's rb_nogvl and the VM loop (vm_exec, named
# from its code in the stripped libruby) with the Ruby frames spliced in
run_one rb33 ruby3.3 /tmp/z.rb
check rb33 ruby3.3 deflate rb_nogvl "Zlib::Deflate.deflate" vm_exec __libc_start_main
echo ok
