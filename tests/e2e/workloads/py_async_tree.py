# SPDX-License-Identifier: GPL-2.0-only
# Ground truth of `rt-bpf async --ps`: tasks with known names in a known
# await tree, all waiting for an event that never comes.
#   Task-1 main -> (TaskGroup) fanout, sleeper, idle-0, idle-1
#   fanout -> (gather) mid-0..mid-2;  mid-N -> leaf-N (awaits the task)
import asyncio
import sys


async def leaf(ev):
    await ev.wait()


async def mid(ev, n):
    await asyncio.create_task(leaf(ev), name=f"leaf-{n}")


async def fanout(ev):
    await asyncio.gather(*(asyncio.create_task(mid(ev, i), name=f"mid-{i}") for i in range(3)))


async def sleeper():
    await asyncio.sleep(3600)


async def main():
    ev = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(fanout(ev), name="fanout")
        tg.create_task(sleeper(), name="sleeper")
        for i in range(2):
            tg.create_task(leaf(ev), name=f"idle-{i}")
        await asyncio.sleep(0.2)
        print("ready", flush=True)


asyncio.run(main())
