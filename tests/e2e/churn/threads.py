# 1,000 short-lived threads, a few at a time, each spinning ~3 ms in one of
# seven functions; each writes "native_id k" so the test can check that a
# sample's thread ran the function it names.
import sys
import threading
import time

def spin(ms):
    t = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < t:
        pass

def work_0(): spin(3)
def work_1(): spin(3)
def work_2(): spin(3)
def work_3(): spin(3)
def work_4(): spin(3)
def work_5(): spin(3)
def work_6(): spin(3)
WORK = [work_0, work_1, work_2, work_3, work_4, work_5, work_6]

out = open(sys.argv[1], "w")
lock = threading.Lock()

def body(k):
    with lock:
        out.write("%d %d\n" % (threading.get_native_id(), k))
    WORK[k]()

n = int(sys.argv[2])
for start in range(0, n, 4):
    ts = [threading.Thread(target=body, args=(k % 7,)) for k in range(start, min(n, start + 4))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
out.close()
