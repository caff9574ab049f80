# SPDX-License-Identifier: GPL-2.0-only
# rtbpf/: the rt-bpf tool.  rt-bpf.c is the command line; perfattach.c finds
# or starts perf and attaches to its events; discovery.c follows processes
# from bpf/discovery.bpf.c's events; dsocache.c and kfeatures.c keep its
# per-file cache and kernel probes.  Depends on bpf/, runtimes/ and the
# libraries; nothing depends on it.
include rtbpf/perfattach.mk

LIB_SRCS   += rtbpf/dsocache.c rtbpf/kfeatures.c
UNIT_TESTS += kfeatures dsocache
BIN_NAMES  += rt-bpf

# The tool's own objects (not in the library): a new subcommand adds its
# file here and its entry to main.c's table.
RTBPF_OBJS := $(addprefix $(BUILD)/obj/rtbpf/,main.o attach.o record.o app.o targets.o stats.o \
                                             discovery.o)

$(RTBPF_OBJS): $(BUILD)/bpf/walker.skel.h $(BUILD)/bpf/discovery.skel.h

$(BUILD)/rt-bpf: $(RTBPF_OBJS) $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lpthread $(LDLIBS)
