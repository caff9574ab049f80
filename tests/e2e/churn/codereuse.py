# Functions made by exec() in a loop, each in its own pseudo-file, used once
# and freed: the memory of one code object is soon another's.  A sample
# naming func_I must name gen_I.py too.
import sys
import time

def make(i):
    src = ("def func_%d():\n"
           "    t = perf_counter() + 0.003\n"
           "    while perf_counter() < t:\n"
           "        pass\n") % i
    ns = {"perf_counter": time.perf_counter}
    exec(compile(src, "gen_%d.py" % i, "exec"), ns)
    return ns["func_%d" % i]

end = time.time() + float(sys.argv[1])
i = 0
while time.time() < end:
    f = make(i)
    f()
    del f
    i += 1
print("functions", i)
