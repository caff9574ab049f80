# SPDX-License-Identifier: GPL-2.0-only
# rtbpf/: the rt-bpf tool.  main.c parses the subcommand and global flags and
# dispatches to one file per subcommand (attach.c, record.c, async.c); rtbpf.h is the
# state they share, app.c, targets.c and stats.c the steps they share.
# perfsession.c finds perf's events and attaches to them (iter.c runs BPF
# iterators for it and discovery.c), perfrun.c starts
# and stops perf (one public header, perfsession.h); discovery.c follows
# processes from bpf/discovery.bpf.c's events; dsocache.c and kfeatures.c
# keep the build-id cache and the kernel probes; offcpu.c and events.c link
# the walker object's off-CPU and event programs to perf's tracepoints
# (record --off-cpu, -e EVENT).  trace.c is `rt-bpf trace` (bpf/trace.bpf.c), its
# target side trace_target.c, its record writer trace_records.c, the CRuby
# breakpoint fallback trace_ruby.c, writing
# CodeTracer's format with codetracer.c.  Depends on bpf/, runtimes/
# and the libraries; nothing depends on it.
# A new subcommand: rtbpf/NAME.c defining a struct rt_bpf_cmd, one entry in
# main.c's table, and NAME.o in RTBPF_OBJS below.
include rtbpf/top.mk

# In the library for the unit tests and the e2e attach driver.
LIB_SRCS      += rtbpf/perfsession.c rtbpf/perfrun.c rtbpf/iter.c rtbpf/dsocache.c rtbpf/kfeatures.c \
                 rtbpf/codetracer.c rtbpf/usdt.c rtbpf/asyncps.c rtbpf/nativestack.c
UNIT_TESTS    += perfsession kfeatures dsocache codetracer usdt asyncps nativestack
LDLIBS        += -lbpf
BIN_NAMES     += rt-bpf
EXTRA_TARGETS += $(BUILD)/tests/attach_echo $(BUILD)/tests/attach/busy

# The tool's own objects (not in the library).
RTBPF_OBJS := $(addprefix $(BUILD)/obj/rtbpf/,main.o attach.o record.o app.o targets.o stats.o \
                                             discovery.o async.o asynctarget.o tasks.o offcpu.o events.o trace.o \
                                             trace_target.o trace_records.o trace_ruby.o) $(TOP_OBJS)

$(RTBPF_OBJS): $(BUILD)/bpf/walker.skel.h $(BUILD)/bpf/discovery.skel.h
$(BUILD)/obj/rtbpf/async.o $(BUILD)/obj/rtbpf/asynctarget.o $(BUILD)/obj/rtbpf/tasks.o: $(BUILD)/bpf/async.skel.h
$(BUILD)/obj/rtbpf/trace.o $(BUILD)/obj/rtbpf/trace_target.o $(BUILD)/obj/rtbpf/trace_records.o \
$(BUILD)/obj/rtbpf/trace_ruby.o: \
	$(BUILD)/bpf/trace.skel.h

$(BUILD)/rt-bpf: $(RTBPF_OBJS) $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBPERF_LIBS) -lncurses -lbpf -lpthread $(LDLIBS)

# e2e: a tiny program that echoes a fixed record per sample, its driver
# (on rtbpf/perfsession.h), and a busy loop to profile.
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
