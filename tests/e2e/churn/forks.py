# fork without exec: the child spins in child_spin, the parent in
# parent_spin, each ~1 s; the same code, two processes, each walked alone.
import os
import sys
import time

def spin(secs):
    t = time.perf_counter() + secs
    while time.perf_counter() < t:
        pass

def child_spin(secs): spin(secs)
def parent_spin(secs): spin(secs)

secs = float(sys.argv[1])
pid = os.fork()
if pid == 0:
    child_spin(secs)
    os._exit(0)
parent_spin(secs)
os.waitpid(pid, 0)
