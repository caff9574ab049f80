/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/decode_common.h"
#include "perfglue/hash.h"

#define INITIAL_CAP 256

static uint64_t hash_str(const char *s)
{
	return rt_hash_str(s, RT_HASH_SEED);
}

int rt_string_table__init(struct rt_string_table *t)
{
	t->used = 0;
	t->cap = INITIAL_CAP;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	return t->slots ? 0 : -ENOMEM;
}

void rt_string_table__exit(struct rt_string_table *t)
{
	if (t->slots)
		for (size_t i = 0; i < t->cap; i++)
			free(t->slots[i]);
	free(t->slots);
	t->slots = NULL;
}

const char *rt_string_table__intern(struct rt_string_table *t, const char *s)
{
	size_t mask, i;

	if (t->used * 2 >= t->cap) {
		size_t ncap = t->cap * 2;
		char **n = calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < t->cap; j++) {
			if (!t->slots[j])
				continue;
			for (i = hash_str(t->slots[j]) & (ncap - 1); n[i]; i = (i + 1) & (ncap - 1))
				;
			n[i] = t->slots[j];
		}
		free(t->slots);
		t->slots = n;
		t->cap = ncap;
	}
	mask = t->cap - 1;
	for (i = hash_str(s) & mask; t->slots[i]; i = (i + 1) & mask)
		if (!strcmp(t->slots[i], s))
			return t->slots[i];
	t->slots[i] = strdup(s);
	if (!t->slots[i])
		return NULL;
	t->used++;
	return t->slots[i];
}

static size_t code_slot(uint32_t pid, uint64_t addr, size_t cap)
{
	return rt_hash64_keyed(addr ^ ((uint64_t)pid << 47) ^ pid) & (cap - 1);
}

static struct rt_code_key *code_key(const struct rt_code_table *t, unsigned char *slots, size_t i)
{
	return (struct rt_code_key *)(slots + i * t->entry_size);
}

int rt_code_table__init(struct rt_code_table *t, size_t entry_size)
{
	t->entry_size = entry_size;
	t->used = 0;
	t->cap = INITIAL_CAP;
	t->slots = calloc(t->cap, entry_size);
	return t->slots ? 0 : -ENOMEM;
}

void rt_code_table__exit(struct rt_code_table *t, void (*exit_entry)(void *entry))
{
	if (t->slots && exit_entry)
		for (size_t i = 0; i < t->cap; i++)
			exit_entry(code_key(t, t->slots, i));
	free(t->slots);
	t->slots = NULL;
}

void *rt_code_table__find(const struct rt_code_table *t, uint32_t pid, uint64_t addr)
{
	size_t mask = t->cap - 1;

	for (size_t i = code_slot(pid, addr, t->cap); code_key(t, t->slots, i)->used; i = (i + 1) & mask) {
		struct rt_code_key *k = code_key(t, t->slots, i);

		if (k->pid == pid && k->addr == addr)
			return k;
	}
	return NULL;
}

static int code_table_grow(struct rt_code_table *t)
{
	size_t ncap = t->cap * 2;
	unsigned char *n = calloc(ncap, t->entry_size);

	if (!n)
		return -ENOMEM;
	for (size_t j = 0; j < t->cap; j++) {
		struct rt_code_key *k = code_key(t, t->slots, j);
		size_t i;

		if (!k->used)
			continue;
		for (i = code_slot(k->pid, k->addr, ncap); code_key(t, n, i)->used; i = (i + 1) & (ncap - 1))
			;
		memcpy(code_key(t, n, i), k, t->entry_size);
	}
	free(t->slots);
	t->slots = n;
	t->cap = ncap;
	return 0;
}

