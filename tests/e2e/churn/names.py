# Names no one should print raw: a 5,000-character function name, one with
# a lone surrogate (not encodable as UTF-8), non-ASCII text, and a file name
# with a newline, a tab and an escape character.
import sys
import time

def spin(secs):
    t = time.perf_counter() + secs
    while time.perf_counter() < t:
        pass

src = "def body(secs):\n    spin(secs)\n"
ns = {"spin": spin}
exec(compile(src, "bad\nfile\tname\x1b[31m.py", "exec"), ns)
body = ns["body"]

def renamed(name):
    # 3.11+ frames show co_qualname
    code = body.__code__.replace(co_name=name, co_qualname=name)
    return body.__class__(code, ns)

long_fn = renamed("long_" + "x" * 5000)
sur_fn = renamed("sur\udcffrogate")
uni_fn = renamed("h\u00e9llo_\u6f22\u5b57")
secs = float(sys.argv[1])
for f in (long_fn, sur_fn, uni_fn):
    f(secs / 3)
