# Functions made by exec() in a loop, each in its own pseudo-file, used once
# and freed: the memory of one code object is soon another's.  A sample
# naming func_I must name gen_I.py too.  Module code run by exec() the same
# way: every one is named <module> and starts at line 1, and mod_I.py's
# code sits after I % 40 blank lines, so a sample's line in mod_J.py must
# be J % 40 + 1 to J % 40 + 3.
import sys
import time

from genfunc import make

def run_module(i):
    src = ("\n" * (i % 40) +
           "t = perf_counter() + 0.003\n"
           "while perf_counter() < t:\n"
           "    pass\n")
    exec(compile(src, "mod_%d.py" % i, "exec"), {"perf_counter": time.perf_counter})

end = time.time() + float(sys.argv[1])
i = 0
while time.time() < end:
    f = make(i)
    f()
    del f
    run_module(i)
    i += 1
print("functions", i)
