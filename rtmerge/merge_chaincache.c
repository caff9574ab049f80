/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: the callchain cache.  A system-wide recording repeats the same
 * callchains in the same threads many times; a plain sample (native frames
 * only, no interpreter stack, task, stack copy or per-sample output) whose
 * callchain, thread and maps generation were seen before folds into the
 * same stack with the same counters, so it only adds to that stack's count.
 * Only callchains whose every frame came from the frame cache are kept:
 * those name the same frames the next time.
 */
#include "rtmerge/merge_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/hash.h"

/* The thread's name as the root frame takes it (its process's before its
 * own COMM record); interned, so the pointer stands for the text. */
static const char *root_comm(struct rt_merge *m, const struct rt_perf_sample *s)
{
	const char *comm = rt_machine__thread_comm(m->tool.machine, s->tid);

	return comm ? comm : rt_machine__thread_comm(m->tool.machine, s->pid);
}

bool rt_merge__chain_cacheable(const struct rt_merge *m, const struct rt_perf_sample *s,
			       bool is_switch)
{
	return (s->sample_type & PERF_SAMPLE_CALLCHAIN) && s->nr_callchain <= CHAIN_CACHE_DEPTH &&
	       !(s->user_regs && s->user_stack_size) && !m->opts.per_sample &&
	       !m->opts.leaf_field && !is_switch &&
	       (m->opts.view == RT_MERGE_VIEW_CPU || m->opts.view == RT_MERGE_VIEW_WALL);
}

static uint64_t chain_hash(const struct rt_perf_sample *s, const char *comm, uint64_t gen)
{
	uint64_t h = rt_hash64_keyed(((uint64_t)s->pid << 32 | s->tid) ^ gen * 31 ^
				     (uint64_t)s->cpumode << 60 ^ (uintptr_t)comm);

	/* word at a time, as rtmerge/stacks.c hashes frame ids: keyed above */
	for (uint64_t k = 0; k < s->nr_callchain; k++) {
		h ^= s->callchain[k];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static struct chain_slot *slot_of(struct rt_merge *m, uint64_t h)
{
	if (!m->chain_cache && !(m->chain_cache = calloc(CHAIN_CACHE, sizeof(*m->chain_cache))))
		return NULL;
	return &m->chain_cache[h & (CHAIN_CACHE - 1)];
}

/* Whether slot holds exactly this sample's key. */
static bool slot_matches(const struct chain_slot *c, uint64_t h, const struct rt_perf_sample *s,
			 const char *comm, uint64_t gen)
{
	return c->used && c->hash == h && c->pid == s->pid && c->tid == s->tid &&
	       c->comm == comm && c->generation == gen && c->cpumode == s->cpumode &&
	       c->nr_callchain == s->nr_callchain &&
	       !memcmp(c->callchain, s->callchain, s->nr_callchain * sizeof(*s->callchain));
}

int rt_merge__chain_hit(struct rt_merge *m, const struct rt_perf_sample *s, uint64_t gen)
{
	const char *comm = root_comm(m, s);
	uint64_t h = chain_hash(s, comm, gen);
	struct chain_slot *c = slot_of(m, h);

	if (!c)
		return -ENOMEM;
	if (!slot_matches(c, h, s, comm, gen))
		return 0;
	/* what the fold of this callchain counted, counted again */
	m->stats.frames += c->frames;
	for (size_t i = 0; i < RT_SYMBOL_NR_STATUS; i++)
		m->stats.unresolved[i] += c->unresolved[i];
	m->stats.unresolved_no_map += c->unresolved_no_map;
	m->stats.collapsed_frames += c->collapsed;
	m->stats.empty_callchains += c->empty;
	m->stats.samples++;
	rt_stacks__count(m->stacks, c->stack, 1, s->period);
	return 1;
}

void rt_merge__chain_begin(struct rt_merge *m, struct chain_counts *before)
{
	memcpy(before->unresolved, m->stats.unresolved, sizeof(before->unresolved));
	before->unresolved_no_map = m->stats.unresolved_no_map;
	before->collapsed = m->stats.collapsed_frames;
	before->empty = m->stats.empty_callchains;
	before->frames = m->stats.frames;
}

int rt_merge__chain_store(struct rt_merge *m, const struct rt_perf_sample *s, uint64_t gen,
			  const struct chain_counts *before, size_t stack)
{
	const char *comm = root_comm(m, s);
	uint64_t h = chain_hash(s, comm, gen);
	struct chain_slot *c = slot_of(m, h);

	if (!c)
		return -ENOMEM;
	/* one sample adds at most MAX_STACK frames to each counter */
	if (stack > UINT32_MAX)
		return 0;
	*c = (struct chain_slot){
		.used = true,
		.hash = h,
		.pid = s->pid,
		.tid = s->tid,
		.comm = comm,
		.generation = gen,
		.cpumode = s->cpumode,
		.nr_callchain = (uint32_t)s->nr_callchain,
		.stack = (uint32_t)stack,
		.frames = (uint32_t)(m->stats.frames - before->frames),
		.unresolved_no_map = (uint32_t)(m->stats.unresolved_no_map -
						before->unresolved_no_map),
		.collapsed = (uint32_t)(m->stats.collapsed_frames - before->collapsed),
		.empty = (uint32_t)(m->stats.empty_callchains - before->empty),
	};
	for (size_t i = 0; i < RT_SYMBOL_NR_STATUS; i++)
		c->unresolved[i] = (uint32_t)(m->stats.unresolved[i] - before->unresolved[i]);
	memcpy(c->callchain, s->callchain, s->nr_callchain * sizeof(*s->callchain));
	return 0;
}

void rt_merge__chain_forget(struct rt_merge *m)
{
	/* freed rather than cleared: at the end of a run it is seldom used again */
	free(m->chain_cache);
	m->chain_cache = NULL;
}
