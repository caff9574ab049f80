# SPDX-License-Identifier: GPL-2.0-only
# CRuby: process inspection (inspect.c), record decoding (decode.c) and the
# shadow control frame stack of rt-bpf trace's fallback (cfpstack.c); the
# walker itself is bpf/ruby_walk.bpf.h, built as part of bpf/walker.bpf.c.
LIB_SRCS   += runtimes/ruby/inspect.c runtimes/ruby/decode.c runtimes/ruby/cfpstack.c
UNIT_TESTS += decode_ruby cfpstack
