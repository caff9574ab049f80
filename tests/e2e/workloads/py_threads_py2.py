# SPDX-License-Identifier: GPL-2.0-only
# py_threads.py for every CPython from 2.7 on (threading.get_native_id is
# 3.8+: the kernel tid comes from gettid through ctypes; the GIL-releasing
# thread reads /dev/urandom).  Prints "tid name" per thread.
import ctypes
import os
import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
clock = getattr(time, "monotonic", time.time)
libc = ctypes.CDLL(None, use_errno=True)
SYS_GETTID = 186  # x86_64


def spin(deadline):
    n = 0
    while clock() < deadline:
        n += 1
    return n


def worker_alpha(deadline):
    return spin(deadline)


def worker_beta(deadline):
    return spin(deadline)


def worker_gamma(deadline):
    return spin(deadline)


def sleeper_delta(deadline):
    while clock() < deadline:
        time.sleep(0.001)


def hasher_epsilon(deadline):
    # hashlib may be the GIL-holding builtin _sha256 (2.7 without OpenSSL's
    # _hashlib): read from the kernel's random generator instead, which
    # releases the GIL on every Python
    fd = os.open("/dev/urandom", os.O_RDONLY)
    while clock() < deadline:
        os.read(fd, 1 << 20)  # HASH_LINE: GIL released while hashing (in the kernel)
    os.close(fd)


def run(fn, deadline):
    sys.stdout.write("%d %s\n" % (libc.syscall(SYS_GETTID), fn.__name__))
    sys.stdout.flush()
    fn(deadline)


def main():
    deadline = clock() + SECONDS
    threads = [threading.Thread(target=run, args=(fn, deadline))
               for fn in (worker_alpha, worker_beta, worker_gamma, sleeper_delta,
                          hasher_epsilon)]
    for t in threads:
        t.start()
    sys.stdout.write("%d main\n" % libc.syscall(SYS_GETTID))
    sys.stdout.flush()
    for t in threads:
        t.join()


main()
