# SPDX-License-Identifier: GPL-2.0-only
LIB_SRCS   += symbolize/symbolize.c symbolize/symtab.c symbolize/inline.c symbolize/rubyvm.c
UNIT_TESTS += inline
UNIT_TESTS += symbolize
LDLIBS     += -liberty
LDLIBS     += 
