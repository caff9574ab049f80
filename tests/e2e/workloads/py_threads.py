# SPDX-License-Identifier: GPL-2.0-only
# Several threads, each spinning in its own function, one of them inside a C
# call that releases the GIL (hashing); the main thread waits in join().  Prints "tid name" per thread so a test can check
# that every sample's frames belong to the thread that was sampled.
import hashlib
import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


def spin(deadline):
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


def worker_alpha(deadline):
    return spin(deadline)


def worker_beta(deadline):
    return spin(deadline)


def worker_gamma(deadline):
    return spin(deadline)


def sleeper_delta(deadline):
    while time.monotonic() < deadline:
        time.sleep(0.001)


def hasher_epsilon(deadline):
    data = b"x" * (1 << 22)  # 4 MiB: hashes long enough for many samples each
    while time.monotonic() < deadline:
        hashlib.sha256(data).digest()  # GIL released while hashing


def run(fn, deadline):
    # one write per line: print() writes the parts separately
    sys.stdout.write(f"{threading.get_native_id()} {fn.__name__}\n")
    sys.stdout.flush()
    fn(deadline)


def main():
    deadline = time.monotonic() + SECONDS
    threads = [threading.Thread(target=run, args=(fn, deadline))
               for fn in (worker_alpha, worker_beta, worker_gamma, sleeper_delta,
                         hasher_epsilon)]
    for t in threads:
        t.start()
    sys.stdout.write(f"{threading.get_native_id()} main\n")
    sys.stdout.flush()
    for t in threads:
        t.join()


main()
