# SPDX-License-Identifier: GPL-2.0-only
# rtbpf/: rt-bpf's subcommands beyond record and attach.  `async`
# (rtbpf/async.c) traces async runtimes' task steps with bpf/async.bpf.c,
# using the asyncio knowledge in runtimes/python/asyncio.c.

LIB_SRCS   += runtimes/python/asyncio.c runtimes/rust/tokio.c
UNIT_TESTS += asyncio tokio

$(BUILD)/bpf/async.bpf.o: bpf/async.bpf.c bpf/async.h bpf/py_tstate.bpf.h bpf/record.h bpf/walker.h \
		$(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -I. -I$(BUILD) -c -o $@ $<

$(BUILD)/bpf/async.skel.h: $(BUILD)/bpf/async.bpf.o
	$(BPFTOOL) gen skeleton $< name async_bpf > $@.tmp && mv $@.tmp $@

# the walker shares the thread-state lookup with the async tracer
$(BUILD)/bpf/walker.bpf.o: bpf/py_tstate.bpf.h

$(BUILD)/obj/rtbpf/async.o: $(BUILD)/bpf/async.skel.h
# rt-bpf links the subcommand; the library comes again after it
$(BUILD)/rt-bpf: $(BUILD)/obj/rtbpf/async.o
$(BUILD)/rt-bpf: LDLIBS += $(LIB)
