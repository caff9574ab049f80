# SPDX-License-Identifier: GPL-2.0-only
# A program with its own handling of Ctrl-C and SIGTERM: it creates
# argv[1].started, loops until KeyboardInterrupt (SIGTERM raises it too),
# then cleans up for argv[2] seconds (1 by default) and writes "cleaned" to
# argv[1].  The tests check that rt-bpf lets the cleanup finish.
import signal
import sys
import time


def stop(sig, frame):
    raise KeyboardInterrupt


# (a background job of a script starts with SIGINT ignored: SIGTERM is the
# signal a test sends rt-bpf alone)
signal.signal(signal.SIGTERM, stop)
try:
    open(sys.argv[1] + ".started", "w").close()
    while True:
        time.sleep(0.05)
except KeyboardInterrupt:
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 1)
    open(sys.argv[1], "w").write("cleaned\n")
