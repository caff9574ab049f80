# SPDX-License-Identifier: GPL-2.0-only
# The ground truth of tests/e2e/trace_py.sh: recursion, a class method, a
# generator, a call of a function from C (map), a write to stdout; each
# run the same.  With --settrace it records its own calls, returns and
# lines with sys.settrace into the file named next.
import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


class Counter:
    def __init__(self, start):
        self.value = start

    def bump(self, by, label="x"):
        self.value += by
        return self.value

    @classmethod
    def make(cls, start):
        return cls(start)


def squares(limit):
    for i in range(limit):
        yield i * i


def double(x): return 2 * x


def main():
    total = fib(6)
    c = Counter.make(3)
    for k in range(3):
        c.bump(k, "step")
    for s in squares(4):
        total += s
    total += sum(map(double, [1.5, 2, 3]))
    sys.stdout.write("total %s %d\n" % (total, c.value))
    sys.stdout.flush()
    return total


def tracer(out, own):
    def trace(frame, event, arg):
        if frame.f_code.co_filename == own:
            # a call's line is its def line, also when a generator resumes
            line = frame.f_code.co_firstlineno if event == "call" else frame.f_lineno
            # co_qualname from 3.11 on; before, co_name (what rt-bpf names)
            name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
            out.append("%s %s %s %d" % (event, name, frame.f_code.co_firstlineno, line))
        return trace
    return trace


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--settrace":
        log = []
        sys.settrace(tracer(log, __file__))
        main()
        sys.settrace(None)
        with open(sys.argv[2], "w") as f:
            f.write("\n".join(log) + "\n")
    else:
        main()
