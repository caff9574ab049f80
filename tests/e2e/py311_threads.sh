#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf on a multi-threaded Python program (pyenv 3.11.7 and Debian 3.11.2):
# every thread's samples must carry that thread's own Python stack, not the
# GIL holder's; the thread hashing with the GIL released must get its stack.
. "$(dirname "$0")/workloads/py311_common.bash"
py311_require
W=$WORKLOADS/py_threads.py

for py in "${PYTHONS[@]}"; do
	name=$(py311_name "$py")
	py311_record "$name" "$py" "$W" 2.5
	python3 - "$name" "$PY_TMP/$name.txt" "$PY_TMP/$name.out" "$W" <<'PY' || fail "$name: per-thread stacks wrong"
import sys
name, txt, out, wl = sys.argv[1:5]
role = {}
for line in open(out):
    tid, fn = line.split()
    role[int(tid)] = fn
workers = {t: f for t, f in role.items() if f != "main"}
counts = {f: 0 for f in workers.values()}
wrong = total = 0
for line in open(txt):
    parts = line.rstrip("\n").split(" ", 2)
    tid = int(parts[0].split("/")[1])
    if tid not in workers or len(parts) < 3 or not parts[2]:
        continue
    names = [f.lstrip("+").split("@")[0] for f in parts[2].split(";")]
    total += 1
    mine = workers[tid]
    others = set(workers.values()) - {mine}
    if not others.intersection(names) and names[0] == "Thread._bootstrap":
        counts[mine] += mine in names  # else sampled in run() around the call
    else:
        wrong += 1
        if wrong < 4:
            print(name, "tid", tid, "is", mine, "but stack is", names)
print(name, "samples per thread:", counts, "wrong:", wrong, "of", total)
print(f"FIGURE py311 threads {name}: {wrong} of {total} worker-thread samples with another thread's frames")
need = ["worker_alpha", "worker_beta", "worker_gamma", "hasher_epsilon"]
if wrong or any(counts[f] < 20 for f in need):
    sys.exit(1)
PY
	# the hashing thread is sampled inside C code with the GIL released
	grep -q 'hasher_epsilon@[^;]*:40$' "$PY_TMP/$name.txt" ||
		fail "$name: no sample of hasher_epsilon at its hashing line"
	# rtmerge --tid: each worker's folded stacks carry its own function only,
	# from Thread._bootstrap; the hasher's OpenSSL frames stand leafward of
	# hasher_epsilon at line 40
	py311_merge "$name"
	py311_check "$name" "$W" <<'PY'
import re, sys
import py311_folded as F
name, folded, wl, out = sys.argv[1:5]
role = {}
for line in open(out):
    tid, fn = line.split()
    role[int(tid)] = fn
workers = {t: f for t, f in role.items() if f != "main"}
st = F.load(folded, wl)
counts = {f: 0 for f in workers.values()}
wrong = total = hashed = 0
HASH = re.compile(r"sha256|SHA256|libcrypto|EVP_|_hashlib")
for s in st:
    if s.tid not in workers or not s.interp:
        continue
    mine = workers[s.tid]
    funcs = s.funcs()
    total += s.count
    if set(workers.values()) - {mine} & set(funcs) or funcs[0] != "Thread._bootstrap":
        wrong += s.count
        if wrong < 4:
            print(name, "tid", s.tid, "is", mine, "but folded stack is", ";".join(s.frames)[:300])
        continue
    if mine in funcs:
        counts[mine] += s.count
    if (mine == "hasher_epsilon" and s.func_lines()[-1] == ("hasher_epsilon", 40)
            and any(HASH.search(f) for f in s.native_after_interp())):
        hashed += s.count
print(name, "rtmerge samples per thread:", counts, "wrong:", wrong, "of", total,
      "hasher samples in OpenSSL/_hashlib:", hashed)
print(f"FIGURE py311 threads rtmerge {name}: {wrong} of {total} worker-thread samples with another thread's frames")
samples = F.load(sys.argv[5], wl, True)
F.completeness_figure("threads", name, samples, wl, roots=("Thread._bootstrap", "<module>"))
need = ["worker_alpha", "worker_beta", "worker_gamma", "hasher_epsilon"]
sys.exit(1 if wrong or hashed < 10 or any(counts[f] < 20 for f in need) else 0)
PY
done
