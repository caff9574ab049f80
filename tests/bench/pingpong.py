# SPDX-License-Identifier: GPL-2.0-only
"""The off-CPU program's worst case: two threads ping-pong one byte over
two pipes, so that every round trip switches each thread out and in.
Prints the seconds the ROUNDS round trips took, and the round trips.

    pingpong.py ROUNDS
"""
import os
import sys
import threading
import time


def pong(r, w, n):
    for _ in range(n):
        os.read(r, 1)
        os.write(w, b"o")


def main():
    n = int(sys.argv[1])
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    t = threading.Thread(target=pong, args=(a_r, b_w, n))
    t.start()
    t0 = time.perf_counter()
    for _ in range(n):
        os.write(a_w, b"i")
        os.read(b_r, 1)
    elapsed = time.perf_counter() - t0
    t.join()
    print("%.4f %d" % (elapsed, n), flush=True)


main()
