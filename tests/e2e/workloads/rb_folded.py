# SPDX-License-Identifier: GPL-2.0-only
"""Reads rtmerge's folded output for the Ruby e2e tests: each stack as a list
of (function, file, line) with native frames as (name, None, None)."""
import re
import sys

FRAME = re.compile(r"^(.*) \(([^()]*?):(\d+)\)$")
NOLINE = re.compile(r"^(.*) \(([^()]*?\.rb)\)$")


def frames(stack):
    out = []
    for f in stack.split(";"):
        m = FRAME.match(f)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3))))
            continue
        m = NOLINE.match(f)
        out.append((m.group(1), m.group(2), 0) if m else (f, None, None))
    return out


def read(path):
    """Yields (root, frames, count) per folded line."""
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, count = line.rsplit(" ", 1)
        fr = frames(stack)
        yield fr[0][0], fr[1:], int(count)


def ruby_only(fr, script):
    """The frames that are Ruby's: script frames and C methods (Class#m)."""
    return [f for f in fr if is_ruby(f)]


# the worker methods of rb_threads.rb and the line of the block that starts each
THREAD_WORKERS = {"alpha_spin": 31, "beta_spin": 32, "gamma_compress": 33}


def threads(path):
    """Per-thread attribution of rb_threads.rb's samples in rtmerge --tid
    output: (wrong, total, zlib_ok, zlib_total, counts), counts being the
    samples of each worker's one thread, or None when the workers do not
    map one to one onto threads.  A sample is wrong when it carries another
    thread's frames; a zlib sample is ok when Zlib::Deflate.deflate, then
    rb_nogvl, then libz's frames stand in that order."""
    import collections
    own = THREAD_WORKERS
    per_tid = collections.defaultdict(collections.Counter)
    wrong = total = zlib_ok = zlib_total = 0
    for root, fr, n in read(path):
        m = re.search(r"-(\d+)/(\d+)$", root)
        names = [f[0] for f in fr]
        ours = [f for f in fr if f[1] and f[1].endswith("rb_threads.rb")]
        workers = {f[0] for f in ours if f[0] in own}
        if not m or not workers:
            continue
        tid = m.group(2)
        total += n
        for w in workers:
            per_tid[tid][w] += n
        # the thread's block must be the one that started this worker
        blocks = [f[2] for f in ours if f[0] == "block in <main>"]
        if len(workers) > 1 or (blocks and blocks[0] != own[next(iter(workers))]):
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
    ok = set(owner) == set(own) and all(len(v) == 1 for v in owner.values())
    counts = {w: sum(per_tid[owner[w][0]].values()) for w in owner} if ok else None
    return wrong, total, zlib_ok, zlib_total, counts


# the VM's native frames a run of Ruby frames is spliced below: vm_exec
# (rb_vm_exec where libruby exports it), whose callee vm_exec_core the Ruby
# frames stand for
VM_FRAMES = ("vm_exec", "rb_vm_exec")


def is_ruby(f):
    """A Ruby frame: a method, block or class body with its file, or a C
    method (Class#m, Class.m)."""
    return f[1] is not None or "#" in f[0] or re.match(r"^[A-Z]\w*(::\w+)*\.\w", f[0]) is not None


def spliced(path, script):
    """(ok, total): of the samples with frames of script, those whose every
    run of Ruby frames sits directly below one of the VM's native frames."""
    ok = total = 0
    for root, fr, n in read(path):
        if not any(f[1] and f[1].endswith(script) for f in fr):
            continue
        total += n
        good = True
        for i, f in enumerate(fr):
            if is_ruby(f) and (i == 0 or not is_ruby(fr[i - 1])) and \
                    (i == 0 or fr[i - 1][0] not in VM_FRAMES):
                good = False
                break
        ok += n if good else 0
    return ok, total


if __name__ == "__main__":
    for root, fr, n in read(sys.argv[1]):
        print(n, root, fr)
