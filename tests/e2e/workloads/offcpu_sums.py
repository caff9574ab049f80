# SPDX-License-Identifier: GPL-2.0-only
"""Ground truth for summed off-CPU intervals (tests/e2e/offcpu_sums.sh): the
main thread sleeps N times for D1 seconds in short_naps(), then N times for
D2 in long_naps().  Both sleep through the same C call from the same depth,
so their native chains are the same and only the Python leaf frame tells
them apart.  Then it sleeps N times for D2 through query() and nap(),
called by view_a() and view_b() in turn: there only a frame further from
the leaf tells the two apart, as with a service's handlers that wait in
one shared helper.  Prints its tid and the seconds spent inside each
function's sleeps, by its own clock, as JSON.

    offcpu_sums.py N D1 D2
"""
import json
import os
import sys
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


def nap(d):
    time.sleep(d)


def query(d):
    nap(d)


def view_a(d):
    t = clock()
    query(d)
    return clock() - t


def view_b(d):
    t = clock()
    query(d)
    return clock() - t


def views(n, d):
    spent = [0.0, 0.0]
    for i in range(n):
        if i % 2 == 0:
            spent[0] += view_a(d)
        else:
            spent[1] += view_b(d)
    return spent


def main():
    n, d1, d2 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    t0 = clock()
    short = short_naps(n, d1)
    t1 = clock()
    long = long_naps(n, d2)
    t2 = clock()
    a, b = views(n, d2)
    t3 = clock()
    print(json.dumps({"tid": os.getpid(), "short_naps": short, "long_naps": long,
                      "view_a": a, "view_b": b, "short_wall": t1 - t0, "long_wall": t2 - t1,
                      "views_wall": t3 - t2}), flush=True)


main()
