/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * grow: the one way an array grows here.  Capacity doubles (amortized O(1)
 * appends), sizes are checked for overflow, and new elements start zeroed,
 * so a slot past the old end never holds stale bytes.
 */
#ifndef RT_GROW_H
#define RT_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Returns items, reallocated if needed so that *cap (in elements of size
 * bytes) is at least need, doubling from first; the new elements are zero.
 * Returns NULL when memory runs out or the size overflows: items is then
 * unchanged and still owned by the caller, and so is *cap.
 */
static inline void *rt_array__grow(void *items, size_t *cap, size_t need, size_t size,
				   size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (!n)
		n = 1;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return NULL;
		n *= 2;
	}
	if (n == *cap)
		return items;
	if (n > SIZE_MAX / size)
		return NULL;
	p = realloc(items, n * size);
	if (!p)
		return NULL;
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	*cap = n;
	return p;
}

/*
 * RT_ARRAY_GROW(items, cap, need, first): makes room for need elements in
 * the array items of capacity cap (a size_t), as rt_array__grow().
 * Evaluates to 0, or -ENOMEM with items and cap unchanged.
 */
#define RT_ARRAY_GROW(items, cap, need, first) __extension__ ({                   \
	void *grown_ = rt_array__grow((items), &(cap), (need), sizeof(*(items)), (first)); \
	grown_ ? ((items) = grown_, 0) : -ENOMEM;                                      \
})

#endif
