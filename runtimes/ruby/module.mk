# SPDX-License-Identifier: GPL-2.0-only
# CRuby: process inspection (inspect.c) and record decoding (decode.c); the
# walker itself is bpf/ruby_walk.bpf.h, built as part of bpf/walker.bpf.c.
LIB_SRCS   += runtimes/ruby/inspect.c runtimes/ruby/decode.c
UNIT_TESTS += decode_ruby
LDLIBS     += -lcapstone
