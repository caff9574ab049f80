# SPDX-License-Identifier: GPL-2.0-only
# bpf/: the kernel programs and the kernel/user-space contract, nothing else.
# walker.bpf.c (with ruby_walk.bpf.h) walks interpreter stacks and writes the
# records of record.h; perffd.bpf.c finds perf's events for rt-bpf;
# discovery.bpf.c reports exec/exit for process discovery; async.bpf.c
# traces async runtimes' task steps (rt-bpf async); maps.bpf.h declares the
# maps they share the shape of (channel, stats, scratch).  The user space
# that loads them lives in rtbpf/, the decoders of their records in runtimes/.
# A new kernel program goes here, with its object and skeleton rules below.
BPF_CFLAGS ?= -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function

GEN_HDRS      += $(BUILD)/bpf/perffd.skel.h
EXTRA_TARGETS += $(BUILD)/bpf/walker.bpf.o

# The kernel's types for CO-RE programs; shared by every BPF program here.
$(BUILD)/vmlinux.h: | $(SETUP_STAMP)
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/walker.bpf.o: bpf/walker.bpf.c bpf/record.h bpf/walker.h bpf/ruby_walk.bpf.h \
                           bpf/ruby_walk.h bpf/py_tstate.bpf.h layouts/ruby.h bpf/offcpu.bpf.h \
                           bpf/event.bpf.h bpf/deep_stack.bpf.h bpf/maps.bpf.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/walker.skel.h: $(BUILD)/bpf/walker.bpf.o
	$(BPFTOOL) gen skeleton $< name walker_bpf > $@.tmp && mv $@.tmp $@

# `rt-bpf trace`'s USDT and write programs (loaded by rtbpf/trace.c);
# usdt.bpf.h includes <linux/errno.h>, which needs the multiarch asm headers
$(BUILD)/bpf/trace.bpf.o: bpf/trace.bpf.c bpf/trace.h bpf/walker.h bpf/py_tstate.bpf.h bpf/maps.bpf.h \
                          $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -idirafter /usr/include/x86_64-linux-gnu -c -o $@ $<

$(BUILD)/bpf/trace.skel.h: $(BUILD)/bpf/trace.bpf.o
	$(BPFTOOL) gen skeleton $< name trace_bpf > $@.tmp && mv $@.tmp $@

# perf's fd iterator (loaded by rtbpf/perfsession.c)
$(BUILD)/bpf/perffd.bpf.o: bpf/perffd.bpf.c bpf/perffd.bpf.h bpf/perffd.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I$(BUILD) -I. -c $< -o $@

$(BUILD)/bpf/perffd.skel.h: $(BUILD)/bpf/perffd.bpf.o
	$(BPFTOOL) gen skeleton $< name perffd_bpf > $@.tmp && mv $@.tmp $@

# process discovery from kernel events, and perf's fd iterator again for
# rt-bpf record (loaded by rtbpf/discovery.c, in rt-bpf only: it needs
# libbpf, the library does not)
$(BUILD)/bpf/discovery.bpf.o: bpf/discovery.bpf.c bpf/discovery.h bpf/perffd.bpf.h bpf/perffd.h \
                              $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/discovery.skel.h: $(BUILD)/bpf/discovery.bpf.o
	$(BPFTOOL) gen skeleton $< name discovery_bpf > $@.tmp && mv $@.tmp $@

# async runtimes' task steps (loaded by rtbpf/async.c); shares the
# PyThreadState lookup with the walker
$(BUILD)/bpf/async.bpf.o: bpf/async.bpf.c bpf/async.h bpf/py_tstate.bpf.h bpf/maps.bpf.h bpf/record.h bpf/walker.h \
                          $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/async.skel.h: $(BUILD)/bpf/async.bpf.o
	$(BPFTOOL) gen skeleton $< name async_bpf > $@.tmp && mv $@.tmp $@
