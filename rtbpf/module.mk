# SPDX-License-Identifier: GPL-2.0-only
# rtbpf/: rt-bpf's subcommands.  `trace` (trace.c) with its kernel side
# bpf/trace.bpf.c, the frame-chain follower (pyframes.c) and the CodeTracer
# writer (codetracer.c).
LIB_SRCS   += rtbpf/trace.c rtbpf/pyframes.c rtbpf/codetracer.c
UNIT_TESTS += pyframes codetracer
GEN_HDRS   += $(BUILD)/bpf/trace.skel.h

# usdt.bpf.h includes <linux/errno.h>, which needs the multiarch asm headers
$(BUILD)/bpf/trace.bpf.o: bpf/trace.bpf.c bpf/trace.h bpf/walker.h bpf/py_tstate.bpf.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -idirafter /usr/include/x86_64-linux-gnu -c -o $@ $<

$(BUILD)/bpf/trace.skel.h: $(BUILD)/bpf/trace.bpf.o
	$(BPFTOOL) gen skeleton $< name trace_bpf > $@.tmp && mv $@.tmp $@

# the walker includes the thread-state lookup it shares with the tracer
$(BUILD)/bpf/walker.bpf.o: bpf/py_tstate.bpf.h
