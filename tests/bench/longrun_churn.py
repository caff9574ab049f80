# The churning target of tests/bench/longrun.sh, for SECONDS: threads of a
# few milliseconds each, four at a time, each running a function made by
# exec() and then freed (code-object memory reused), and every two seconds
# a short-lived child interpreter (fork and exec).
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "churn"))
from genfunc import make  # noqa: E402


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
