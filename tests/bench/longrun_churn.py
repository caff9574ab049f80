# The churning target of tests/bench/longrun.sh, for SECONDS: threads of a
# few milliseconds each, four at a time, each running a function made by
# exec() and then freed (code-object memory reused), and every two seconds
# a short-lived child interpreter (fork and exec).
import subprocess
import sys
import threading
import time


def make(i):
    src = ("def func_%d():\n"
           "    t = perf_counter() + 0.003\n"
           "    while perf_counter() < t:\n"
           "        pass\n") % i
    ns = {"perf_counter": time.perf_counter}
    exec(compile(src, "gen_%d.py" % i, "exec"), ns)
    return ns["func_%d" % i]


def main(seconds):
    end = time.monotonic() + seconds
    next_child = time.monotonic()
    i = threads = children = 0
    while time.monotonic() < end:
        batch = [threading.Thread(target=make(i + k)) for k in range(4)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
        i += 4
        threads += 4
        if time.monotonic() >= next_child:
            subprocess.run([sys.executable, "-c", "sum(range(200000))"], check=True)
            children += 1
            next_child += 2.0
        time.sleep(0.002)
    print("threads %d children %d functions %d" % (threads, children, i))


main(float(sys.argv[1]))
