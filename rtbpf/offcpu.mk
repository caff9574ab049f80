# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf record --off-cpu: the loader's side (rtbpf/offcpu.c).
LIB_SRCS += rtbpf/offcpu.c rtbpf/events.c
