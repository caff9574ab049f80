/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space inspection of target processes for the stack walker: is a
 * process running CPython, which version, where is its _PyRuntime; and a
 * tracker that rescans /proc for Python processes to hand to the walker.
 */
#ifndef RT_RUNTIMES_PYTHON_INSPECT_H
#define RT_RUNTIMES_PYTHON_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtimes/process.h"
#include "bpf/walker.h"
#include "layouts/layout.h"

struct rt_pyproc {
	pid_t pid;
	int major, minor, patch;  /* patch -1 when only major.minor is known */
	uint64_t runtime_addr;    /* address of _PyRuntime (or interp_head) in the process */
	bool anchor_interp_head;  /* runtime_addr is interp_head (2.7, 3.6) */
	uint64_t code_type;       /* address of PyCode_Type, 0 if unknown */
	char elf[PATH_MAX];       /* file that defines _PyRuntime (exe or libpython) */
	char exe[PATH_MAX];       /* /proc/PID/exe */
};

/*
 * Inspects process @pid.  Returns 0 and fills @out when it runs CPython
 * (with or without a known layout), -ENOENT when it does not (yet),
 * -ESRCH when it is gone, -EACCES/-EPERM without the right to look.
 */
int rt_pyproc__inspect(pid_t pid, struct rt_pyproc *out);

/*
 * Fills the walker's configuration for @proc from @layout (any CPython
 * frame model, 2.7 to 3.15).  Returns 0, or -EINVAL when the layout is not
 * a CPython one the walker can use.
 */
int rt_pyproc__walker_config(const struct rt_pyproc *proc, const struct rt_layout *layout,
			     uint32_t generation, struct rt_walker_config *cfg);

/*
 * The layout to walk @proc with, into @out.  Before 3.13 it is @table (the
 * layout table for its version; NULL: none).  From 3.13 it comes from the
 * process's own _Py_DebugOffsets; @table, when given, is checked against
 * it: when it agrees it adds the members the process's table lacks, when
 * its version or a size or offset contradicts the process it is refused
 * and @msg says so (one line, return 0).  Returns 0, or -errno when the
 * process cannot be walked, with the reason in @msg.
 */
int rt_pyproc__layout(const struct rt_pyproc *proc, const struct rt_layout *table,
		      struct rt_layout *out, char *msg, size_t msg_size);

/* Called for each Python process found (@generation is new each time a pid
 * gets a new process image) and each one gone (@proc NULL). */
typedef void (*rt_pyproc_found_fn)(void *ctx, pid_t pid, const struct rt_pyproc *proc,
				   uint32_t generation);

struct rt_pyproc_tracker;

/*
 * Creates a tracker over @scope with @nr_pids roots in @pids (copied).
 * Returns NULL and sets errno on failure.
 */
struct rt_pyproc_tracker *rt_pyproc_tracker__new(enum rt_process_scope scope, const pid_t *pids,
						 size_t nr_pids, rt_pyproc_found_fn found,
						 void *ctx);

/*
 * Rescans /proc: reports new Python processes, processes that exec'd, and
 * processes gone.  Returns the number of Python processes tracked, or
 * -errno.
 */
int rt_pyproc_tracker__scan(struct rt_pyproc_tracker *tr);

/* The process tracker underneath, to hand it process events
 * (rt_process_tracker__event) and run its retries. */
struct rt_process_tracker *rt_pyproc_tracker__processes(struct rt_pyproc_tracker *tr);

/* Frees the tracker.  NULL is a no-op. */
void rt_pyproc_tracker__free(struct rt_pyproc_tracker *tr);

#endif
