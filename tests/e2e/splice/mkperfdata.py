#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes a pipe-mode perf.data with cpu-clock samples and rt-bpf
bpf-output samples (record format of bpf/record.h, version 1) whose native
callchains point into a real shared library, for the splice test.

usage: mkperfdata.py LIB OUT [--inline-eval | --offcpu | --ksymbol | --lost]
(LIB's function offsets come from `nm`)

--offcpu writes what rt-bpf record --off-cpu records instead: cpu-clock and
sched:sched_switch samples of one thread with their stack records, a switch
out whose walk wrote no record (as a thread starts) among them.

--lost writes cpu-clock samples each followed by its stack record, one
sample lost (perf's buffer full) but not its record.

--ksymbol writes samples in BPF programs that perf's KSYMBOL records name:
one program unloaded and another loaded at its address in between."""
import re
import struct
import subprocess
import sys

PERF_RECORD_MMAP2, PERF_RECORD_COMM, PERF_RECORD_SAMPLE = 10, 3, 9
PERF_RECORD_KSYMBOL, KSYMBOL_TYPE_BPF, KSYMBOL_UNREGISTER = 17, 1, 1
HEADER_ATTR, FINISHED_ROUND, HEADER_FEATURE = 64, 68, 80
FEAT_EVENT_DESC = 12
TYPE_SOFTWARE, TYPE_TRACEPOINT = 1, 2
STACK_OFFCPU, STACK_CHAIN_KEEP = 1 << 2, 1 << 9
S_IP, S_TID, S_TIME, S_CPU, S_PERIOD, S_CALLCHAIN, S_RAW, S_IDENT = 1, 2, 4, 128, 256, 32, 1024, 1 << 16
SAMPLE_TYPE = S_IDENT | S_IP | S_TID | S_TIME | S_CPU | S_PERIOD | S_CALLCHAIN | S_RAW
CTX_USER, CTX_KERNEL = (1 << 64) - 512, (1 << 64) - 128
MAGIC, VERSION = 0x52545042, 1
BASE = 0x7f0000000000
# cpu-clock every 10 ns of these times: a sample and its record (1 ns apart)
# are of one overflow, a record and the next sample are not
PERIOD = 10


def pad8(b):
    return b + b'\0' * (-len(b) % 8)


def record(rtype, body, misc=0):
    body = pad8(body)
    return struct.pack('<IHH', rtype, misc, 8 + len(body)) + body


def attr_bytes(config, etype=TYPE_SOFTWARE, sample_type=SAMPLE_TYPE, period=1):
    # struct perf_event_attr, 128 bytes (PERF_ATTR_SIZE_VER7)
    a = struct.pack('<IIQQQQQ', etype, 128, config, period, sample_type, 0, 1 << 18)  # sample_id_all
    return a + b'\0' * (128 - len(a))


def attr(config, ids, etype=TYPE_SOFTWARE, sample_type=SAMPLE_TYPE, period=1):
    return record(HEADER_ATTR, attr_bytes(config, etype, sample_type, period) +
                  b''.join(struct.pack('<Q', i) for i in ids))


def event_desc(events):
    # HEADER_FEATURE EVENT_DESC: (config, type, name, ids) per event
    body = struct.pack('<II', len(events), 128)
    for config, etype, name, ids in events:
        text = pad8(name.encode() + b'\0')
        body += attr_bytes(config, etype) + struct.pack('<II', len(ids), len(text)) + text
        body += b''.join(struct.pack('<Q', i) for i in ids)
    return record(HEADER_FEATURE, struct.pack('<Q', FEAT_EVENT_DESC) + body)


def trailer(pid, tid, time, ident):
    return struct.pack('<IIQIIQ', pid, tid, time, 0, 0, ident)


def comm(pid, name, time):
    return record(PERF_RECORD_COMM, struct.pack('<II', pid, pid) + pad8(name.encode() + b'\0') +
                  trailer(pid, pid, time, 1), misc=1 << 13)


def mmap2(pid, start, length, path, time):
    body = struct.pack('<IIQQQIIQQII', pid, pid, start, length, 0, 0, 0, 0, 0, 5, 2)
    return record(PERF_RECORD_MMAP2, body + pad8(path.encode() + b'\0') +
                  trailer(pid, pid, time, 1), misc=2)


def sample(ident, pid, tid, time, chain, raw=None, cpu=0):
    # chain None: the event records no callchain (rt-bpf record's channel)
    body = struct.pack('<QQIIQIIQ', ident, chain[0] if chain else 0, pid, tid, time, cpu, 0, PERIOD)
    if chain is not None:
        ips = [CTX_USER] + chain
        body += struct.pack('<Q', len(ips)) + b''.join(struct.pack('<Q', ip) for ip in ips)
    raw = raw or b''
    body += pad8(struct.pack('<I', len(raw)) + raw)
    return record(PERF_RECORD_SAMPLE, body, misc=2)


def ksymbol(addr, length, name, time, unregister=False):
    body = struct.pack('<QIHH', addr, length, KSYMBOL_TYPE_BPF, KSYMBOL_UNREGISTER if unregister else 0)
    return record(PERF_RECORD_KSYMBOL, body + pad8(name.encode() + b'\0') +
                  trailer(0, 0, time, 1))


def kernel_sample(pid, time, kernel, user):
    body = struct.pack('<QQIIQIIQ', 1, kernel[0], pid, pid, time, 0, 0, PERIOD)
    ips = [CTX_KERNEL] + kernel + [CTX_USER] + user
    body += struct.pack('<Q', len(ips)) + b''.join(struct.pack('<Q', ip) for ip in ips)
    body += pad8(struct.pack('<I', 0))
    return record(PERF_RECORD_SAMPLE, body, misc=1)


def ksymbol_records(ip):
    """Program first at X, unloaded; second loaded at X: a sample in each."""
    x = 0xffffffffc0001000
    recs = [ksymbol(x, 0x100, 'bpf_prog_1111111111111111_first', 20)]
    recs.append(kernel_sample(2000, 30, [x + 0x10], [ip['fake_main']]))
    recs.append(ksymbol(x, 0x100, 'bpf_prog_1111111111111111_first', 40, unregister=True))
    recs.append(ksymbol(x, 0x80, 'bpf_prog_2222222222222222_second', 50))
    recs.append(kernel_sample(2000, 60, [x + 0x10], [ip['fake_main']]))
    recs.append(kernel_sample(2000, 61, [x + 0x10], [ip['fake_main']]))
    return recs


def rstring(text):
    data = text.encode()
    return struct.pack('<IIII', len(data), 1, len(data), 1) + data.ljust(256, b'\0')


def tag_of(code, firstlineno, name):
    m = (1 << 64) - 1
    h = (code * 0x9e3779b97f4a7c15) & m
    h ^= (firstlineno * 0xc2b2ae3d27d4eb4f) & m
    h ^= (name * 0x165667b19e3779f9) & m
    h ^= h >> 29
    h = (h * 0xbf58476d1ce4e5b9) & m
    h ^= h >> 32
    return h & 0xffffff


def linetable(delta):
    # One "no column" entry covering 8 code units: line = firstlineno + delta.
    return bytes([0x80 | (13 << 3) | 7, delta << 1])


def code_rec(pid, code, name_ptr, name, qualname, filename, firstlineno, delta):
    lt = linetable(delta)
    body = struct.pack('<IIQIIIIII', pid, tag_of(code, firstlineno, name_ptr), code, 1, 0x030b07,
                       firstlineno, 0, len(lt), len(lt))
    body += rstring(name) + rstring(qualname) + rstring(filename) + lt.ljust(2048, b'\0')
    return struct.pack('<IIII', MAGIC, VERSION, 2, 16 + len(body)) + body


def stack_rec(pid, tid, frames, flags=0):
    # frames: (code, name_ptr, firstlineno, lasti, entry) leaf first
    body = struct.pack('<IIIIIIQ', pid, tid, 1, 0x030b07, len(frames), flags, 0)
    for code, name_ptr, first, lasti, entry in frames:
        fl = (1 if entry else 0) | (tag_of(code, first, name_ptr) << 8)
        body += struct.pack('<QII', code, lasti, fl)
    return struct.pack('<IIII', MAGIC, VERSION, 1, 16 + len(body)) + body


def offcpu_rec(pid, tid, start, end, state=1):
    body = struct.pack('<IIQQIIII', pid, tid, start, end, 0, state, 0, 0)
    return struct.pack('<IIII', MAGIC, VERSION, 4, 16 + len(body)) + body


def offcpu_records(ip, frames_x, frames_y, py):
    """Samples of thread @py, in time order as perf writes them: a switch
    out without its stack record (on CPU 1, as a thread starts), then on
    CPU 0 two with theirs (the record first: the tracepoint's program runs
    before perf writes the sample) and between them an on-CPU sample (its
    record after it).  Each switch's interval record comes as the thread
    runs again, on the CPU it runs on; the second comes before anything
    else of CPU 1."""
    recs, t = [], 200
    recs.append(sample(3, py, py, t, [ip['PyObject_Vectorcall'], ip['fake_main']], cpu=1))
    recs.append(sample(2, py, py, t + 20, None, offcpu_rec(py, py, t - 1, t + 20)))
    recs.append(sample(2, py, py, t + 100, None,
                       stack_rec(py, py, frames_x, STACK_OFFCPU | STACK_CHAIN_KEEP)))
    recs.append(sample(3, py, py, t + 101, [ip['deflate'], ip['fake_main']]))
    recs.append(sample(2, py, py, t + 130, None, offcpu_rec(py, py, t + 99, t + 130)))
    recs.append(sample(1, py, py, t + 150, [ip['zlib_compress'], ip['fake_main']]))
    recs.append(sample(2, py, py, t + 151, None, stack_rec(py, py, frames_x)))
    recs.append(sample(2, py, py, t + 200, None,
                       stack_rec(py, py, frames_y, STACK_OFFCPU | STACK_CHAIN_KEEP | (1 << 7))))
    recs.append(sample(3, py, py, t + 201, [ip['deflate'], ip['zlib_compress'],
                                            ip['_PyEval_EvalFrameDefault'], ip['fake_main']]))
    recs.append(sample(2, py, py, t + 260, None, offcpu_rec(py, py, t + 199, t + 260)))
    return recs


def lost_records(ip, frames_x, frames_y, py):
    """cpu-clock samples of thread @py, each followed by its stack record
    (the walk writes it after perf writes the sample), stacks X and Y in
    turn; the sample at 330 lost (perf's buffer full), its record not."""
    recs, t = [], 300
    for i in range(8):
        x = i % 2 == 0
        chain = ([ip['deflate'], ip['zlib_compress'], ip['fake_main']] if x else
                 [ip['PyObject_Vectorcall'], ip['fake_main']])
        if t != 330:
            recs.append(sample(1, py, py, t, chain))
        recs.append(sample(2, py, py, t + 1, None, stack_rec(py, py, frames_x if x else frames_y)))
        t += 10
    return recs


def main():
    lib, out = sys.argv[1], sys.argv[2]
    syms = {}
    for line in subprocess.check_output(['nm', '--defined-only', lib], text=True).splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    # Shared libraries from GNU ld map file offset == virtual address.
    inline_eval = '--inline-eval' in sys.argv[3:]
    names = ['deflate', 'zlib_compress', 'PyObject_Vectorcall', 'fake_main']
    if not inline_eval:
        names.append('_PyEval_EvalFrameDefault')
    ip = {name: BASE + syms[name] + 4 for name in names}
    if inline_eval:
        # The eval loop is inlined: the callers' addresses are inside their
        # first call instruction, which belongs to the inlined eval loop.
        fn = None
        for line in subprocess.check_output(['objdump', '-d', lib], text=True).splitlines():
            m = re.match(r'^[0-9a-f]+ <(\w+)>:', line)
            if m:
                fn = m.group(1)
            elif fn in ('PyObject_Vectorcall', 'fake_main') and '\tcall' in line:
                ip[fn] = BASE + int(line.split(':')[0], 16) + 1
                fn = None
    A = (0x1000, 0xa0, 1)    # <module>, firstlineno 1
    B = (0x2000, 0xb0, 10)   # handle
    C = (0x3000, 0xc0, 20)   # compress_it
    py = 1000
    offcpu = '--offcpu' in sys.argv[3:]
    lost = '--lost' in sys.argv[3:]
    recs = [struct.pack('<QQ', 0x32454c4946524550, 16), attr(0, [1], period=PERIOD),
            attr(10, [2], sample_type=SAMPLE_TYPE & ~S_CALLCHAIN if offcpu or lost else SAMPLE_TYPE)]
    if offcpu:
        recs += [attr(0x13c, [3], TYPE_TRACEPOINT),
                 event_desc([(0, TYPE_SOFTWARE, 'cpu-clock', [1]), (10, TYPE_SOFTWARE, 'rt', [2]),
                             (0x13c, TYPE_TRACEPOINT, 'sched:sched_switch', [3])])]
    recs += [comm(py, 'python3', 10), mmap2(py, BASE, 0x100000, lib, 11), comm(2000, 'native', 12),
            mmap2(2000, BASE, 0x100000, lib, 13)]
    if '--ksymbol' in sys.argv[3:]:
        recs += ksymbol_records(ip)
        recs.append(record(FINISHED_ROUND, b''))
        with open(out, 'wb') as f:
            f.write(b''.join(recs))
        return
    t = 100
    for code, name_ptr, first, name, qual, fname, delta in (
            (A[0], A[1], A[2], '<module>', '<module>', '/srv/app/main.py', 2),
            (B[0], B[1], B[2], 'handle', 'Handler.handle', '/srv/app/views.py', 2),
            (C[0], C[1], C[2], 'compress_it', 'compress_it', '/srv/app/views.py', 2)):
        recs.append(sample(2, py, py, t, None if offcpu or lost else [ip['fake_main']],
                           code_rec(py, code, name_ptr, name, qual, fname, first, delta)))
        t += 1
    frames = [(C[0], C[1], C[2], 4, True), (B[0], B[1], B[2], 4, False), (A[0], A[1], A[2], 4, True)]
    if lost:
        recs += lost_records(ip, frames, frames[1:], py)
        recs.append(record(FINISHED_ROUND, b''))
        with open(out, 'wb') as f:
            f.write(b''.join(recs))
        return
    if offcpu:
        recs += offcpu_records(ip, frames[1:], [(C[0], C[1], C[2], 4, False)] + frames[1:], py)
        recs.append(record(FINISHED_ROUND, b''))
        with open(out, 'wb') as f:
            f.write(b''.join(recs))
        return
    if inline_eval:
        for _ in range(5):
            recs.append(sample(2, py, py, t, [ip['deflate'], ip['zlib_compress'],
                                              ip['PyObject_Vectorcall'], ip['fake_main']],
                               stack_rec(py, py, frames)))
            t += 1
        recs.append(record(FINISHED_ROUND, b''))
        with open(out, 'wb') as f:
            f.write(b''.join(recs))
        return
    full = [ip['deflate'], ip['zlib_compress'], ip['_PyEval_EvalFrameDefault'],
            ip['PyObject_Vectorcall'], ip['_PyEval_EvalFrameDefault'], ip['fake_main']]
    for _ in range(5):   # spliced: two eval loops, two groups
        recs.append(sample(2, py, py, t, full, stack_rec(py, py, frames)))
        t += 1
    for _ in range(2):   # a third eval loop, setting up a frame not yet running
        recs.append(sample(2, py, py, t, [ip['_PyEval_EvalFrameDefault'], ip['zlib_compress']] +
                           full[2:],
                           stack_rec(py, py, frames)))
        t += 1
    for _ in range(3):   # broken native chain: no eval loop recovered
        recs.append(sample(2, py, py, t, [ip['deflate'], 0x1234], stack_rec(py, py, frames)))
        t += 1
    for _ in range(2):   # truncated walk
        recs.append(sample(2, py, py, t, full, stack_rec(py, py, frames, flags=1)))
        t += 1
    for _ in range(2):   # a walk stopped by a read fault
        recs.append(sample(2, py, py, t, full, stack_rec(py, py, frames, flags=2)))
        t += 1
    # The code object at 0x3000 is freed and another one takes its address.
    recs.append(sample(2, py, py, t, [ip['fake_main']],
                       code_rec(py, 0x3000, 0xd0, 'other', 'other', '/srv/app/other.py', 30, 1)))
    t += 1
    stale = [(C[0], C[1], C[2], 4, True), (B[0], B[1], B[2], 4, False), (A[0], A[1], A[2], 4, True)]
    recs.append(sample(2, py, py, t, full, stack_rec(py, py, stale)))
    t += 1
    for _ in range(4):   # a process without Python: perf's own sample
        recs.append(sample(1, 2000, 2000, t, [ip['deflate'], ip['zlib_compress'], ip['fake_main']]))
        t += 1
    recs.append(record(FINISHED_ROUND, b''))
    with open(out, 'wb') as f:
        f.write(b''.join(recs))


if __name__ == '__main__':
    main()
