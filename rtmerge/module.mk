# SPDX-License-Identifier: GPL-2.0-only
include rtmerge/flamegraph.mk
include rtmerge/offcpu.mk

LIB_SRCS   += rtmerge/stacks.c rtmerge/merge.c
UNIT_TESTS += stacks
BIN_NAMES  += rtmerge

$(BUILD)/rtmerge: $(BUILD)/obj/rtmerge/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread
