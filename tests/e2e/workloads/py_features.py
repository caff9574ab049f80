# SPDX-License-Identifier: GPL-2.0-only
# A C extension, a generator and a class method: main() alternates between
# compress_it(), which spends its time in zlib's deflate (C code, GIL
# released), and Parser.parse(), which drains the generator
# Parser.tokens().  Line numbers are checked by tests: keep them stable.
import sys
import time
import zlib

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


class Parser:
    def tokens(self, data):
        for b in data:
            yield (b * 31) % 7  # YIELD_LINE


    def parse(self, data):
        total = 0
        for tok in self.tokens(data):  # PARSE_LINE
            total += tok
        return total


def compress_it(data):
    return zlib.compress(data, 9)  # COMPRESS_LINE


def make_data(n):
    # text-like bytes that deflate has to work on (not all one byte)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta", b"eta"]
    out, size, x = [], 0, 12345
    while size < n:
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out.append(words[x % len(words)] + bytes([48 + (x >> 8) % 10]))
        size += len(out[-1]) + 1
    return b" ".join(out)


def main():
    blob = make_data(1 << 18)
    parser = Parser()
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        compress_it(blob)  # MAIN_COMPRESS_LINE
        parser.parse(blob)  # MAIN_PARSE_LINE


main()  # MODULE_LINE
