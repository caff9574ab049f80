# SPDX-License-Identifier: GPL-2.0-only
# The program `make demo` profiles: a toy request handler.  Each request
# renders a JSON document (json, C accelerated), compresses it (zlib, C code
# that releases the GIL), walks a tree recursively and scores words in a
# generator, so the flamegraph shows Python frames, C extension frames and
# recursion side by side.
import json
import sys
import time
import zlib


class Tree:
    def __init__(self, depth):
        self.kids = [Tree(depth - 1) for _ in range(2)] if depth else []

    def size(self):
        return 1 + sum(kid.size() for kid in self.kids)


def words(text):
    for word in text.split():
        yield len(word) * 7 % 13


def render(request_id):
    doc = {"id": request_id, "items": [{"n": i, "name": f"item-{i}"} for i in range(400)]}
    return json.dumps(doc).encode()


def compress(body):
    return zlib.compress(body * 4, 6)


def score(body):
    return sum(words(body.decode()))


def handle_request(request_id, tree):
    body = render(request_id)
    packed = compress(body)
    return len(packed) + score(body) + tree.size()


def serve(seconds):
    tree = Tree(9)
    deadline = time.monotonic() + seconds
    served = 0
    while time.monotonic() < deadline:
        handle_request(served, tree)
        served += 1
    return served


if __name__ == "__main__":
    print(f"demo.py: served {serve(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)} requests")
