/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runtime table, and what following a runtime's processes takes
 * besides the runtime's own hooks: inspecting with the table entry's image
 * description, generations, reporting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/runtime.h"

const struct rt_runtime_desc *const rt_runtimes[] = {
	&rt_runtime_cpython,
	&rt_runtime_ruby,
};

const size_t rt_nr_runtimes = sizeof(rt_runtimes) / sizeof(rt_runtimes[0]);

int rt_runtime__inspect(const struct rt_runtime_desc *rt, struct rt_image_cache *cache, pid_t pid,
			struct rt_runtime_process *proc)
{
	struct rt_process_image_opts opts = rt->image;

	memset(proc, 0, rt->proc_size);
	proc->pid = pid;
	opts.cache = cache;
	opts.ctx = proc;
	return rt_process__find_image(pid, &opts);
}

int rt_runtime__identify(struct rt_image_cache *cache, pid_t pid, const struct rt_runtime_desc **rt,
			 struct rt_runtime_process **proc)
{
	int err = -ENOENT;

	for (size_t i = 0; i < rt_nr_runtimes && err == -ENOENT; i++) {
		struct rt_runtime_process *p = malloc(rt_runtimes[i]->proc_size);

		if (!p)
			return -ENOMEM;
		err = rt_runtime__inspect(rt_runtimes[i], cache, pid, p);
		if (!err) {
			*rt = rt_runtimes[i];
			*proc = p;
			return 0;
		}
		free(p);
	}
	return err;
}

struct rt_runtime_tracker {
	const struct rt_runtime_desc *rt;
	struct rt_image_cache *cache;
	struct rt_process_tracker *processes;
	rt_runtime_found_fn found;
	void *ctx;
	uint32_t generation;
};

int rt_runtime_tracker__inspect(struct rt_runtime_tracker *tr, pid_t pid,
				struct rt_runtime_process *proc)
{
	return rt_runtime__inspect(tr->rt, tr->cache, pid, proc);
}

uint32_t rt_runtime_tracker__new_generation(struct rt_runtime_tracker *tr)
{
	return ++tr->generation;
}

void rt_runtime_tracker__report(struct rt_runtime_tracker *tr, pid_t pid,
				const struct rt_runtime_process *proc, uint32_t generation)
{
	tr->found(tr->ctx, tr->rt, pid, proc, generation);
}

/* A runtime without a check of its own: found once it inspects as one. */
static void check_once(struct rt_runtime_tracker *tr, struct rt_tracked_process *t)
{
	struct rt_runtime_process *proc = malloc(tr->rt->proc_size);

	if (!proc)
		return; /* a later event, retry or scan looks again */
	if (!rt_runtime_tracker__inspect(tr, t->pid, proc)) {
		t->found = true;
		t->retries = 0;
		rt_runtime_tracker__report(tr, t->pid, proc, rt_runtime_tracker__new_generation(tr));
	}
	free(proc);
}

static void tracker_check(void *ctx, struct rt_tracked_process *t)
{
	struct rt_runtime_tracker *tr = ctx;

	if (tr->rt->check)
		tr->rt->check(tr, t);
	else
		check_once(tr, t);
}

static void tracker_gone(void *ctx, pid_t pid)
{
	struct rt_runtime_tracker *tr = ctx;

	tr->found(tr->ctx, tr->rt, pid, NULL, 0);
}

struct rt_runtime_tracker *rt_runtime_tracker__new(const struct rt_runtime_desc *rt,
						   struct rt_image_cache *cache,
						   enum rt_process_scope scope, const pid_t *pids,
						   size_t nr_pids, rt_runtime_found_fn found,
						   void *ctx)
{
	struct rt_runtime_tracker *tr = calloc(1, sizeof(*tr));
	const struct rt_process_tracker_ops ops = {
		.exe_name = rt->exe_name,
		.retries = rt->retries,
		.state_size = rt->state_size,
		.check = tracker_check,
		.gone = tracker_gone,
		.ctx = tr,
	};

	if (!tr)
		return NULL;
	tr->rt = rt;
	tr->cache = cache;
	tr->found = found;
	tr->ctx = ctx;
	/* The walkers share one table of code objects seen, keyed by pid and
	 * generation: each runtime's generations start at its own 1/16 of
	 * the range, so two trackers never hand out the same one for a pid. */
	for (size_t i = 0; i < rt_nr_runtimes; i++)
		if (rt_runtimes[i] == rt)
			tr->generation = (uint32_t)i << 28;
	tr->processes = rt_process_tracker__new(scope, pids, nr_pids, &ops);
	if (!tr->processes) {
		free(tr);
		errno = ENOMEM;
		return NULL;
	}
	return tr;
}

struct rt_process_tracker *rt_runtime_tracker__processes(struct rt_runtime_tracker *tr)
{
	return tr->processes;
}

void rt_runtime_tracker__free(struct rt_runtime_tracker *tr)
{
	if (!tr)
		return;
	rt_process_tracker__free(tr->processes);
	free(tr);
}
