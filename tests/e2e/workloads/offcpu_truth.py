# SPDX-License-Identifier: GPL-2.0-only
"""Ground truth for the off-CPU and wall-clock views: the main thread
spends random slices computing, sleeping and blocked on a pipe read (a
helper thread writes after the slice's length), in the proportions given,
and prints what its own clock measured for each kind.

    offcpu_truth.py SECONDS COMPUTE SLEEP PIPE [SEED]   (weights)
"""
import json
import os
import random
import sys
import threading
import time


def compute_slice(sec):
    end = time.perf_counter() + sec
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def sleep_slice(sec):
    time.sleep(sec)


def pipe_slice(sec, req_w, data_r):
    os.write(req_w, str(sec).encode() + b"\n")
    os.read(data_r, 1)


def writer(req_r, data_w):
    f = os.fdopen(req_r, "rb", buffering=0)
    buf = b""
    while True:
        c = f.read(1)
        if not c:
            return
        if c != b"\n":
            buf += c
            continue
        time.sleep(float(buf))
        buf = b""
        os.write(data_w, b"x")


def main():
    total = float(sys.argv[1])
    weights = [float(w) for w in sys.argv[2:5]]
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else None)
    req_r, req_w = os.pipe()
    data_r, data_w = os.pipe()
    threading.Thread(target=writer, args=(req_r, data_w), daemon=True).start()
    spent = {"compute": 0.0, "sleep": 0.0, "pipe": 0.0}
    start = time.perf_counter()
    while time.perf_counter() - start < total:
        kind = rng.choices(["compute", "sleep", "pipe"], weights)[0]
        sec = rng.uniform(0.002, 0.030)
        t0 = time.perf_counter()
        if kind == "compute":
            compute_slice(sec)
        elif kind == "sleep":
            sleep_slice(sec)
        else:
            pipe_slice(sec, req_w, data_r)
        spent[kind] += time.perf_counter() - t0
    spent["wall"] = time.perf_counter() - start
    spent["tid"] = os.getpid()  # the main thread's tid (get_native_id is 3.8+)
    print(json.dumps(spent), flush=True)


main()
