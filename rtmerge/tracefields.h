/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tracefields: tracepoint fields of perf samples, decoded by libtraceevent
 * from the formats in the recording's own tracing data (perf's TRACING_DATA
 * feature), for rtmerge --leaf-field and the fields of --per-sample.
 */
#ifndef RT_MERGE_TRACEFIELDS_H
#define RT_MERGE_TRACEFIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "perfglue/perfdata.h"

struct rt_trace_fields;

/*
 * Parses tracing data @data (@size bytes, as perf writes it: header pages,
 * ftrace and event formats; what follows them is not needed).  Returns the
 * formats or NULL with errno set (EINVAL: malformed).
 */
struct rt_trace_fields *rt_trace_fields__new(const void *data, size_t size);
void rt_trace_fields__free(struct rt_trace_fields *t);

/* Formats parsed (for tests and the summary). */
size_t rt_trace_fields__nr_events(const struct rt_trace_fields *t);

/*
 * Formats field @field of the raw record @raw (@size bytes) of tracepoint
 * @id (perf's attr.config) as "field=value" into @buf; raw_syscalls' "id"
 * and syscalls' "__syscall_nr" get the system call's name.  Returns 0,
 * -ENOENT (no such event or field), -EINVAL (the record is too short).
 */
int rt_trace_fields__format(const struct rt_trace_fields *t, unsigned long long id,
			    const void *raw, size_t size, const char *field, char *buf,
			    size_t buf_size);

/* Whether tracepoint @id's format has field @field. */
bool rt_trace_fields__has_field(const struct rt_trace_fields *t, unsigned long long id,
				const char *field);

/* The tracepoint id (attr.config) of sample @s, if it is one of a
 * tracepoint event of @reader: 0, or -ENOENT. */
int rt_trace_fields__sample_event(const struct rt_perf_reader *reader,
				  const struct rt_perf_sample *s, unsigned long long *id);

/* Writes every field of the record but the common ones, " a=1 b=2". */
void rt_trace_fields__print(const struct rt_trace_fields *t, unsigned long long id,
			    const void *raw, size_t size, FILE *out);

#endif
