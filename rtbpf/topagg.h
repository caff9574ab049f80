/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * topagg: the function table behind `rt-bpf top`.
 *
 * Takes merged stacks one sample at a time (root first, as rtmerge names
 * frames: the comm, then native and interpreter frames spliced), and counts
 * for each function the samples it was the leaf of (own) and the samples it
 * was anywhere on the stack (total, once per sample however often recursion
 * repeats it), per thread.  An interpreter frame "func (file.py:42)" counts
 * for its function "func (file.py)" and its line; the function is shown with
 * its hottest line.  Snapshots sum over all threads or one, since the start
 * or since the previous snapshot (a window), sorted by own or total.
 */
#ifndef RT_TOPAGG_H
#define RT_TOPAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt_top_agg;

enum rt_top_sort {
	RT_TOP_SORT_OWN,    /* by own samples, then total */
	RT_TOP_SORT_TOTAL,  /* by total samples, then own */
};

/* One function of a snapshot; name borrowed from the table until it is freed. */
struct rt_top_row {
	const char *name;   /* "func (file.py)" or a native name */
	int line;           /* the function's hottest line, 0 when it has none */
	uint64_t own, total;
};

struct rt_top_snapshot_opts {
	size_t sz;              /* sizeof(struct rt_top_snapshot_opts) */
	enum rt_top_sort sort;
	uint32_t tid;           /* 0: every thread */
	/* Count since the previous windowed snapshot instead of since the start
	 * (and start a new window). */
	bool window;
	/* Interpreter functions only, own counting the leafmost interpreter
	 * frame of each sample (the time of the native code it called, or of
	 * an interpreter without symbols, goes to it). */
	bool interp_only;
};

/* Totals a snapshot covers. */
struct rt_top_snapshot_info {
	uint64_t samples;       /* samples counted (of the thread, in the window) */
	size_t nr_functions;    /* distinct functions, before the row limit */
};

/* One thread seen. */
struct rt_top_thread {
	uint32_t tid;
	const char *comm;       /* borrowed until the next rt_top_agg__add */
	uint64_t samples;
};

/* Returns an empty table, or NULL with errno set. */
struct rt_top_agg *rt_top_agg__new(void);
/* Frees the table; NULL is a no-op. */
void rt_top_agg__free(struct rt_top_agg *agg);

/*
 * Counts one sample of thread @tid: @frames[0] is the root (the thread's
 * comm), @frames[nr - 1] the leaf, each @lens[i] bytes long (not
 * NUL-terminated).  Returns 0, -EINVAL when @nr is 0, or -ENOMEM.
 */
int rt_top_agg__add(struct rt_top_agg *agg, uint32_t tid, const char *const *frames,
		    const size_t *lens, size_t nr);

/*
 * Counts one line of rtmerge's per-sample output, "TID TIME root;...;leaf"
 * (@len bytes, without the newline).  Returns 0, -EINVAL for a line of
 * another shape (not counted), or -ENOMEM.
 */
int rt_top_agg__add_line(struct rt_top_agg *agg, const char *line, size_t len);

/*
 * Fills @rows (room for @max) with the hottest functions under @opts, and
 * @info (may be NULL).  Returns the number of rows, or -ENOMEM.
 */
int rt_top_agg__snapshot(struct rt_top_agg *agg, const struct rt_top_snapshot_opts *opts,
			 struct rt_top_row *rows, size_t max, struct rt_top_snapshot_info *info);

/* Samples counted since the start, all threads. */
uint64_t rt_top_agg__samples(const struct rt_top_agg *agg);

/* The threads seen, most samples first, into @out (room for @max).
 * Returns how many were written. */
size_t rt_top_agg__threads(const struct rt_top_agg *agg, struct rt_top_thread *out, size_t max);

#endif
