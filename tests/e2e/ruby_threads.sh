#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf + rtmerge (--call-graph dwarf) on Debian's ruby3.1 with three
# threads, each in its own methods; gamma compresses with zlib, which
# releases the GVL.  Every thread's samples must carry only its own Ruby
# frames, and gamma's must show Zlib::Deflate.deflate with zlib's native
# frames below it (rb_nogvl, then deflate in libz) in that order.
. "$(dirname "$0")/workloads/rb_common.bash"
rb_require
W=$WORKLOADS/rb_threads.rb
rb_record threads "$W" 4 --call-graph dwarf
python3 - "$E2E_TMP/threads.txt" "$RT_TOP/tests/e2e/workloads" <<'PY' || fail "threads wrong"
import collections, re, sys
sys.path.insert(0, sys.argv[2])
import rb_folded
own = {"alpha_spin": 31, "beta_spin": 32, "gamma_compress": 33}
per_tid = collections.defaultdict(collections.Counter)
wrong = total = zlib_ok = zlib_total = 0
for root, fr, n in rb_folded.read(sys.argv[1]):
    m = re.search(r"-(\d+)/(\d+)$", root)
    names = [f[0] for f in fr]
    ours = [f for f in fr if f[1] and f[1].endswith("rb_threads.rb")]
    workers = {f[0] for f in ours if f[0] in own}
    if not m or not workers and not any(f[0] == "block in <main>" for f in ours):
        continue
    tid = m.group(2)
    total += n
    for w in workers:
        per_tid[tid][w] += n
    # the thread's block must be the one that started this worker
    blocks = [f[2] for f in ours if f[0] == "block in <main>"]
    if len(workers) > 1 or (workers and blocks and blocks[0] != own[next(iter(workers))]):
        wrong += n
    if "gamma_compress" in workers and any(x.startswith("[libz") or x == "deflate" for x in names):
        zlib_total += n
        i = names.index("Zlib::Deflate.deflate") if "Zlib::Deflate.deflate" in names else -1
        j = names.index("rb_nogvl") if "rb_nogvl" in names else -1
        k = max([p for p, x in enumerate(names) if x.startswith("[libz") or x == "deflate"], default=-1)
        if 0 <= i < j < k:
            zlib_ok += n
owner = {}
for tid, c in per_tid.items():
    w, k = c.most_common(1)[0]
    owner.setdefault(w, []).append(tid)
    wrong += sum(c.values()) - k
print("per thread:", {t: dict(c) for t, c in per_tid.items()})
print(f"FIGURE ruby3.1 threads: {wrong} of {total} samples with another thread's frames (goal 0)")
print(f"FIGURE ruby3.1 threads: {zlib_ok} of {zlib_total} zlib samples in order deflate method > rb_nogvl > libz")
ok = set(owner) == set(own) and all(len(v) == 1 for v in owner.values())
counts = {w: sum(per_tid[owner[w][0]].values()) for w in owner} if ok else {}
if not ok or wrong or min(counts.values()) < 30 or zlib_total < 10 or zlib_ok < 0.9 * zlib_total:
    sys.exit(1)
PY
echo ok
