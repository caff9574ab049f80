# SPDX-License-Identifier: GPL-2.0-only
# bpf/: the stack walker (walker.bpf.c), its record format (record.h), the
# decoder (decode.c, with decode_common.c), process inspection (process.c,
# pyproc.c), process discovery (discovery.bpf.c, discovery.c), kernel feature
# probes (kfeatures.c), the rt-bpf CLI and the rt-decode debug dumper.
BPF_CFLAGS ?= -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function

include bpf/perfattach.mk
include bpf/ruby.mk
include rtbpf/offcpu.mk

LIB_SRCS   += bpf/decode.c bpf/decode_common.c bpf/process.c bpf/pyproc.c bpf/dsocache.c \
              bpf/kfeatures.c
UNIT_TESTS += decode process kfeatures dsocache
BIN_NAMES  += rt-decode rt-bpf
# the walker shares perfattach.h with the attach library
EXTRA_TARGETS += $(BUILD)/bpf/walker.bpf.o

$(BUILD)/bpf/walker.bpf.o: bpf/walker.bpf.c bpf/record.h bpf/walker.h bpf/perfattach.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/walker.skel.h: $(BUILD)/bpf/walker.bpf.o
	$(BPFTOOL) gen skeleton $< name walker_bpf > $@.tmp && mv $@.tmp $@

# process discovery from kernel events (loaded by discovery.c, in rt-bpf only:
# it needs libbpf, the library does not)
$(BUILD)/bpf/discovery.bpf.o: bpf/discovery.bpf.c bpf/discovery.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/discovery.skel.h: $(BUILD)/bpf/discovery.bpf.o
	$(BPFTOOL) gen skeleton $< name discovery_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/bpf/rt-bpf.o: $(BUILD)/bpf/walker.skel.h
$(BUILD)/obj/bpf/discovery.o: $(BUILD)/bpf/discovery.skel.h

$(BUILD)/rt-bpf: $(BUILD)/obj/bpf/rt-bpf.o $(BUILD)/obj/bpf/discovery.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lpthread $(LDLIBS)

$(BUILD)/rt-decode: $(BUILD)/obj/bpf/rt-decode.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
