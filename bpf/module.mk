# SPDX-License-Identifier: GPL-2.0-only
# bpf/: the stack walker (walker.bpf.c), its record format (record.h), the
# decoder (decode.c), process inspection (pyproc.c), the rt-bpf CLI and the
# rt-decode debug dumper.
-include bpf/perfattach.mk
-include bpf/ruby.mk

LIB_SRCS   += bpf/decode.c bpf/pyproc.c
UNIT_TESTS += decode
BIN_NAMES  += rt-decode

BPF_CFLAGS ?= -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function

# perfattach.mk provides the vmlinux.h rule; this one only stands in while
# that file is absent.
ifeq ($(wildcard bpf/perfattach.mk),)
$(BUILD)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@
else
# rt-bpf (and the walker, which shares perfattach.h) need the attach library.
BIN_NAMES  += rt-bpf
EXTRA_TARGETS += $(BUILD)/bpf/walker.bpf.o
endif

$(BUILD)/bpf/walker.bpf.o: bpf/walker.bpf.c bpf/record.h bpf/walker.h bpf/perfattach.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/walker.skel.h: $(BUILD)/bpf/walker.bpf.o
	$(BPFTOOL) gen skeleton $< name walker_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/bpf/rt-bpf.o: $(BUILD)/bpf/walker.skel.h

$(BUILD)/rt-bpf: $(BUILD)/obj/bpf/rt-bpf.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lpthread $(LDLIBS)

$(BUILD)/rt-decode: $(BUILD)/obj/bpf/rt-decode.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
