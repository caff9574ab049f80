# SPDX-License-Identifier: GPL-2.0-only
# A second ground truth for tests/e2e/trace_fallback.sh: generators run by
# Python code (a for loop, `yield from`, send(), a comprehension), a
# generator function called by C (map), a recursion unwound by an
# exception.  --settrace FILE as in truth.py.
import sys

from truth import tracer


def inner(n):
    for i in range(n):
        yield i
    return n


def outer(n):
    got = yield from inner(n)
    yield got * 10


def fails(k):
    if k > 2:
        raise ValueError(k)
    return fails(k + 1)


def echo():
    total = 0
    while True:
        x = yield total
        if x is None:
            return total
        total += x


def main():
    s = 0
    for v in outer(3):
        s += v
    for v in outer(2):
        s += v if v < 5 else len(list(inner(2)))
    try:
        fails(0)
    except ValueError:
        s += 1
    e = echo()
    next(e)
    for k in range(3):
        s += e.send(k)
    try:
        e.send(None)
    except StopIteration as stop:
        s += stop.value
    s += sum([x * x for x in inner(4)])
    s += sum(sum(g) for g in map(inner, [1, 2]))  # generator functions called by C
    sys.stdout.write("gens %d\n" % s)
    return s


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--settrace":
        log = []
        sys.settrace(tracer(log, __file__))
        try:
            main()
        finally:
            sys.settrace(None)
        with open(sys.argv[2], "w") as f:
            f.write("\n".join(log) + "\n")
    else:
        main()
