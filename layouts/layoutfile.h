/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Layout files: the text form of one interpreter build's struct layout
 * (docs/layouts.md).  structlayout makes them from DWARF, mergelayout
 * groups them into version ranges and writes the compiled-in table.
 */
#ifndef RT_LAYOUTS_LAYOUTFILE_H
#define RT_LAYOUTS_LAYOUTFILE_H

#include <stdio.h>

#include "layouts/dwarftypes.h"
#include "layouts/layout.h"
#include "layouts/pyversion.h"

struct rt_layout_file {
	struct rt_pyversion version;
	char source[256];          /* file it was read from (base name), informational */
	char linetable_format[32];
	struct rt_layout_cpython cpython;
	struct rt_layout_cpython debug;
};

/*
 * Fills @out with CPython @version's layout from the DWARF in @types.
 * @source names the file (only its base name is kept).  Returns 0, or
 * -ENOENT when a member every supported version has is missing (the name
 * of the first one in @missing, borrowed static).
 */
int rt_layout_file__from_dwarf(const struct rt_dwarf_types *types, const struct rt_pyversion *version,
			       const char *source, struct rt_layout_file *out, const char **missing);

/* Writes @f in the layout file format.  Returns 0 or -EIO. */
int rt_layout_file__write(FILE *out, const struct rt_layout_file *f);

/*
 * Reads a layout file.  Returns 0, -errno when it cannot be opened, or
 * -EINVAL for a malformed one with the 1-based line number in @bad_line.
 */
int rt_layout_file__read(const char *path, struct rt_layout_file *out, int *bad_line);

/*
 * Writes the C source of the CPython layout table (rt_layout_cpython_table)
 * for @n layout files (reordered by version in place): files of the same
 * major.minor whose layouts are equal share one entry; an entry covers
 * patch levels from its lowest file up to the next entry's (the last one
 * up to 99, the first from 0).  @generator names the tool in the header.
 * Returns 0, -EINVAL when two files have the same version, -EIO.
 */
int rt_layout_file__generate(FILE *out, struct rt_layout_file *files, size_t n,
			     const char *generator);

#endif
