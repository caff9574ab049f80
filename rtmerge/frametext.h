/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * frametext: reads back the parts of the frame texts merge writes, for the
 * outputs that keep them apart (speedscope, pprof): the thread root
 * "comm-PID/TID" (merge's include_tid) and interpreter frames
 * "function (file:LINE)" or "function (file)".
 */
#ifndef RT_FRAMETEXT_H
#define RT_FRAMETEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A thread root frame, split; comm points into the parsed text. */
struct rt_frametext_thread {
	const char *comm;
	size_t comm_len;
	uint32_t pid, tid;
};

/*
 * Splits "comm-PID/TID" from the right (a comm may hold '-' and '/', the
 * numbers merge appends last cannot be faked by it).  Returns 0, or -EINVAL
 * when the text does not end in "-PID/TID" (then the whole text is the comm
 * and pid, tid are 0).
 */
int rt_frametext__parse_thread(const char *text, struct rt_frametext_thread *out);

/* An interpreter frame, split; pointers point into the parsed text. */
struct rt_frametext_source {
	const char *function;
	size_t function_len;
	const char *file;
	size_t file_len;
	int64_t line;           /* 0: not known */
};

/*
 * Splits an interpreter frame "function (file:LINE)" or "function (file)"
 * whose file names Python or Ruby source (.py, .pyx, .rb) or carries a
 * line.  Returns true for such a frame; false for any other frame (native,
 * kernel, unresolved), leaving out untouched.
 */
bool rt_frametext__parse_source(const char *text, struct rt_frametext_source *out);

/* True for a kernel frame as merge names it with annotate_kernel ("_[k]");
 * *len_without gets the length without the suffix. */
bool rt_frametext__is_kernel(const char *text, size_t *len_without);

#endif
