# SPDX-License-Identifier: GPL-2.0-only
# Tasks made one after another, each freed before the next: ROUNDS rounds
# of five tasks named f"worker-{i}" running coroutine work{i}, which spins
# for SPIN_S.  A finished task's object, and its name's, are reused for the
# next task at the same addresses (CPython 3.13 did so every time here).
# Waits (awaiting, so the loop runs) until the file argv[1] exists: the
# test creates it once rt-bpf follows the task steps.
import asyncio
import os
import sys
import time

ROUNDS, SPIN_S = 3, 0.1


def spin():
    end = time.monotonic() + SPIN_S
    while time.monotonic() < end:
        pass


async def work0():
    spin()


async def work1():
    spin()


async def work2():
    spin()


async def work3():
    spin()


async def work4():
    spin()


WORKS = (work0, work1, work2, work3, work4)


async def main():
    deadline = time.monotonic() + 30
    while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    for _ in range(ROUNDS):
        for i, work in enumerate(WORKS):
            await asyncio.create_task(work(), name=f"worker-{i}")


asyncio.run(main())
