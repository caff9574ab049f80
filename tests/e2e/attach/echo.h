/* SPDX-License-Identifier: GPL-2.0-only */
/* The record tests/e2e/attach/echo.bpf.c writes into perf's bpf-output channel. */
#ifndef RT_TESTS_ATTACH_ECHO_H
#define RT_TESTS_ATTACH_ECHO_H

#define RT_ECHO_MAGIC 0x5254454348u /* "RTECH" */

struct rt_echo_record {
	__u64 magic;
	__u32 len;
	__u32 tid;
	__u32 tgid;
	__u32 pad;
};
_Static_assert(sizeof(struct rt_echo_record) == 24, "rt_echo_record layout");

#endif
