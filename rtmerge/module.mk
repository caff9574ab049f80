# SPDX-License-Identifier: GPL-2.0-only
include rtmerge/flamegraph.mk
include rtmerge/outputs.mk
include rtmerge/offcpu.mk

LIB_SRCS   += rtmerge/stacks.c rtmerge/merge.c rtmerge/merge_frames.c rtmerge/merge_pair.c \
              rtmerge/merge_splice.c rtmerge/merge_summary.c rtmerge/merge_target.c \
              rtmerge/merge_tasks.c rtmerge/merge_chaincache.c rtmerge/merge_persample.c rtmerge/tasks.c rtmerge/chains.c
UNIT_TESTS += stacks tasks merge_frames merge_chaincache merge_persample
BIN_NAMES  += rtmerge

$(BUILD)/rtmerge: $(BUILD)/obj/rtmerge/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread
