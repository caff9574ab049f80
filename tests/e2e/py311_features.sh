#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record + rtmerge on a C extension, a generator and a class method
# (pyenv 3.11.7 and Debian 3.11.2), checked on rtmerge's folded stacks:
# zlib's native frames stand leafward of compress_it (workload.py:27), the
# generator Parser.tokens stands leafward of Parser.parse at the line that
# drains it, and the qualified name Parser.parse is printed.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require
W=$WORKLOADS/py_features.py

for py in "${PYTHONS[@]}"; do
	name=$(py311_name "$py")
	py311_record "$name" "$py" "$W" 2 >/dev/null
	py311_merge "$name"
	py311_check "$name" "$W" <<'PY'
import re, sys
import py311_folded as F
name, folded, wl = sys.argv[1:4]
st = F.load(folded, wl)
ROOT = [("<module>", 50)]
ZLIB = re.compile(r"deflate|longest_match|fill_window|compress_block|send_bits|adler32|libz\.so")
comp = comp_z = parse = gen = wrong = 0
bad = []
nz = {}  # compress_it samples without zlib frames: their native frames
for s in st:
    fl = s.func_lines()
    if fl[:2] == ROOT + [("main", 46)]:
        # the C call: compress_it is the leafmost Python frame; native
        # frames leafward of it are zlib's (or the runtime's around it)
        if fl[2:] == [("compress_it", 27)] and s.interp_contiguous_from_root():
            comp += s.count
            if any(ZLIB.search(f) for f in s.native_after_interp()):
                comp_z += s.count
            else:
                nz[";".join(s.native_after_interp()[:3])] = nz.get(";".join(s.native_after_interp()[:3]), 0) + s.count
        else:
            wrong += s.count; bad.append(s)
    elif fl[:2] == ROOT + [("main", 47)]:
        if not s.interp_contiguous_from_root() or len(fl) < 3 or fl[2][0] != "Parser.parse":
            wrong += s.count; bad.append(s)
        elif len(fl) == 3 and fl[2][1] in (21, 22, 23):
            parse += s.count
        elif len(fl) == 4 and fl[2][1] == 21 and fl[3] in (("Parser.tokens", 15), ("Parser.tokens", 16)):
            parse += s.count; gen += s.count
        else:
            wrong += s.count; bad.append(s)
total, complete, t2, c2 = F.completeness_figure("features", name, F.load(sys.argv[5], wl, True), wl)
print(f"{name}: compress_it {comp} ({comp_z} with zlib frames leafward), Parser.parse {parse} "
      f"(generator Parser.tokens {gen}), wrong {wrong}; complete {complete}/{total}")
for k, v in sorted(nz.items(), key=lambda x: -x[1])[:3]:
    print(f"  compress_it without zlib frames: {v} x {k or '(no native frames)'}")
for s in bad[:3]:
    print("  wrong:", ";".join(s.frames)[:300])
share = comp / (comp + parse) if comp + parse else 0
print(f"FIGURE py311 C extension {name}: {comp_z} of {comp} samples in compress_it have zlib frames leafward; compress share {share:.2f}")
ok = (comp >= 100 and comp_z >= 0.75 * comp and parse >= 30 and gen >= 10
      and wrong <= 0.01 * total and complete >= 0.97 * total and c2 >= 0.99 * t2)
sys.exit(0 if ok else 1)
PY
	grep -q 'with a broken native callchain' "$PY_TMP/$name.merr" || fail "$name: no broken-chain count"
done
