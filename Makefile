# SPDX-License-Identifier: GPL-2.0-only
# rtperf build.  `make` builds the tools, `make check` runs every test,
# `make check-kernels` runs a suite on Debian's kernels in QEMU,
# `make bench` prints the benchmarks, `make demo` profiles the bundled example.
# `make install [PREFIX=/usr/local] [DESTDIR=]` puts rt-bpf, rtmerge and
# rt-decode into $(DESTDIR)$(PREFIX)/bin.
# `make SAN=1` builds everything with ASan+UBSan into build/san.

LIBPERF  ?= build/libperf
ifeq ($(SAN),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS :=
endif

CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
            -fno-omit-frame-pointer $(SANFLAGS)
CPPFLAGS += -I. -I$(BUILD) -I$(BUILD)/gen -I$(LIBPERF)/include -D_GNU_SOURCE
LDFLAGS  += $(SANFLAGS)
LDLIBS   += -lelf -ldw -lz -lm

.DEFAULT_GOAL := all
# keep intermediate objects (unit test .o files) between runs
.SECONDARY:

LIB      := $(BUILD)/librtperf.a
# On a fresh clone a plain `make` first runs the set-up (packages, libperf).
SETUP_STAMP := $(LIBPERF)/.built-6.12

# Each module appends to these in its module.mk.
LIB_SRCS   :=
BIN_NAMES  :=
UNIT_TESTS :=
GEN_HDRS   :=

include perfglue/module.mk
include symbolize/module.mk
include unwind/module.mk
include layouts/module.mk
include bpf/module.mk
include runtimes/module.mk
include rtbpf/module.mk
include rtmerge/module.mk

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
BINS     := $(BIN_NAMES:%=$(BUILD)/%)
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/unit/test_%)

.PHONY: all setup check check-unit check-e2e check-san check-kernels fuzz fuzz-long bench bench-long demo clean layouts install
all: $(BINS) $(UNIT_BINS) $(EXTRA_TARGETS)

setup:
	@bash scripts/setup.sh

$(SETUP_STAMP):
	@echo "make: libperf is not built yet: running scripts/setup.sh (needs root for apt-get)"
	@bash scripts/setup.sh

$(BUILD)/obj/%.o: %.c $(GEN_HDRS) | $(SETUP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/tests/unit/test_%: $(BUILD)/obj/tests/unit/test_%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcunit $(LDLIBS)

check: setup all
	@bash tests/run.sh $(BUILD)

check-unit: all
	@bash tests/run.sh --unit-only $(BUILD)

# Bounded fuzzing as the test suite runs it, and a longer campaign of every
# fuzzer (RT_FUZZ_SECONDS each, default 720: 72 minutes for the six fuzzers).
fuzz: all
	@for f in tests/fuzz/*.sh; do [ "$${f##*/}" = lib.sh ] || bash $$f || exit 1; done

fuzz-long: all
	@for f in tests/fuzz/*.sh; do [ "$${f##*/}" = lib.sh ] || \
		RT_FUZZ_SECONDS=$${RT_FUZZ_SECONDS:-720} bash $$f || exit 1; done

# Debian's 5.10, 6.1 and 6.12 kernels in QEMU, a short end-to-end suite in each
check-kernels: all
	@bash tests/kernels/check.sh $(BUILD)

# A 10-minute recording of a churning target: rt-bpf's memory over time and
# what was lost (SECS, RATE change it)
bench-long: all
	@bash tests/bench/longrun.sh $(BUILD)

bench: setup all
	@bash tests/bench/bench.sh $(BUILD)
	@bash tests/bench/discovery.sh $(BUILD)
	@bash tests/bench/trace_overhead.sh $(BUILD)
	@bash tests/bench/rb_trace_overhead.sh $(BUILD)
	@bash tests/bench/walker_depth.sh $(BUILD)
	@bash tests/bench/switch_hook.sh $(BUILD)
	@PY=$(HOME)/.pyenv/versions/3.12.1/bin/python3.12 bash tests/bench/trace_overhead.sh $(BUILD)
	@PY=$(HOME)/.pyenv/versions/3.10.13/bin/python3.10 bash tests/bench/trace_overhead.sh $(BUILD)

demo: setup all
	@bash examples/demo.sh $(BUILD)

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
INSTALL_BINS := $(filter %/rt-bpf %/rtmerge %/rt-decode,$(BINS))

install: $(INSTALL_BINS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(INSTALL_BINS) $(DESTDIR)$(BINDIR)/

clean:
	rm -rf build/obj build/san build/tests build/librtperf.a $(BINS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
