# SPDX-License-Identifier: GPL-2.0-only
# A two-branch split: main() alternates between branch_a (about 3/4 of the
# work) and branch_b (1/4); both end in the same helper work().
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


def work(n):
    s = 0
    for i in range(n):  # WORK_LINE
        s += i * i
    return s


def branch_a():
    return work(30000)  # A_LINE


def branch_b():
    return work(10000)  # B_LINE


def main():
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        branch_a()
        branch_b()


main()
