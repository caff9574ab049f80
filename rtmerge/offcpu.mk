# SPDX-License-Identifier: GPL-2.0-only
# rtmerge's off-CPU, wall-clock and GIL views (rtmerge/offcpu.c).
LIB_SRCS   += rtmerge/offcpu.c rtmerge/tracefields.c
# linked in statically: hosts without libtraceevent1 (the QEMU guests) run rtmerge too
LDLIBS     += -l:libtraceevent.a
UNIT_TESTS += offcpu tracefields
GEN_HDRS   += $(BUILD)/gen/syscalls_x86_64.h

# x86_64 system call names by number, for off-CPU leaf frames, from the
# kernel's own list in the installed headers.
$(BUILD)/gen/syscalls_x86_64.h: /usr/include/x86_64-linux-gnu/asm/unistd_64.h
	@mkdir -p $(dir $@)
	{ echo '#define RT_SYSCALL_NAMES { \'; \
	  sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/[\2] = "\1", \\/p' $<; \
	  echo '}'; } > $@.tmp && mv $@.tmp $@
