# SPDX-License-Identifier: GPL-2.0-only
"""The off-CPU program's signature at a given depth: recurses DEPTH calls,
then sleeps N times for D seconds from there, so that every switch out has
the same DEPTH-frame stack (docs/offcpu.md, "Cost").

    py_deepnap.py DEPTH N D
"""
import sys
import time


def down(k, n, d):
    if k:
        return down(k - 1, n, d)
    for _ in range(n):
        time.sleep(d)
    return None


if __name__ == "__main__":
    depth, n, d = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    sys.setrecursionlimit(depth + 100)
    down(depth, n, d)
