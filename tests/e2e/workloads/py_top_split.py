# SPDX-License-Identifier: GPL-2.0-only
# A 70/30 split for rt-bpf top: main() alternates between spin_seventy
# (7 units of work) and spin_thirty (3), each running its own loop, so
# each function's own share equals its total share.
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0


def spin_seventy():
    s = 0
    for i in range(70000):  # SEVENTY_LINE
        s += i * i
    return s


def spin_thirty():
    s = 0
    for i in range(30000):  # THIRTY_LINE
        s += i * i
    return s


def main():
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        spin_seventy()
        spin_thirty()


main()
