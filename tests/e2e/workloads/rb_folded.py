# SPDX-License-Identifier: GPL-2.0-only
"""Reads rtmerge's folded output for the Ruby e2e tests: each stack as a list
of (function, file, line) with native frames as (name, None, None)."""
import re
import sys

FRAME = re.compile(r"^(.*) \(([^()]*?):(\d+)\)$")
NOLINE = re.compile(r"^(.*) \(([^()]*?\.rb)\)$")


def frames(stack):
    out = []
    for f in stack.split(";"):
        m = FRAME.match(f)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3))))
            continue
        m = NOLINE.match(f)
        out.append((m.group(1), m.group(2), 0) if m else (f, None, None))
    return out


def read(path):
    """Yields (root, frames, count) per folded line."""
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, count = line.rsplit(" ", 1)
        fr = frames(stack)
        yield fr[0][0], fr[1:], int(count)


def ruby_only(fr, script):
    """The frames that are Ruby's: script frames and C methods (Class#m)."""
    return [f for f in fr if f[1] is not None or "#" in f[0] or re.match(r"^[A-Z]\w*(::\w+)*\.\w", f[0])]


if __name__ == "__main__":
    for root, fr, n in read(sys.argv[1]):
        print(n, root, fr)
