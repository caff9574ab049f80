/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>

#include "runtimes/ruby/cfpstack.h"

#define DEPTH_UNKNOWN 0xffffffffu

static int reserve(struct rt_rbstack *s, uint32_t depth)
{
	struct rt_rbstack_frame *f;
	size_t cap = s->cap ? s->cap : 64;

	if (depth <= s->cap)
		return 0;
	while (cap < depth)
		cap *= 2;
	f = realloc(s->frames, cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->frames = f;
	s->cap = cap;
	return 0;
}

static void fill(struct rt_rbstack *s, uint32_t from, uint32_t to, int64_t id)
{
	for (uint32_t d = from; d < to; d++) {
		s->frames[d].function_id = id;
		s->frames[d].path_id = -1;
		s->frames[d].line = 0;
	}
}

static void pop_to(struct rt_rbstack *s, uint32_t depth, const struct rt_rbstack_ops *ops)
{
	while (s->depth > depth) {
		const struct rt_rbstack_frame *f = &s->frames[--s->depth];

		if (f->function_id >= 0)
			ops->ret(ops->ctx, s->tid, f);
		else if (f->function_id == RT_RBSTACK_UNKNOWN)
			s->unmatched++;
	}
}

int rt_rbstack__move(struct rt_rbstack *s, uint32_t prev_depth, uint32_t depth,
		     const struct rt_rbstack_frame *top, const struct rt_rbstack_ops *ops)
{
	if (reserve(s, depth) || reserve(s, prev_depth == DEPTH_UNKNOWN ? 0 : prev_depth))
		return -ENOMEM;
	if (prev_depth == DEPTH_UNKNOWN || !s->known) {
		/* what ran before is unknown, the new top frame included: it
		 * may be a push or a pop */
		fill(s, 0, depth, RT_RBSTACK_UNKNOWN);
		s->depth = depth;
		s->known = 1;
		return 0;
	}
	if (prev_depth != s->depth) {
		/* records were lost in between: what they did is unknown */
		s->resyncs++;
		if (prev_depth < s->depth)
			pop_to(s, prev_depth, ops);
		else
			fill(s, s->depth, prev_depth, RT_RBSTACK_UNKNOWN);
		s->depth = prev_depth;
	}
	if (depth < s->depth) {
		pop_to(s, depth, ops);
		return 0;
	}
	if (depth == s->depth || !depth)
		return 0;
	fill(s, s->depth, depth - 1, RT_RBSTACK_NOT_CALL);
	s->frames[depth - 1] = *top;
	s->depth = depth;
	if (top->function_id >= 0)
		ops->call(ops->ctx, s->tid, top);
	return 0;
}

const struct rt_rbstack_frame *rt_rbstack__at(const struct rt_rbstack *s, uint32_t depth)
{
	return depth && depth <= s->depth ? &s->frames[depth - 1] : NULL;
}

void rt_rbstack__finish(struct rt_rbstack *s, const struct rt_rbstack_ops *ops)
{
	pop_to(s, 0, ops);
}

void rt_rbstack__release(struct rt_rbstack *s)
{
	free(s->frames);
	s->frames = NULL;
	s->cap = 0;
	s->depth = 0;
	s->known = 0;
}
