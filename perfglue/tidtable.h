/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tidtable: the one per-thread table, for state kept per tid (a thread's
 * off-CPU interval and switch sample, its last switch samples).  Open
 * addressing, doubled when half full; tids come from files that others
 * wrote, so they are hashed under the process's secret (perfglue/hash.h).
 * Each entry is entry_size bytes and begins with a struct rt_tid_key.
 */
#ifndef RT_TIDTABLE_H
#define RT_TIDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first member of every entry. */
struct rt_tid_key {
	uint32_t tid;
	bool used;
};

/* Zero-initialised with .entry_size set is an empty table. */
struct rt_tid_table {
	void *slots;
	size_t entry_size;
	size_t cap, used; /* cap: a power of two (or 0) */
};

/*
 * Thread @tid's entry, created (zeroed but for its key) when @create;
 * NULL when absent or when memory runs out.  Entries move when the table
 * grows: a pointer is good until the next call that creates one.
 */
void *rt_tid_table__get(struct rt_tid_table *t, uint32_t tid, bool create);

/* Slot @i (below t->cap) if it holds an entry, else NULL: for visiting
 * every entry. */
void *rt_tid_table__at(const struct rt_tid_table *t, size_t i);

/* Frees the slots (not what entries point to) and empties the table. */
void rt_tid_table__clear(struct rt_tid_table *t);

#endif
