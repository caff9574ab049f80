# SPDX-License-Identifier: GPL-2.0-only
# Workload for unwind_dwarf.sh: Python recursion, zlib, and a second thread.
import sys
import threading
import time
import zlib


def rec(n):
    if n == 0:
        s = 0
        for i in range(2000):
            s += i * i
        zlib.compress(b"abcdefgh" * 2000)
        return s
    return rec(n - 1) + 1


def work(seconds):
    end = time.time() + seconds
    while time.time() < end:
        rec(12)


secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
t = threading.Thread(target=work, args=(secs,))
t.start()
work(secs)
t.join()
