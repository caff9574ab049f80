# SPDX-License-Identifier: GPL-2.0-only
"""Exact counts for event mode: write_a makes N writes of A bytes,
write_b M writes of B bytes (to /dev/null), collect_k calls gc.collect()
K times with automatic collection off (Python's gc__start USDT probe fires
once per collection).

    event_counts.py N A M B K
"""
import gc
import os
import sys


def write_a(fd, n, size):
    data = b"a" * size
    for _ in range(n):
        os.write(fd, data)


def write_b(fd, n, size):
    data = b"b" * size
    for _ in range(n):
        os.write(fd, data)


def collect_k(k):
    for _ in range(k):
        gc.collect()


def main():
    n, a, m, b, k = (int(v) for v in sys.argv[1:6])
    gc.disable()
    fd = os.open("/dev/null", os.O_WRONLY)
    write_a(fd, n, a)
    write_b(fd, m, b)
    collect_k(k)
    os.close(fd)


main()
