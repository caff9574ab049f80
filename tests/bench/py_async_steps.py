# SPDX-License-Identifier: GPL-2.0-only
# A step-heavy asyncio workload for tests/bench/async_overhead.sh: TASKS
# tasks each take STEPS steps (await asyncio.sleep(0): a bare yield, one
# step each time).  Waits half a second first (the tracer attaches after
# `import asyncio`), then prints "steps WALL_S CPU_S" of the stepping alone.
import asyncio
import sys
import time

TASKS, STEPS = int(sys.argv[1]), int(sys.argv[2])


async def tiny():
    for _ in range(STEPS):
        await asyncio.sleep(0)


async def main():
    await asyncio.sleep(0.5)
    w0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(tiny() for _ in range(TASKS)))
    print(TASKS * (STEPS + 1), time.perf_counter() - w0, time.process_time() - c0)


asyncio.run(main())
