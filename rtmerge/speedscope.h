/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * speedscope: stacks as speedscope's file format (its published JSON
 * schema, file-format-schema.json in the speedscope package): one shared
 * frame table (interpreter frames with name, file and line) and one sampled
 * profile per thread, named "comm (TID)".  See docs/outputs.md.
 */
#ifndef RT_SPEEDSCOPE_H
#define RT_SPEEDSCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rtmerge/stacks.h"

struct rt_speedscope_opts {
	size_t sz;              /* sizeof(struct rt_speedscope_opts) */
	const char *name;       /* the file's name (the window title); default "rtperf" */
	const char *exporter;   /* e.g. "rtmerge 0.1"; default "rtperf" */
	bool by_period;         /* weights are periods, not sample counts */
	/* The unit of the weights: "none" (default) or one of speedscope's
	 * time units, "nanoseconds" for clock events' periods. */
	const char *unit;
};

/*
 * Writes @stacks, whose root frames are threads ("comm-PID/TID"), as one
 * speedscope document to @out: the heaviest thread's profile first (the
 * one speedscope opens), each aggregated stack one sample whose weight is
 * its count (or period).  Returns 0 or -errno (-EIO when out fails).
 */
int rt_speedscope__write(const struct rt_stacks *stacks, const struct rt_speedscope_opts *opts,
			 FILE *out);

#endif
