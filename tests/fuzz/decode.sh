#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bounded libFuzzer run (ASan+UBSan) of rt-bpf's record decoder, seeded with
# valid code and stack records, and with real ones of deep stacks.
# RT_FUZZ_SECONDS sets the budget (20 s).
set -u
top=${RT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RT_BUILD:-$top/build}
secs=${RT_FUZZ_SECONDS:-20}
out=$build/fuzz
source "$top/tests/fuzz/lib.sh"
corpus=$out/decode-corpus
command -v clang >/dev/null || { echo "skipped: clang is not installed"; exit 77; }
mkdir -p "$corpus"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$out/probe.c"
clang -fsanitize=fuzzer,address "$out/probe.c" -o "$out/probe" >/dev/null 2>&1 ||
	{ echo "skipped: clang's libFuzzer runtime is missing"; exit 77; }
# the decoders reach the runtime table, which names each runtime's
# inspector too: the whole library, as the build lists it
fuzz_library
fuzz_build decode -I"$build" -I"$build/gen" -I"$build/libperf/include" \
	tests/fuzz/fuzz_decode.c $srcs $libs -lpthread
# Seed: one code record (with a real 3.11 location table) and two stacks;
# CRuby code records and a stack.
python3 - "$corpus/seed-valid" <<'PY'
import struct, sys
MAGIC, VER = 0x52545042, 1
def tag(code, first, name):
    M = (1 << 64) - 1
    h = (code * 0x9e3779b97f4a7c15) & M
    h ^= (first * 0xc2b2ae3d27d4eb4f) & M
    h ^= (name * 0x165667b19e3779f9) & M
    h ^= h >> 29
    h = (h * 0xbf58476d1ce4e5b9) & M
    h ^= h >> 32
    return h & 0xffffff
def string(s):
    b = s.encode()
    return struct.pack("<IIII", len(b), 1, len(b), 1) + b.ljust(256, b"\0")
lt = bytes([0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0xf0, 0x02, 0x01, 0x0d, 0x20])
t = tag(0x1000, 2, 0x5000)
code = struct.pack("<IIIIIIQIIIIII", MAGIC, VER, 2, 2920, 7, t, 0x1000, 1, 0x030b07, 2, 0,
                   len(lt), len(lt))
code += string("f") + string("C.f") + string("/x/y.py") + lt.ljust(2048, b"\0")
assert len(code) == 2920
frames = [(0x1000, 3, 1 | t << 8), (0x1000, 1, t << 8), (0x2000, 0, 1)]
stack = struct.pack("<IIIIIIIIIIQ", MAGIC, VER, 1, 48 + 16 * len(frames), 7, 8, 1, 0x030b07,
                    len(frames), 0, 123)
stack += b"".join(struct.pack("<QII", *f) for f in frames)
# CRuby (record version 2): an iseq with a positions index, a C method, a stack
RV = 2
def rstring(s):
    b = s.encode()
    return struct.pack("<IIII", len(b), 1, len(b), 0) + b.ljust(256, b"\0")
info = struct.pack("<iii", 3, 0, 0) + struct.pack("<iii", 8, 0, 0)
pos = struct.pack("<II", 0, 4)
iseq = struct.pack("<IIIIIIQIIIIIIIIIIIIII", MAGIC, RV, 3, 3704, 7, 5, 0x3000, 0x030107, 1, 1, 20, 2,
                   1, len(pos), len(info), 12, 0, 54, 80, 0, 0)
iseq += rstring("<main>") + rstring("/x/app.rb") + pos.ljust(1024, b"\0") + info.ljust(2048, b"\0")
cfunc = struct.pack("<IIIIIIQIIIIIIIIIIIIII", MAGIC, RV, 3, 3704, 7, 6, 0x4000, 0x030107, 2, 0, 0, 0,
                    0, 0, 0, 12, 0, 54, 80, 1, 0)
cfunc += rstring("deflate") + rstring("Zlib::Deflate") + bytes(1024 + 2048)
assert len(iseq) == 3704 and len(cfunc) == 3704
rframes = [(0x4000, 0, 4 | 6 << 8), (0x3000, 6, 1 | 5 << 8)]
rstack = struct.pack("<IIIIIIIIIIQ", MAGIC, RV, 1, 48 + 16 * len(rframes), 7, 8, 2, 0x030107,
                     len(rframes), 0, 124)
rstack += b"".join(struct.pack("<QII", *f) for f in rframes)
out = b""
for rec in (code, stack, stack[:60], iseq, cfunc, rstack):
    out += struct.pack("<H", len(rec)) + rec
open(sys.argv[1], "wb").write(out)
PY
# Real records (record format 3) of 700-deep CPython and CRuby stacks:
# deep-stack chunks, code records with their line tables' pieces, stacks
# (tests/fuzz/rtrecords.py: a few of each kind, the first and the last)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x "$py" ] || py=/usr/bin/python3.11
if [ "$(id -u)" -eq 0 ] && command -v perf >/dev/null && [ -x "$build/rt-bpf" ]; then
	for spec in "py:$py:$top/tests/e2e/workloads/py_recurse.py" \
		"rb:/usr/bin/ruby3.1:$top/tests/e2e/workloads/rb_deep.rb"; do
		IFS=: read -r name interp work <<<"$spec"
		[ -x "$interp" ] || continue
		timeout 60 "$build/rt-bpf" record -F 499 -o "$tmp/$name.data" -- "$interp" "$work" 700 0.5 \
			>/dev/null 2>&1 || continue
		python3 "$top/tests/fuzz/rtrecords.py" "$tmp/$name.data" "$corpus/seed-$name-deep" 131072
		python3 "$top/tests/fuzz/rtrecords.py" "$tmp/$name.data" "$corpus/seed-$name-deep-last" \
			131072 --last
	done
fi
fuzz_run decode "$corpus" 8 -max_len=131072 -timeout=10 -rss_limit_mb=2048
