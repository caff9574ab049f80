# SPDX-License-Identifier: GPL-2.0-only
LIB_SRCS   += perfglue/perfdata.c perfglue/perfdata_header.c perfglue/perfdata_parse.c \
              perfglue/perfdata_queue.c perfglue/perfdata_readahead.c perfglue/machine.c perfglue/safefile.c \
              perfglue/tidtable.c perfglue/disasm.c
UNIT_TESTS += perfdata machine safefile tidtable
