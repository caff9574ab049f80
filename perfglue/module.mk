# SPDX-License-Identifier: GPL-2.0-only
LIB_SRCS   += perfglue/perfdata.c perfglue/machine.c perfglue/safefile.c
UNIT_TESTS += perfdata machine safefile
