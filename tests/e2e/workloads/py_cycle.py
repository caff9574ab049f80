# SPDX-License-Identifier: GPL-2.0-only
"""A DEPTH-deep recursion through NFUNCS distinct functions called in a
cycle (f0 calls f1 ... calls f0), then a busy loop at the bottom: the stack
of a framework whose layers repeat, where py_recurse.py's stack is one
function over and over.

    py_cycle.py DEPTH SECONDS NFUNCS
"""
import sys
import time

DEPTH, SECONDS, NFUNCS = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])


def leaf(deadline):
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


FUNCS = []
for i in range(NFUNCS):
    # one code object per function, each from its own file name: a frame
    # named with another function's code object would show it
    exec(compile(f"def f{i}(depth, deadline):\n"
                 f"    if depth <= 1:\n"
                 f"        return leaf(deadline)\n"
                 f"    return FUNCS[{(i + 1) % NFUNCS}](depth - 1, deadline)\n",
                 f"layer{i}.py", "exec"), globals())
    FUNCS.append(globals()[f"f{i}"])

sys.setrecursionlimit(DEPTH + 1000)
FUNCS[0](DEPTH, time.monotonic() + SECONDS)
