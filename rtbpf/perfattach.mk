# SPDX-License-Identifier: GPL-2.0-only
# Attaching BPF programs to a running perf record (rtbpf/perfattach.[ch],
# with bpf/perffd.bpf.c built in bpf/module.mk) and the e2e test programs.

LIB_SRCS      += rtbpf/perfattach.c
UNIT_TESTS    += perfattach
EXTRA_TARGETS += $(BUILD)/tests/attach_echo $(BUILD)/tests/attach/busy
LDLIBS        += -lbpf

# e2e: a tiny program that echoes a fixed record per sample, its driver,
# and a busy loop to profile.
$(BUILD)/tests/attach/echo.bpf.o: tests/e2e/attach/echo.bpf.c bpf/record.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I$(BUILD) -I. -c $< -o $@

$(BUILD)/tests/attach/echo.skel.h: $(BUILD)/tests/attach/echo.bpf.o
	$(BPFTOOL) gen skeleton $< name echo_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/tests/e2e/attach/attach_echo.o: $(BUILD)/tests/attach/echo.skel.h

$(BUILD)/tests/attach_echo: $(BUILD)/obj/tests/e2e/attach/attach_echo.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Frame pointers and no inlining: the callchain must show spin_inner.
$(BUILD)/tests/attach/busy: tests/e2e/attach/busy.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -fno-omit-frame-pointer -o $@ $<
