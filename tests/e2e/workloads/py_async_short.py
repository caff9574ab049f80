# SPDX-License-Identifier: GPL-2.0-only
# A short asyncio program (about 1 s: five tasks, 100 sleeps of 10 ms each)
# for tests that start it many times.
import asyncio


async def ticker():
    for _ in range(100):
        await asyncio.sleep(0.01)


async def main():
    await asyncio.gather(*(ticker() for _ in range(5)))


asyncio.run(main())
