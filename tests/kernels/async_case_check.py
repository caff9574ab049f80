# SPDX-License-Identifier: GPL-2.0-only
"""The kernel guests' check of rt-bpf async on an async ground truth
(tests/kernels/cases.sh async, tokio): every sleep of the blocker that
came after rt-bpf attached is found as a blocking step with its stack
(asyncio: the blocker's frame as the leaf; tokio: the native stack through
the blocker's future down to _start).  Under emulation other steps may run
long too, so only the blocker's sleeps are asserted.

    async_case_check.py async|tokio JSON LOG
"""
import json
import sys

name, report, log = sys.argv[1:4]
rep = json.load(open(report))
# under emulation rt-bpf may still be attaching when the first sleeps come
starts = [int(l.split()[1]) for l in open(log) if l.startswith("block ")]
after = [t for t in starts if t > rep["attached_ns"] + 50000000]  # its step began after too
if name == "tokio":
    found = [b for b in rep["blocking"] + rep["preempted"] if b["kind"] == "tokground::blocker" and
             any("tokground::blocker" in f for f in b["stack"]) and
             any(f.startswith("_start ") for f in b["stack"])]
    print(f"tokio: {len(found)} of the {len(after)} sleeps after attaching (of {len(starts)}) "
          f"found as blocking polls with their native stack, "
          f"{rep['counters']['native_stacks']} stacks copied")
else:
    found = [b for b in rep["blocking"] + rep["preempted"] if b["kind"] == "blocker" and
             b["stack"] and b["stack"][0].startswith("blocker (")]
    print(f"async: {len(found)} of the {len(after)} sleeps after attaching (of {len(starts)}) "
          f"found as blocking steps with their stack, {rep['counters']['steps']} steps")
sys.exit(0 if len(starts) == 10 and len(after) >= 5 and len(found) >= len(after) else 1)
