/* SPDX-License-Identifier: GPL-2.0-only */
/* Growing arrays: the doubling every table of the project uses. */
#ifndef RT_PERFGLUE_ARRAY_H
#define RT_PERFGLUE_ARRAY_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * Makes room for @need elements of @elem bytes in *@array (capacity
 * *@cap, in elements), doubling from 64.  Returns 0 or -ENOMEM (the array
 * is left as it was).  Elements move: keep indexes, not pointers.
 */
static inline int rt_array__grow(void **array, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*array, n * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

#endif
