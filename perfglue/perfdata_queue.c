/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata: the time-ordering queue.  Records wait, in place in the file
 * mapping or copied into an arena, until a FINISHED_ROUND says no older
 * record can follow; then they are sorted and delivered.
 */
#include "perfglue/perfdata_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/grow.h"

/* Copies a queued record's bytes into the arena. */
static int arena_copy(struct rt_perf_reader *r, struct queued *q, const uint8_t *rec)
{
	/* Entries start 8-aligned: the sample parser reads u64 arrays in place. */
	size_t need = r->arena_len + ((q->size + 7) & ~(size_t)7);

	if (need > r->arena_cap) {
		size_t cap = r->arena_cap ? r->arena_cap : (1U << 20);
		uint8_t *n;

		while (cap < need)
			cap *= 2;
		n = realloc(r->arena, cap);
		if (!n)
			return -ENOMEM;
		r->arena = n;
		r->arena_cap = cap;
	}
	memcpy(r->arena + r->arena_len, rec, q->size);
	q->arena_offset = r->arena_len;
	q->mapped = NULL;
	r->arena_len = need;
	return 0;
}

int rt_perf_reader__queue_push(struct rt_perf_reader *r, const uint8_t *rec, uint32_t size,
			       uint64_t time, uint64_t offset)
{
	struct queued *q;

	if (RT_ARRAY_GROW(r->queue, r->queue_cap, r->queue_len + 1, 4096))
		return -ENOMEM;
	q = &r->queue[r->queue_len++];
	q->time = time;
	q->seq = r->seq++;
	q->file_offset = offset;
	q->size = size;
	q->arena_offset = 0;
	q->mapped = NULL;
	if (r->map && rec >= r->map && rec + size <= r->map + r->map_len &&
	    !((uintptr_t)rec & 7)) {
		q->mapped = rec;
		return 0;
	}
	return arena_copy(r, q, rec);
}

/* Every queued record that lives in the file mapping moves to the arena. */
int rt_perf_reader__queue_evacuate(struct rt_perf_reader *r)
{
	size_t i;
	int err;

	for (i = 0; i < r->queue_len; i++) {
		struct queued *q = &r->queue[i];

		if (!q->mapped)
			continue;
		err = arena_copy(r, q, q->mapped);
		if (err)
			return err;
	}
	return 0;
}

static bool queued_before(const struct queued *x, const struct queued *y)
{
	return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

/*
 * Sorts the queue by (time, seq).  perf writes each CPU's buffer in turn,
 * so a round is a few sorted runs: merge the runs bottom-up instead of a
 * general comparison sort.
 */
static int queue_sort(struct rt_perf_reader *r)
{
	size_t n = r->queue_len, width, i;
	struct queued *src = r->queue, *dst;
	size_t *runs, nr_runs = 0;

	for (i = 1; i < n && !queued_before(&src[i], &src[i - 1]); i++)
		;
	if (i >= n)
		return 0;
	if (r->queue_tmp_cap < n) {
		struct queued *t = realloc(r->queue_tmp, r->queue_cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->queue_tmp = t;
		r->queue_tmp_cap = r->queue_cap;
	}
	/* Run boundaries. */
	runs = malloc((n + 1) * sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	runs[nr_runs++] = 0;
	for (i = 1; i < n; i++)
		if (queued_before(&src[i], &src[i - 1]))
			runs[nr_runs++] = i;
	runs[nr_runs] = n;
	dst = r->queue_tmp;
	for (width = 1; width < nr_runs; width *= 2) {
		size_t k;

		for (k = 0; k < nr_runs; k += 2 * width) {
			size_t lo = runs[k];
			size_t mid = runs[k + width < nr_runs ? k + width : nr_runs];
			size_t hi = runs[k + 2 * width < nr_runs ? k + 2 * width : nr_runs];
			size_t a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				dst[o++] = queued_before(&src[b], &src[a]) ? src[b++] : src[a++];
			while (a < mid)
				dst[o++] = src[a++];
			while (b < hi)
				dst[o++] = src[b++];
		}
		struct queued *t = src;

		src = dst;
		dst = t;
	}
	free(runs);
	if (src != r->queue) {
		/* The sorted result sits in the scratch array: swap the two. */
		struct queued *t = r->queue;
		size_t cap = r->queue_cap;

		r->queue = src;
		r->queue_cap = r->queue_tmp_cap;
		r->queue_tmp = t;
		r->queue_tmp_cap = cap;
	}
	return 0;
}

/* Delivering a round of --call-graph dwarf samples: PREFETCH_AHEAD samples
 * ahead, the header, registers, first PREFETCH_LINES lines of the stack copy
 * (where unwinding starts) and its dynamic size start loading. */
#define PREFETCH_AHEAD 4
#define PREFETCH_LINES 32
static void prefetch_record(const uint8_t *rec, uint32_t size, uint32_t stack_user)
{
	const uint8_t *stack;

	__builtin_prefetch(rec);
	__builtin_prefetch(rec + 64);
	__builtin_prefetch(rec + 128);
	if (size < stack_user + 3 * sizeof(uint64_t))
		return;
	stack = rec + size - sizeof(uint64_t) - stack_user;
	for (int k = 0; k < PREFETCH_LINES; k++)
		__builtin_prefetch(stack + 64 * k);
	__builtin_prefetch(rec + size - sizeof(uint64_t));
}

/* Deliver queued records with time <= limit, in time order; keep the rest. */
int rt_perf_reader__queue_flush(struct rt_perf_reader *r, struct rt_perf_tool *tool,
				uint64_t limit)
{
	size_t i, keep = 0, arena_keep = 0;
	uint32_t stack_user;
	uint8_t *spare;
	int err;

	if (!r->queue_len)
		return 0;
	err = queue_sort(r);
	if (err)
		return err;
	stack_user = rt_perf_reader__stack_user(r);
	for (i = 0; i < r->queue_len && r->queue[i].time <= limit; i++) {
		struct queued *q = &r->queue[i];

		if (stack_user && i + PREFETCH_AHEAD < r->queue_len) {
			const struct queued *a = &r->queue[i + PREFETCH_AHEAD];

			prefetch_record(a->mapped ? a->mapped : r->arena + a->arena_offset, a->size,
					stack_user);
		}
		err = rt_perf_reader__deliver(r, tool,
					      q->mapped ? q->mapped : r->arena + q->arena_offset, q->size,
					      q->file_offset);
		if (err)
			return err;
		r->last_flush_time = q->time;
	}
	if (i == r->queue_len) {
		r->queue_len = 0;
		r->arena_len = 0;
		return 0;
	}
	/* Copy the survivors into the spare arena, then swap the arenas. */
	if (r->spare_cap < r->arena_cap) {
		spare = realloc(r->spare, r->arena_cap);
		if (!spare)
			return -ENOMEM;
		r->spare = spare;
		r->spare_cap = r->arena_cap;
	}
	for (; i < r->queue_len; i++) {
		struct queued q = r->queue[i];

		if (!q.mapped) {
			memcpy(r->spare + arena_keep, r->arena + q.arena_offset, q.size);
			q.arena_offset = arena_keep;
			arena_keep += (q.size + 7) & ~(size_t)7;
		}
		r->queue[keep++] = q;
	}
	spare = r->arena;
	r->arena = r->spare;
	r->spare = spare;
	i = r->arena_cap;
	r->arena_cap = r->spare_cap;
	r->spare_cap = i;
	r->queue_len = keep;
	r->arena_len = arena_keep;
	return 0;
}
