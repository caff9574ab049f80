# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for rt-bpf async: one task blocks its event loop with
# time.sleep BLOCK_S every PERIOD_S, NR_LIGHT light tasks wake on timers,
# one task runs CPU slices of SLICE_S (shorter than the threshold) between
# awaits.  Writes each blocking sleep as "block START_NS DURATION_NS"
# (CLOCK_MONOTONIC, as the tracer's times) to the file argv[1]; the blocker
# starts after argv[2] seconds (0.5 by default: the tracer attaches after
# `import asyncio`).
import asyncio
import random
import sys
import time

BLOCK_S, PERIOD_S, NR_BLOCKS = 0.06, 0.25, 10
NR_LIGHT, SLICE_S = 300, 0.002


async def blocker(log):
    await asyncio.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
    for _ in range(NR_BLOCKS):
        t0 = time.monotonic_ns()
        time.sleep(BLOCK_S)
        log.write(f"block {t0} {time.monotonic_ns() - t0}\n")
        await asyncio.sleep(PERIOD_S - BLOCK_S)


async def light():
    while True:
        await asyncio.sleep(random.uniform(0.02, 0.1))


async def cpu_slices():
    while True:
        end = time.perf_counter() + SLICE_S
        n = 0
        while time.perf_counter() < end:
            n += 1
        await asyncio.sleep(0.005)


async def main():
    with open(sys.argv[1], "w") as log:
        others = [asyncio.create_task(light()) for _ in range(NR_LIGHT)]
        others.append(asyncio.create_task(cpu_slices()))
        await asyncio.create_task(blocker(log))
        for t in others:
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)


asyncio.run(main())
