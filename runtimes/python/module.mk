# SPDX-License-Identifier: GPL-2.0-only
# CPython: process inspection (inspect.c: finding the interpreter, its
# version and layout) and record decoding (decode.c: code objects, line
# tables, stacks), asyncio's tasks and step functions (asyncio.c, for rt-bpf
# async) and call recovery from the frame chains `rt-bpf trace` sends
# (frames.c); the walker is bpf/walker.bpf.c.
LIB_SRCS   += runtimes/python/inspect.c runtimes/python/decode.c runtimes/python/asyncio.c runtimes/python/asyncps.c \
              runtimes/python/frames.c
UNIT_TESTS += asyncio pyframes
