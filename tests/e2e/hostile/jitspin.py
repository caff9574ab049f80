# SPDX-License-Identifier: GPL-2.0-only
"""A tiny JIT: copies a counting loop into anonymous executable memory,
writes /tmp/perf-PID.map (PID as this process sees itself) naming it
jit_spin, prints "ready" and calls it forever."""
import ctypes
import mmap
import os
import sys

# mov rcx, 200000000; 1: dec rcx; jnz 1b; ret
CODE = bytes.fromhex('48c7c100c2eb0b48ffc975fbc3')
mem = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
mem.write(CODE)
addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
with open('/tmp/perf-%d.map' % os.getpid(), 'w') as f:
    f.write('%x %x jit_spin\n' % (addr, len(CODE)))
print('ready', os.getpid(), flush=True)
spin = ctypes.CFUNCTYPE(None)(addr)
while True:
    spin()
