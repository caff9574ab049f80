# SPDX-License-Identifier: GPL-2.0-only
# Attaching BPF programs to a running perf record (bpf/perfattach.[ch]),
# the perf fd iterator (bpf/perffd.bpf.c) and the e2e test programs.

LIB_SRCS      += bpf/perfattach.c
UNIT_TESTS    += perfattach
GEN_HDRS      += $(BUILD)/bpf/perffd.skel.h
EXTRA_TARGETS += $(BUILD)/tests/attach_echo $(BUILD)/tests/attach/busy
LDLIBS        += -lbpf

# The kernel's types for CO-RE programs; shared by every BPF program here.
$(BUILD)/vmlinux.h: | $(SETUP_STAMP)
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/perffd.bpf.o: bpf/perffd.bpf.c bpf/perfattach.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I$(BUILD) -I. -c $< -o $@

$(BUILD)/bpf/perffd.skel.h: $(BUILD)/bpf/perffd.bpf.o
	$(BPFTOOL) gen skeleton $< name perffd_bpf > $@.tmp && mv $@.tmp $@

# e2e: a tiny program that echoes a fixed record per sample, its driver,
# and a busy loop to profile.
$(BUILD)/tests/attach/echo.bpf.o: tests/e2e/attach/echo.bpf.c bpf/perfattach.h $(BUILD)/vmlinux.h
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
