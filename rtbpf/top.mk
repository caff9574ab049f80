# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf top (included by rtbpf/module.mk): the live view (top.c, topview.c),
# its function table (topagg.c) and the perf events it opens itself through
# libperf (perflive.c, linked from build/libperf with libapi).
TOP_OBJS     := $(addprefix $(BUILD)/obj/rtbpf/,top.o topview.o topagg.o perflive.o)
LIBPERF_LIBS := $(LIBPERF)/lib/libperf.a $(LIBPERF)/lib/libapi.a
UNIT_TESTS   += topagg topview perflive

$(BUILD)/tests/unit/test_topagg: $(BUILD)/obj/rtbpf/topagg.o
$(BUILD)/tests/unit/test_topview: $(BUILD)/obj/rtbpf/topview.o

# perflive's suite opens perf events through libperf: its own link line
$(BUILD)/tests/unit/test_perflive: $(BUILD)/obj/tests/unit/test_perflive.o \
		$(BUILD)/obj/rtbpf/perflive.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIBPERF_LIBS) -lcunit $(LDLIBS)
