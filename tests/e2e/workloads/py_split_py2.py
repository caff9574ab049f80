# SPDX-License-Identifier: GPL-2.0-only
# py_split.py for every CPython from 2.7 on: main() alternates between
# branch_a (about 3/4 of the work) and branch_b (1/4), both ending in work().
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
clock = getattr(time, "monotonic", time.time)
try:
    span = xrange
except NameError:
    span = range


def work(n):
    s = 0
    for i in span(n):  # WORK_LINE
        s += i * i
    return s


def branch_a():
    return work(30000)  # A_LINE


def branch_b():
    return work(10000)  # B_LINE


def main():
    deadline = clock() + SECONDS
    while clock() < deadline:
        branch_a()  # MAIN_A_LINE
        branch_b()  # MAIN_B_LINE


main()  # MODULE_LINE
