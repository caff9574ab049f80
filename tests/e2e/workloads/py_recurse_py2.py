# SPDX-License-Identifier: GPL-2.0-only
# py_recurse.py for every CPython from 2.7 on (no time.monotonic before
# 3.3): 200-deep recursion, then a busy loop at the bottom.
import sys
import time

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
clock = getattr(time, "monotonic", time.time)


def leaf(deadline):
    n = 0
    while clock() < deadline:  # LEAF_LINE
        n += 1
    return n


def recurse(depth, deadline):
    if depth <= 1:
        return leaf(deadline)  # CALL_LEAF_LINE
    return recurse(depth - 1, deadline)  # RECURSE_LINE


def main():
    sys.setrecursionlimit(10000)
    return recurse(DEPTH, clock() + SECONDS)  # MAIN_LINE


main()  # MODULE_LINE
