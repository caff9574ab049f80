/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * threads: the stacks of a merge run with per-thread roots ("comm-PID/TID",
 * merge's include_tid), grouped by thread, for the outputs that keep one
 * profile or label per thread (speedscope, pprof).
 */
#ifndef RT_THREADS_H
#define RT_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "rtmerge/frametext.h"
#include "rtmerge/stacks.h"

struct rt_thread_group {
	uint32_t root;                  /* the root frame's id */
	struct rt_frametext_thread id;  /* comm (borrowed from the stacks), pid, tid */
	uint64_t count, period;         /* sums over its stacks */
	size_t first, nr;               /* its stacks: order[first .. first + nr) */
};

struct rt_threads {
	struct rt_thread_group *groups; /* heaviest first (by count or period) */
	size_t nr_groups;
	size_t *order;                  /* stack indices, grouped as groups say */
	uint32_t *group_of_root;        /* frame id -> group index; UINT32_MAX: not a root */
	size_t nr_names;
};

/*
 * Groups the stacks by their root frame, heaviest thread first (ties by
 * tid, then by root text), each thread's stacks in table order.  Stacks
 * without frames are left out.  by_period weighs by period.  Returns 0 or
 * -ENOMEM; free with rt_threads__exit() (also after a failure).
 */
/*
 * The index of a stack's first frame below its root: 1, or 0 for a stack
 * of the root alone (a sample without frames), which keeps the root as its
 * one frame, as folded output counts it: otherwise viewers that list
 * samples by frame (pprof -raw) drop it and totals no longer agree.
 */
static inline uint32_t rt_threads__first_frame(const struct rt_stack *stack)
{
	return stack->nr_frames > 1 ? 1 : 0;
}

int rt_threads__init(struct rt_threads *threads, const struct rt_stacks *stacks, int by_period);
void rt_threads__exit(struct rt_threads *threads);

#endif
