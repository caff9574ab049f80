# SPDX-License-Identifier: GPL-2.0-only
# A 70/30 split with the time in two distinct functions: hot_seventy runs
# seven units of work for every three of cold_thirty, each in its own loop,
# so both functions' own (self) shares are about 0.7 and 0.3.
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
HOT = int(sys.argv[2]) if len(sys.argv) > 2 else 7000     # swapped for --diff tests
COLD = int(sys.argv[3]) if len(sys.argv) > 3 else 3000


def hot_seventy(n):
    s = 0
    for i in range(n):  # HOT_LINE
        s += i * i
    return s


def cold_thirty(n):
    s = 0
    for i in range(n):  # COLD_LINE
        s += i * i
    return s


def main():
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        hot_seventy(HOT)
        cold_thirty(COLD)


main()
