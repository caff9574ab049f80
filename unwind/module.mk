# SPDX-License-Identifier: GPL-2.0-only
LIB_SRCS   += unwind/cfi.c unwind/prologue.c unwind/unwind.c
UNIT_TESTS += unwind
