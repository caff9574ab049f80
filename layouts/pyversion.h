/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CPython version an executable or libpython was built as, read from
 * the file itself (not its name): Py_Version's value (3.11+), else the
 * PY_VERSION string that Py_GetVersion passes to its formatter.  Works on
 * stripped files (both symbols are exported) and PIE or not.
 */
#ifndef RT_LAYOUTS_PYVERSION_H
#define RT_LAYOUTS_PYVERSION_H

struct rt_pyversion {
	int major, minor, patch;
};

/*
 * Reads the version of the CPython built into ELF file @path.  Returns 0,
 * -ENOENT when the file defines neither symbol or no version was found in
 * them, or another -errno when it cannot be read.
 */
int rt_pyversion__from_elf(const char *path, struct rt_pyversion *out);

/* Parses "X.Y.Z" (a suffix such as "rc1" or "+" is allowed). Returns 0 or -EINVAL. */
int rt_pyversion__parse(const char *s, struct rt_pyversion *out);

#endif
