# SPDX-License-Identifier: GPL-2.0-only
# CPython: process inspection (inspect.c: finding the interpreter, its
# version and layout).  Its records are decoded by runtimes/decode.c; the
# walker is bpf/walker.bpf.c.
LIB_SRCS   += runtimes/python/inspect.c
