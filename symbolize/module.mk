# SPDX-License-Identifier: GPL-2.0-only
LIB_SRCS   += symbolize/symbolize.c symbolize/symtab.c
UNIT_TESTS += symbolize
LDLIBS     += -liberty
