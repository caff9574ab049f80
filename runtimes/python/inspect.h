/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space inspection of target processes for the stack walker: is a
 * process running CPython, which version, where is its _PyRuntime, which
 * layout to walk it with.  The runtime table reaches it as
 * rt_runtime_cpython (runtimes/runtime.h).
 */
#ifndef RT_RUNTIMES_PYTHON_INSPECT_H
#define RT_RUNTIMES_PYTHON_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtimes/runtime.h"
#include "bpf/walker.h"
#include "layouts/layout.h"

struct rt_pyproc {
	struct rt_runtime_process base; /* first: pid, version, the file defining
					 * _PyRuntime (exe or libpython) */
	uint64_t runtime_addr;    /* address of _PyRuntime (or interp_head) in the process */
	bool anchor_interp_head;  /* runtime_addr is interp_head (2.7, 3.6) */
	uint64_t code_type;       /* address of PyCode_Type, 0 if unknown */
	char exe[PATH_MAX];       /* /proc/PID/exe */
};

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

#endif
