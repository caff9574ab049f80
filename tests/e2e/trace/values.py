# SPDX-License-Identifier: GPL-2.0-only
# The reference for the values of tests/e2e/trace_fallback_old.sh: runs
# main() of truth.py or gens.py under sys.settrace and prints, for the
# functions of that file, "call NAME ARG=VALUE..." (the first six
# parameters, as the frame holds them at the call) and "return NAME VALUE"
# (a frame left by an exception: <exception>), values as rt-bpf records
# them: int and bool within 60 bits, float, None, ASCII str of up to 64
# characters; anything else <typename>.  Runs on 2.7 and 3.x.
#   values.py MODULE OUT
import sys


def show(v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "True" if v else "False"
    if type(v) is int and -(1 << 60) < v < (1 << 60):
        return "%d" % v
    if type(v) is float:
        return repr(v)
    if type(v) is str and len(v) <= 64 and all(ord(c) < 128 for c in v):
        return v
    return "<%s>" % type(v).__name__


def record(log, own):
    raising = set()

    def trace(frame, event, arg):
        code = frame.f_code
        if code.co_filename != own:
            return trace
        if event == "call":
            names = code.co_varnames[:code.co_argcount + getattr(code, "co_kwonlyargcount", 0)][:6]
            log.append("call %s %s" % (code.co_name, " ".join(
                "%s=%s" % (n, show(frame.f_locals.get(n))) for n in names)))
            raising.discard(frame)
        elif event == "exception":
            raising.add(frame)
        elif event == "line":
            raising.discard(frame)
        elif event == "return":
            # left by an exception: an exception event without a line
            # after it, and no value (a for loop's StopIteration has one)
            gone = frame in raising and arg is None
            log.append("return %s %s" % (code.co_name, "<exception>" if gone else show(arg)))
            raising.discard(frame)
        return trace
    return trace


if __name__ == "__main__":
    mod = __import__(sys.argv[1])
    log = []
    sys.settrace(record(log, mod.__file__.replace(".pyc", ".py")))
    try:
        mod.main()
    finally:
        sys.settrace(None)
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(log) + "\n")
