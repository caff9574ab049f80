# SPDX-License-Identifier: GPL-2.0-only
# CPython: process inspection (inspect.c: finding the interpreter, its
# version and layout) and record decoding (decode.c: code objects, line
# tables, stacks), asyncio's tasks and step functions (asyncio.c, for rt-bpf
# async) and call recovery from the frame chains `rt-bpf trace` sends
# (frames.c) and the cheap values of its arguments and return values
# (value.c), and the task lists of 3.14+ read from outside (asyncps.c, for
# rt-bpf async --ps); the walker is bpf/walker.bpf.c.
LIB_SRCS   += runtimes/python/inspect.c runtimes/python/decode.c runtimes/python/asyncio.c \
              runtimes/python/asyncps.c runtimes/python/frames.c runtimes/python/value.c
UNIT_TESTS += asyncio pyframes pyvalue
