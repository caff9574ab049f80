# SPDX-License-Identifier: GPL-2.0-only
"""GIL contention: SPINNERS threads run Python code (they need the GIL),
one thread hashes 2 MiB at a time with the GIL released, a fifth of the
time or less (busier, it would keep a CPU from the spinners, which then
wait for a CPU as well as for the GIL; with 256 KiB it had as few as 2
samples in the hash, too few for gil_check.py).  Each spinner measures its wall
and CPU time: what it spent off the CPU is, nearly all, waiting for the
GIL.  Prints the totals and the threads' ids.

    gil_contention.py SECONDS SPINNERS
"""
import hashlib
import json
import sys
import threading
import time

results = {}


def spin(seconds):
    w0, c0 = time.perf_counter(), time.thread_time()
    x = 0
    while time.perf_counter() - w0 < seconds:
        for i in range(1000):
            x += i
    results[threading.get_native_id()] = (time.perf_counter() - w0, time.thread_time() - c0)


def hash_nogil(seconds, stop):
    data = b"x" * (1 << 21)
    while not stop.is_set():
        hashlib.sha256(data).digest()
        time.sleep(0.002)


def main():
    seconds, spinners = float(sys.argv[1]), int(sys.argv[2])
    stop = threading.Event()
    hasher = threading.Thread(target=hash_nogil, args=(seconds, stop))
    hasher.start()
    threads = [threading.Thread(target=spin, args=(seconds,)) for _ in range(spinners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    hasher.join()
    wall = sum(w for w, _ in results.values())
    cpu = sum(c for _, c in results.values())
    print(json.dumps({"spinners": sorted(results), "wall": wall, "cpu": cpu,
                      "hasher": hasher.native_id}), flush=True)


main()
