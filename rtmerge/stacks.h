/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stacks: interned frame names and aggregated stacks.
 *
 * Frames are interned into small integer ids; a stack is a sequence of ids,
 * root first, and equal stacks are counted once with their sample count and
 * summed period.  Memory grows with distinct frames and stacks, not with the
 * number of samples.
 */
#ifndef RT_STACKS_H
#define RT_STACKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rt_stacks;

/* One aggregated stack, borrowed from the table. */
struct rt_stack {
	const uint32_t *frames; /* frame ids, root first */
	uint32_t nr_frames;
	uint64_t count;
	uint64_t period;
};

/* Returns an empty table or NULL with errno set. */
struct rt_stacks *rt_stacks__new(void);
void rt_stacks__free(struct rt_stacks *stacks);

/* Interns a frame name of len bytes; returns its id, or -ENOMEM. */
int64_t rt_stacks__intern(struct rt_stacks *stacks, const char *name, size_t len);
/* Number of interned names: frame ids run from 0 to this minus one. */
size_t rt_stacks__nr_names(const struct rt_stacks *stacks);
/* The name of a frame id; borrowed until free. */
const char *rt_stacks__name(const struct rt_stacks *stacks, uint32_t id);

/* Counts one occurrence of the stack (root first). 0 or -ENOMEM. */
int rt_stacks__add(struct rt_stacks *stacks, const uint32_t *frames, uint32_t nr_frames,
		   uint64_t count, uint64_t period);
/* rt_stacks__add returning the stack's index (for rt_stacks__count), or -ENOMEM. */
int64_t rt_stacks__add_entry(struct rt_stacks *stacks, const uint32_t *frames, uint32_t nr_frames,
			     uint64_t count, uint64_t period);
/* Counts more occurrences of stack number idx, as rt_stacks__add of its frames would. */
void rt_stacks__count(struct rt_stacks *stacks, size_t idx, uint64_t count, uint64_t period);

size_t rt_stacks__nr(const struct rt_stacks *stacks);
/* The most frames a stack has (0 without stacks): what an array of one
 * stack's frames or names needs. */
uint32_t rt_stacks__deepest(const struct rt_stacks *stacks);
/* Stack number idx (0 <= idx < nr) in insertion order. */
void rt_stacks__get(const struct rt_stacks *stacks, size_t idx, struct rt_stack *out);

/*
 * Writes folded lines "a;b;c N" sorted by their text, as
 * stackcollapse-perf.pl does; by_period uses the summed period as N.
 * Returns 0 or -errno.
 */
int rt_stacks__write_folded(const struct rt_stacks *stacks, FILE *out, int by_period);

#endif
