# SPDX-License-Identifier: GPL-2.0-only
# CRuby support in bpf/: process inspection (rbproc.c) and record decoding
# (decode_ruby.c); the walker itself is bpf/ruby_walk.bpf.h, built as part
# of walker.bpf.c.
LIB_SRCS   += bpf/rbproc.c bpf/decode_ruby.c
UNIT_TESTS += decode_ruby
LDLIBS     += -lcapstone

$(BUILD)/bpf/walker.bpf.o: bpf/ruby_walk.bpf.h bpf/ruby_walk.h layouts/ruby.h bpf/offcpu.bpf.h bpf/event.bpf.h
