# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf top: the live view (rtbpf/top.c, rtbpf/topview.c), its function
# table (rtbpf/topagg.c), the perf events it opens itself through libperf
# (rtbpf/perflive.c, linked from build/libperf with libapi) and the walker
# it shares with record and attach (rtbpf/walkerctl.c).
TOP_OBJS     := $(addprefix $(BUILD)/obj/rtbpf/,top.o topview.o topagg.o perflive.o walkerctl.o)
LIBPERF_LIBS := $(LIBPERF)/lib/libperf.a $(LIBPERF)/lib/libapi.a
UNIT_TESTS   += topagg topview perflive

$(BUILD)/obj/rtbpf/walkerctl.o: $(BUILD)/bpf/walker.skel.h
$(BUILD)/tests/unit/test_topagg: $(BUILD)/obj/rtbpf/topagg.o
$(BUILD)/tests/unit/test_topview: $(BUILD)/obj/rtbpf/topview.o
$(BUILD)/rt-bpf: $(TOP_OBJS)

# perflive's suite opens perf events through libperf: its own link line
$(BUILD)/tests/unit/test_perflive: $(BUILD)/obj/tests/unit/test_perflive.o \
		$(BUILD)/obj/rtbpf/perflive.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIBPERF_LIBS) -lcunit $(LDLIBS)
