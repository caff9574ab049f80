# SPDX-License-Identifier: GPL-2.0-only
"""Ground truth for off-CPU native chains (tests/e2e/offcpu_chains.sh): the
main thread reads one byte N times from five call sites in turn, sites 0, 2
and 4 through os.read(), sites 1 and 3 through a file object's read().
Both sleep in libc's read() called from _Py_read() at the same stack
pointer, so the user registers of the sleep are the same for all five;
only the frames in between (os_read, or _io_FileIO_read) differ.  A second
thread feeds each read its byte after D seconds.  Prints the main thread's
tid and each site's line as JSON.

    offcpu_chains.py N D
"""
import json
import os
import re
import sys
import threading
import time


def feeder(pipes, n, d):
    for i in range(n):
        time.sleep(d)
        os.write(pipes[i % 5], b"x")


def reads(n, raw_fd, f):
    for i in range(n):
        k = i % 5
        if k == 0:
            os.read(raw_fd, 1)  # site 0
        elif k == 1:
            f.read(1)  # site 1
        elif k == 2:
            os.read(raw_fd, 1)  # site 2
        elif k == 3:
            f.read(1)  # site 3
        else:
            os.read(raw_fd, 1)  # site 4


def main():
    n, d = int(sys.argv[1]), float(sys.argv[2])
    raw_r, raw_w = os.pipe()
    file_r, file_w = os.pipe()
    f = os.fdopen(file_r, "rb", buffering=0)
    pipes = [raw_w, file_w, raw_w, file_w, raw_w]
    t = threading.Thread(target=feeder, args=(pipes, n, d))
    t.start()
    reads(n, raw_r, f)
    t.join()
    lines = {}
    with open(__file__) as src:
        for no, text in enumerate(src, 1):
            m = re.search(r"read\(.*# site (\d)$", text.rstrip())
            if m:
                lines[m.group(1)] = no
    print(json.dumps({"tid": threading.get_native_id(), "sites": lines}), flush=True)


main()
