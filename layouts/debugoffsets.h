/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython 3.13+ keeps a table of its own struct offsets at the start of
 * _PyRuntime (_Py_DebugOffsets: cookie "xdebugpy", PY_VERSION_HEX,
 * free_threaded, then one group per struct, each starting with the
 * struct's size).  This module turns a copy of that table into a layout
 * (struct rt_layout) for the walker, so a build is walked from its own
 * offsets: a Py_DEBUG build, a distribution's build, or a later CPython
 * whose table still has the members the walk needs.
 */
#ifndef RT_LAYOUTS_DEBUGOFFSETS_H
#define RT_LAYOUTS_DEBUGOFFSETS_H

#include <stddef.h>

#include "layouts/layout.h"

/* Bytes to copy from the start of _PyRuntime: more than any known table. */
#define RT_DEBUG_OFFSETS_READ 1024

/*
 * Builds @out from @len bytes @dbg copied from the start of the _PyRuntime
 * of a CPython @major.@minor (the version read from its file).  The table's
 * shape is the one of that minor; a minor newer than any known one is read
 * with the newest known shape and accepted only when its fixed points
 * (PyObject's size and ob_type) and every group's size agree.  Returns 0;
 * -EINVAL with one sentence in @msg when the cookie, the version, the
 * build kind (free-threaded) or a size contradicts the walk; -ENOTSUP
 * before 3.13.
 */
int rt_debug_offsets__parse(const void *dbg, size_t len, int major, int minor, struct rt_layout *out,
			    char *msg, size_t msg_size);

/*
 * Compares a layout table @table (from layouts/, or a layout file) with
 * @own, the layout from the target's _Py_DebugOffsets.  Returns 0 when the
 * version and every member both have agree; -EINVAL otherwise with one
 * sentence in @msg naming the first disagreement.
 */
int rt_debug_offsets__compare(const struct rt_layout *own, const struct rt_layout *table, char *msg,
			      size_t msg_size);

#endif
