/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf's side of process discovery: loads bpf/discovery.bpf.c, attaches
 * it to the process tracepoints and hands each event to a callback.
 */
#ifndef RT_RTBPF_DISCOVERY_EVENTS_H
#define RT_RTBPF_DISCOVERY_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/discovery.h"

struct bpf_program;

struct rt_discovery;

typedef void (*rt_discovery_fn)(void *ctx, const struct rt_discovery_event *e);

/*
 * Loads and attaches the discovery program; @fn gets each event from
 * rt_discovery__poll().  Events are kept from this call on.  Returns NULL
 * and sets errno when the kernel refuses the process tracepoints.
 */
struct rt_discovery *rt_discovery__new(rt_discovery_fn fn, void *ctx);

/* Whether mmaps of interpreter libraries are reported too (they need
 * tracefs for the syscalls tracepoints). */
bool rt_discovery__sees_mmaps(const struct rt_discovery *d);

/*
 * Waits up to @timeout_ms for events and hands each one to the callback.
 * Returns the number of events, or -errno.
 */
int rt_discovery__poll(struct rt_discovery *d, int timeout_ms);

/* Events lost so far because the ring buffer was full: a growing count
 * means a full /proc scan must catch up. */
uint64_t rt_discovery__lost(const struct rt_discovery *d);

/*
 * Lists, sorted, the processes that map a file named like the libraries the
 * mmap events report (libpython*, libruby*), from the kernel's vma lists:
 * what a full scan need not read every /proc/PID/maps for.  Sets *@pids
 * (malloc'd, the caller frees) and *@nr; returns 0 or -errno (a kernel
 * without task_vma iterators).
 */
int rt_discovery__candidates(struct rt_discovery *d, pid_t **pids, size_t *nr);

/*
 * Lists every process (thread group) with its parent, start and executable
 * (struct rt_discovery_process, in the kernel's task order), from one run of
 * a task iterator: what a full scan would read /proc/PID/stat and stat()
 * /proc/PID/exe for.  Sets *@procs (malloc'd, the caller frees) and *@nr;
 * returns 0 or -errno.
 */
int rt_discovery__processes(struct rt_discovery *d, struct rt_discovery_process **procs,
			    size_t *nr);
/* The perf fd iterator of the discovery object (bpf/perffd.bpf.h), for
 * rt_perf_find_opts.perf_files: finding perf's events then loads no other
 * object. */
const struct bpf_program *rt_discovery__perf_files(const struct rt_discovery *d);

/* Detaches and frees.  NULL is a no-op. */
void rt_discovery__free(struct rt_discovery *d);

#endif
