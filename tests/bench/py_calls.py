# SPDX-License-Identifier: GPL-2.0-only
# A call-heavy workload for tests/bench/trace_overhead.sh: fib(N) by plain
# recursion (each call three or four lines).  Prints the computation's wall
# time in seconds; with --settrace, under a sys.settrace recorder that keeps
# every event in a list (what an in-process trace recorder does at least);
# with --setprofile, under a sys.setprofile recorder (calls and returns, no
# lines: what rt-bpf trace's uprobe fallback records).
import sys
import time

clock = getattr(time, "perf_counter", time.time)  # 2.7 has no perf_counter


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    n = int(sys.argv[1])
    log = []

    def trace(frame, event, arg):
        log.append((event, frame.f_code, frame.f_lineno))
        return trace

    def profile(frame, event, arg):
        log.append((event, frame.f_code))

    t0 = clock()
    if len(sys.argv) > 2 and sys.argv[2] == "--settrace":
        sys.settrace(trace)
    if len(sys.argv) > 2 and sys.argv[2] == "--setprofile":
        sys.setprofile(profile)
    fib(n)
    sys.settrace(None)
    sys.setprofile(None)
    print("%.4f %d" % (clock() - t0, len(log)))


main()
