# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf top: the live view (rtbpf/top.c), its function table
# (rtbpf/topagg.c) and the perf events it opens itself through libperf
# (rtbpf/perflive.c), linked from build/libperf with libapi.
TOP_OBJS   := $(BUILD)/obj/rtbpf/top.o $(BUILD)/obj/rtbpf/topagg.o $(BUILD)/obj/rtbpf/perflive.o
LIBPERF_LIBS := $(LIBPERF)/lib/libperf.a $(LIBPERF)/lib/libapi.a
UNIT_TESTS += topagg

$(BUILD)/obj/rtbpf/top.o: $(BUILD)/bpf/walker.skel.h
$(BUILD)/tests/unit/test_topagg: $(BUILD)/obj/rtbpf/topagg.o
