# SPDX-License-Identifier: GPL-2.0-only
"""Share of a PNG screenshot's pixels that show coloured flamegraph frames.

png_fill.py FILE.png prints "coloured grey" fractions: pixels whose colour
is saturated (frames of every kind but unresolved ones), and grey frame
pixels (unresolved frames, 150-215 on all channels, no saturation).  The
background gradient (#eeeeee to #eeeeb0) and text are neither.  Reads
8-bit RGB or RGBA PNGs, as chromium writes them, with the standard library
only.
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("%s: not a PNG" % path)
    pos, idat = 8, b""
    width = height = channels = None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit("%s: unsupported PNG (depth %d type %d)" % (path, depth, ctype))
            channels = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, channels, rows


def main():
    width, height, channels, rows = read_png(sys.argv[1])
    coloured = grey = 0
    for line in rows:
        for x in range(0, width * channels, channels):
            r, g, b = line[x], line[x + 1], line[x + 2]
            if max(r, g, b) - min(r, g, b) > 60:
                coloured += 1
            elif 150 <= min(r, g, b) and max(r, g, b) <= 215 and max(r, g, b) - min(r, g, b) < 8:
                grey += 1
    total = width * height
    print("%.4f %.4f" % (coloured / total, grey / total))


if __name__ == "__main__":
    main()
