# SPDX-License-Identifier: GPL-2.0-only
"""Ground truth for summed off-CPU intervals (tests/e2e/offcpu_sums.sh): the
main thread sleeps N times for D1 seconds in short_naps(), then N times for
D2 in long_naps().  Both sleep through the same C call from the same depth,
so their native chains are the same and only the Python leaf frame tells
them apart.  Prints its tid and the seconds spent inside each function's
sleeps, by its own clock, as JSON.

    offcpu_sums.py N D1 D2
"""
import json
import sys
import threading
import time

clock = time.perf_counter


def short_naps(n, d):
    spent = 0.0
    for _ in range(n):
        t = clock()
        time.sleep(d)
        spent += clock() - t
    return spent


def long_naps(n, d):
    spent = 0.0
    for _ in range(n):
        t = clock()
        time.sleep(d)
        spent += clock() - t
    return spent


def main():
    n, d1, d2 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    t0 = clock()
    short = short_naps(n, d1)
    t1 = clock()
    long = long_naps(n, d2)
    t2 = clock()
    print(json.dumps({"tid": threading.get_native_id(), "short_naps": short, "long_naps": long,
                      "short_wall": t1 - t0, "long_wall": t2 - t1}), flush=True)


main()
