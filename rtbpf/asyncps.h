/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf async --ps (rtbpf/asyncps.c): every asyncio task of a CPython
 * 3.14+ process, with the coroutine chain each is suspended in and the
 * tasks awaiting it, as a table and a tree (docs/async.md).
 */
#ifndef RT_RTBPF_ASYNCPS_H
#define RT_RTBPF_ASYNCPS_H

#include <stdio.h>
#include <sys/types.h>

/*
 * Reads the tasks of process @pid once, prints them to stdout and, with
 * @json, writes them to the file @json.  Returns 0 or -errno after saying
 * why on stderr.
 */
int rt_async_ps__run(pid_t pid, const char *json);

struct rt_asyncps;

/*
 * Prints @ps to @f: a table (a row per task: thread, id, name, the tasks
 * awaiting it, its coroutine chain) and the awaited-by tree `python -m
 * asyncio pstree` draws (each task under the coroutines of each task
 * awaiting it; the roots are the tasks nobody awaits).  Returns 0 or
 * -ENOMEM.
 */
int rt_async_ps__print(FILE *f, const struct rt_asyncps *ps);

/* Writes @s to @f as a JSON string (quoted, escaped). */
void rt_async__json_str(FILE *f, const char *s);

#endif
