# The Python process whose pid a Ruby process takes next.
import sys
import time

def python_spin(secs):
    t = time.perf_counter() + secs
    while time.perf_counter() < t:
        pass

python_spin(float(sys.argv[1]))