void *rt_code_table__insert(struct rt_code_table *t, uint32_t pid, uint64_t addr)
{
	struct rt_code_key *k = rt_code_table__find(t, pid, addr);
	size_t i;

	if (k)
		return k;
	if (t->used * 2 >= t->cap && code_table_grow(t))
		return NULL;
	for (i = code_slot(pid, addr, t->cap); code_key(t, t->slots, i)->used; i = (i + 1) & (t->cap - 1))
		;
	k = code_key(t, t->slots, i);
	memset(k, 0, t->entry_size);
	k->used = true;
	k->pid = pid;
	k->addr = addr;
	t->used++;
	return k;
}

int rt_rec_stack__check(const struct rt_rec_stack *rec, size_t size, uint32_t runtime,
			uint32_t pid, uint32_t tid, unsigned int *flags)
{
	if (rec->hdr.size < sizeof(*rec) || rec->hdr.size > size || rec->nr_frames > RT_REC_MAX_FRAMES ||
	    sizeof(*rec) + (size_t)rec->nr_frames * sizeof(struct rt_rec_frame) > rec->hdr.size ||
	    rec->runtime != runtime || rec->flags & ~(RT_REC_STACK_TRUNCATED | RT_REC_STACK_READ_FAULT |
					RT_REC_STACK_OFFCPU | RT_REC_STACK_GIL_HELD |
					RT_REC_STACK_SAME_CHAIN | RT_REC_STACK_CHAIN_MASK |
					RT_REC_STACK_CHAIN_KEEP))
		return -EINVAL;
	if ((pid != UINT32_MAX && pid != rec->pid) || (tid != UINT32_MAX && tid != rec->tid))
		return -EINVAL;
	*flags = 0;
	if (rec->flags & RT_REC_STACK_TRUNCATED)
		*flags |= RT_INTERP_STACK_TRUNCATED;
	if (rec->flags & RT_REC_STACK_READ_FAULT)
		*flags |= RT_INTERP_STACK_INCOMPLETE;
	return 0;
}

void rt_interp_frame__set(struct rt_interp_frame *frame, const char *function, const char *file,
			  int line)
{
	frame->function = function;
	frame->file = file;
	frame->line = line > 0 ? line : 0;
	if (line <= 0)
		frame->flags |= RT_INTERP_FRAME_NO_LINE;
}

void rt_interp_frame__set_unknown(struct rt_interp_frame *frame, const char *function,
				  unsigned int *flags, struct rt_interp_decoder_stats *stats)
{
	frame->function = function;
	frame->file = "";
	frame->line = 0;
	frame->flags |= RT_INTERP_FRAME_NO_SYMBOLS | RT_INTERP_FRAME_NO_LINE;
	*flags |= RT_INTERP_STACK_NO_SYMBOLS;
	stats->unknown_frames++;
}

int rt_interp_stack__finish(struct rt_interp_stack *out, const struct rt_rec_stack *rec,
			    int runtime, const struct rt_interp_frame *frames, size_t nr_frames,
			    unsigned int flags, struct rt_interp_decoder_stats *stats)
{
	out->pid = rec->pid;
	out->tid = rec->tid;
	out->runtime = runtime;
	out->nr_frames = nr_frames;
	out->frames = frames;
	out->flags = flags;
	stats->stacks++;
	stats->frames += nr_frames;
	if (flags & RT_INTERP_STACK_TRUNCATED)
		stats->truncated++;
	if (flags & RT_INTERP_STACK_INCOMPLETE)
		stats->incomplete++;
	return 1;
}

struct rt_runtime_decoder *rt_runtime_decoder__new(const struct rt_decoding *d)
{
	struct rt_runtime_decoder *dec = calloc(1, sizeof(*dec));

	if (!dec)
		return NULL;
	if (rt_code_table__init(&dec->codes, d->entry_size) ||
	    rt_string_table__init(&dec->strings)) {
		rt_runtime_decoder__free(dec, d);
		return NULL;
	}
	return dec;
}

void rt_runtime_decoder__free(struct rt_runtime_decoder *dec, const struct rt_decoding *d)
{
	if (!dec)
		return;
	rt_code_table__exit(&dec->codes, d->exit_entry);
	rt_string_table__exit(&dec->strings);
	free(dec);
}
