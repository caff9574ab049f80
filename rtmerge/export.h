/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * export: wires a merge run to the outputs that keep threads and binaries
 * apart (speedscope, pprof): sets the merge options they need and writes
 * the result with what the recording says about its event.
 */
#ifndef RT_EXPORT_H
#define RT_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "perfglue/perfdata.h"
#include "rtmerge/merge.h"

struct rt_export;

/* True for the formats this module writes: "speedscope", "pprof". */
bool rt_export__handles(const char *format);

/*
 * Returns an exporter for @format and adjusts @merge_opts for it (one root
 * per thread, kernel frames marked, and for pprof the callback that learns
 * each native frame's binary): pass them to rt_merge__new() and keep the
 * exporter until the merge is freed.  @version names the tool in the file.
 * NULL with errno set (EINVAL: not a format of this module).
 */
struct rt_export *rt_export__new(const char *format, const char *version,
				 struct rt_merge_opts *merge_opts);
void rt_export__free(struct rt_export *export);

/* Writes the merged stacks of @merge to @out.  0 or -errno. */
int rt_export__write(struct rt_export *export, const struct rt_merge *merge,
		     const struct rt_perf_reader *reader, const char *input, FILE *out);

#endif
