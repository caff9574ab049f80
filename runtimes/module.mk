# SPDX-License-Identifier: GPL-2.0-only
# runtimes/: what rtperf knows about each interpreter.  Generic process
# inspection (process.c), the record decoder's front (decode.c: checks each
# record and hands it to its runtime) and shared tables (decode_common.c),
# and the rt-decode debug dumper here; one directory per runtime (python/,
# ruby/) with its inspector (inspect.c) and decoder (decode.c); rust/ knows
# tokio's functions and python/asyncio.c asyncio's, for rt-bpf async.
# Used by rt-bpf (inspection) and rtmerge (decoding); depends on bpf/record.h,
# layouts/ and perfglue/, never on rtbpf/.  A new runtime is a new directory
# with its module.mk included below.
include runtimes/python/module.mk
include runtimes/ruby/module.mk
include runtimes/rust/module.mk

LIB_SRCS   += runtimes/decode.c runtimes/decode_common.c runtimes/process.c runtimes/runtime.c
UNIT_TESTS += decode process runtime
BIN_NAMES  += rt-decode

$(BUILD)/rt-decode: $(BUILD)/obj/runtimes/rt-decode.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
