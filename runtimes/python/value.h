/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cheap Python values from the bytes BPF read after an object's header
 * (the argument and return value records of bpf/trace.h): None, int and
 * bool within 60 bits, float, and short compact ASCII str, per version
 * (2.7's PyIntObject and PyStringObject, 3.12's tagged PyLongObject).
 */
#ifndef RT_RUNTIMES_PYTHON_VALUE_H
#define RT_RUNTIMES_PYTHON_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "layouts/layout.h"

enum rt_pyvalue_kind {
	RT_PYVALUE_OTHER, /* not decoded: only its type's name is known */
	RT_PYVALUE_NONE,
	RT_PYVALUE_INT,
	RT_PYVALUE_BOOL,
	RT_PYVALUE_FLOAT,
	RT_PYVALUE_STR,
};

struct rt_pyvalue {
	enum rt_pyvalue_kind kind;
	int64_t i;          /* INT, BOOL (0 or 1) */
	double f;           /* FLOAT */
	const uint8_t *text; /* STR: ASCII, inside the caller's @data */
	size_t len;
};

/*
 * Decodes an object of type @type_name (tp_name) of CPython @major.@minor
 * (layout @c) from @data, its @size bytes from offset 16 on (after
 * ob_refcnt and ob_type).  What cannot be decoded is RT_PYVALUE_OTHER:
 * a large int, a non-ASCII or long str, any other type.  Returns the kind.
 */
enum rt_pyvalue_kind rt_pyvalue__decode(const struct rt_layout_cpython *c, int major, int minor,
					const char *type_name, const uint8_t *data, size_t size,
					struct rt_pyvalue *v);

#endif
