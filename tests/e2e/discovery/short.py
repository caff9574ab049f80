# SPDX-License-Identifier: GPL-2.0-only
# short.py MS [PATH ARGV0 ARGS...]: compresses for MS milliseconds in py_busy,
# then execs PATH when given.
import os
import sys
import time
import zlib


def py_busy(ms):
    end = time.perf_counter() + ms / 1000
    data = bytes(range(256)) * 64
    while time.perf_counter() < end:
        zlib.compress(data, 9)


py_busy(float(sys.argv[1]))
if len(sys.argv) > 2:
    os.execv(sys.argv[2], sys.argv[3:])
