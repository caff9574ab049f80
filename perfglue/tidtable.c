/* SPDX-License-Identifier: GPL-2.0-only */
/* tidtable: per-thread entries by tid (see tidtable.h). */
#include <stdlib.h>
#include <string.h>

#include "perfglue/hash.h"
#include "perfglue/tidtable.h"

static struct rt_tid_key *key_at(void *slots, size_t size, size_t i)
{
	return (struct rt_tid_key *)((char *)slots + i * size);
}

/* The slot of @tid in @slots (@cap of them): its entry, or the free slot
 * where it goes. */
static size_t slot_index(void *slots, size_t size, size_t cap, uint32_t tid)
{
	size_t mask = cap - 1, i = rt_hash64_keyed(tid) & mask;

	while (key_at(slots, size, i)->used && key_at(slots, size, i)->tid != tid)
		i = (i + 1) & mask;
	return i;
}

/* Doubles @t when it is half full: 0, or -1 without memory (@t unchanged). */
static int reserve(struct rt_tid_table *t)
{
	size_t size = t->entry_size, n;
	void *slots;

	if ((t->used + 1) * 2 <= t->cap)
		return 0;
	n = t->cap ? t->cap * 2 : 64;
	slots = calloc(n, size);
	if (!slots)
		return -1;
	for (size_t k = 0; k < t->cap; k++) {
		const struct rt_tid_key *e = key_at(t->slots, size, k);

		if (e->used)
			memcpy(key_at(slots, size, slot_index(slots, size, n, e->tid)), e, size);
	}
	free(t->slots);
	t->slots = slots;
	t->cap = n;
	return 0;
}

void *rt_tid_table__get(struct rt_tid_table *t, uint32_t tid, bool create)
{
	struct rt_tid_key *e;

	if (create && reserve(t))
		return NULL;
	if (!t->cap)
		return NULL;
	e = key_at(t->slots, t->entry_size, slot_index(t->slots, t->entry_size, t->cap, tid));
	if (e->used)
		return e;
	if (!create)
		return NULL;
	e->used = true;
	e->tid = tid;
	t->used++;
	return e;
}

void *rt_tid_table__at(const struct rt_tid_table *t, size_t i)
{
	struct rt_tid_key *e;

	if (i >= t->cap)
		return NULL;
	e = key_at(t->slots, t->entry_size, i);
	return e->used ? e : NULL;
}

void rt_tid_table__clear(struct rt_tid_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}
