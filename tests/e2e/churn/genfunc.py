# Functions made by exec(), each in its own pseudo-file gen_I.py, spinning
# ~3 ms: the churn of tests/e2e/churn/codereuse.py and
# tests/bench/longrun_churn.py, whose code objects are freed after use.
import time


def make(i):
    src = ("def func_%d():\n"
           "    t = perf_counter() + 0.003\n"
           "    while perf_counter() < t:\n"
           "        pass\n") % i
    ns = {"perf_counter": time.perf_counter}
    exec(compile(src, "gen_%d.py" % i, "exec"), ns)
    return ns["func_%d" % i]
