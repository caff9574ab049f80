/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/threads.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sort_ctx {
	const struct rt_stacks *stacks;
	int by_period;
};

static int compare_groups(const void *pa, const void *pb, void *arg)
{
	const struct rt_thread_group *a = pa, *b = pb;
	const struct sort_ctx *ctx = arg;
	uint64_t wa = ctx->by_period ? a->period : a->count;
	uint64_t wb = ctx->by_period ? b->period : b->count;

	if (wa != wb)
		return wa > wb ? -1 : 1;
	if (a->id.tid != b->id.tid)
		return a->id.tid < b->id.tid ? -1 : 1;
	return strcmp(rt_stacks__name(ctx->stacks, a->root), rt_stacks__name(ctx->stacks, b->root));
}

int rt_threads__init(struct rt_threads *t, const struct rt_stacks *stacks, int by_period)
{
	size_t nr = rt_stacks__nr(stacks), i, cap = 0;
	struct sort_ctx ctx = { stacks, by_period };
	size_t *fill = NULL;

	memset(t, 0, sizeof(*t));
	t->nr_names = rt_stacks__nr_names(stacks);
	t->group_of_root = malloc((t->nr_names + 1) * sizeof(*t->group_of_root));
	t->order = malloc((nr + 1) * sizeof(*t->order));
	if (!t->group_of_root || !t->order)
		return -ENOMEM;
	memset(t->group_of_root, 0xff, (t->nr_names + 1) * sizeof(*t->group_of_root));
	for (i = 0; i < nr; i++) {
		struct rt_stack st;
		struct rt_thread_group *g;

		rt_stacks__get(stacks, i, &st);
		if (!st.nr_frames)
			continue;
		if (t->group_of_root[st.frames[0]] == UINT32_MAX) {
			if (t->nr_groups == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				void *p = realloc(t->groups, ncap * sizeof(*t->groups));

				if (!p)
					return -ENOMEM;
				t->groups = p;
				cap = ncap;
			}
			g = &t->groups[t->nr_groups];
			memset(g, 0, sizeof(*g));
			g->root = st.frames[0];
			/* A root that is not "comm-PID/TID" is all comm. */
			rt_frametext__parse_thread(rt_stacks__name(stacks, g->root), &g->id);
			t->group_of_root[st.frames[0]] = (uint32_t)t->nr_groups++;
		}
		g = &t->groups[t->group_of_root[st.frames[0]]];
		g->count += st.count;
		g->period += st.period;
		g->nr++;
	}
	qsort_r(t->groups, t->nr_groups, sizeof(*t->groups), compare_groups, &ctx);
	fill = malloc((t->nr_groups + 1) * sizeof(*fill));
	if (!fill)
		return -ENOMEM;
	for (i = 0; i < t->nr_groups; i++) {
		t->group_of_root[t->groups[i].root] = (uint32_t)i;
		t->groups[i].first = i ? t->groups[i - 1].first + t->groups[i - 1].nr : 0;
		fill[i] = t->groups[i].first;
	}
	for (i = 0; i < nr; i++) {
		struct rt_stack st;

		rt_stacks__get(stacks, i, &st);
		if (st.nr_frames)
			t->order[fill[t->group_of_root[st.frames[0]]]++] = i;
	}
	free(fill);
	return 0;
}

void rt_threads__exit(struct rt_threads *t)
{
	free(t->groups);
	free(t->order);
	free(t->group_of_root);
	memset(t, 0, sizeof(*t));
}
