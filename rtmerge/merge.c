/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: the object, its run over the reader, and the kernel symbols that
 * load on a second thread while samples are read.
 */
#include "rtmerge/merge_internal.h"
#include "rtmerge/tasks.h"
#include "rtmerge/tracefields.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct rt_merge *rt_merge__new(const struct rt_merge_opts *opts)
{
	struct rt_merge *m = calloc(1, sizeof(*m));

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		memcpy(&m->opts, opts, opts->sz < sizeof(m->opts) ? opts->sz : sizeof(m->opts));
	m->tool.tool.sample = rt_merge__on_sample;
	rt_machine_tool__init(&m->tool);
	m->machine_fork = m->tool.tool.fork;
	m->tool.tool.fork = rt_merge__on_fork;
	m->machine_comm = m->tool.tool.comm;
	m->tool.tool.comm = rt_merge__on_comm;
	m->tool.tool.ksymbol = rt_merge__on_ksymbol;
	m->tool.tool.skip_data_mmaps = true; /* only code is named and unwound */
	m->tool.machine = rt_machine__new();
	m->stacks = rt_stacks__new();
	if (m->opts.inline_frames) {
		struct rt_symbolizer_opts sopts = { .sz = sizeof(sopts) };

		if (m->opts.symbolizer)
			memcpy(&sopts, m->opts.symbolizer, m->opts.symbolizer->sz < sizeof(sopts) ?
			       m->opts.symbolizer->sz : sizeof(sopts));
		sopts.sz = sizeof(sopts);
		sopts.inline_frames = true;
		m->symbolizer = rt_symbolizer__new(&sopts);
	} else {
		m->symbolizer = rt_symbolizer__new(m->opts.symbolizer);
	}
	m->decoder = rt_interp_decoder__new();
	m->offcpu = rt_offcpu__new(m->opts.view);
	m->switches.entry_size = sizeof(struct switch_slot);
	m->tasks = rt_task_tracker__new();
	/* the unwinder comes with the first stack copy (merge_splice.c) */
	if (!m->tool.machine || !m->stacks || !m->symbolizer || !m->decoder || !m->offcpu ||
	    !m->tasks) {
		int err = errno ? errno : ENOMEM;

		rt_merge__free(m);
		errno = err;
		return NULL;
	}
	return m;
}

void rt_merge__free(struct rt_merge *m)
{
	if (!m)
		return;
	rt_machine__free(m->tool.machine);
	rt_stacks__free(m->stacks);
	rt_symbolizer__free(m->symbolizer);
	rt_interp_decoder__free(m->decoder);
	rt_offcpu__free(m->offcpu);
	rt_task_tracker__free(m->tasks);
	rt_trace_fields__free(m->fields);
	rt_unwinder__free(m->unwinder);
	free(m->pending);
	for (size_t i = 0; i < m->nr_ksyms; i++)
		free(m->ksyms[i].name);
	free(m->ksyms);
	free(m->pending_lines);
	free(m->interp_cache);
	rt_merge__chain_forget(m);
	if (m->spool)
		fclose(m->spool);
	free(m->interim);
	for (size_t i = 0; i < m->nr_held; i++) {
		free(m->held[i].callchain);
		free(m->held[i].regs);
		free(m->held[i].stack);
		free(m->held[i].raw);
		free(m->held[i].early_frames);
	}
	free(m->held);
	for (size_t i = 0; i < m->switches.cap; i++) {
		struct switch_slot *t = rt_tid_table__at(&m->switches, i);

		for (size_t k = 0; t && k < RT_REC_STACK_CHAIN_SLOTS; k++) {
			free(t->h[k].callchain);
			free(t->h[k].regs);
			free(t->h[k].stack);
			free(t->h[k].raw);
		}
	}
	rt_tid_table__clear(&m->switches);
	free(m->target);
	free(m->is_eval);
	rt_chains__exit(&m->chains);
	free(m->cache);
	free(m);
}

static void *load_kernel_symbols(void *symbolizer)
{
	pthread_setname_np(pthread_self(), "rtmerge-ksyms");
	rt_symbolizer__load_kernel(symbolizer);
	return NULL;
}

/*
 * Names the placeholder frames (kernel frames, interpreter frames whose
 * line was pending) and re-counts the stacks under the final names
 * (distinct addresses of one function become one frame).
 */
static int finish_placeholder_frames(struct rt_merge *m)
{
	uint32_t *final = NULL, frames[MAX_STACK];
	uint8_t *reasons = NULL;
	struct rt_stacks *stacks = NULL;
	size_t nr_names = 0, i;
	int err = 0;

	if (m->kernel_deferred)
		pthread_join(m->kernel_loader, NULL);
	m->kernel_deferred = false;
	if (!m->nr_pending && !m->nr_pending_lines)
		return 0;
	for (i = 0; i < m->nr_pending; i++)
		if (m->pending[i].id >= nr_names)
			nr_names = m->pending[i].id + 1;
	for (i = 0; i < m->nr_pending_lines; i++)
		if (m->pending_lines[i].id >= nr_names)
			nr_names = m->pending_lines[i].id + 1;
	final = malloc(nr_names * sizeof(*final));
	reasons = calloc(nr_names, 1);
	stacks = rt_stacks__new();
	if (!final || !reasons || !stacks) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr_names; i++)
		final[i] = UINT32_MAX;
	m->ksyms_past = true; /* BPF frames were named at their sample */
	for (i = 0; i < m->nr_pending && !err; i++) {
		m->reason = 0;
		err = rt_merge__resolve_kernel(m, m->pending[i].addr, &final[m->pending[i].id]);
		reasons[m->pending[i].id] = m->reason;
	}
	for (i = 0; i < m->nr_pending_lines && !err; i++)
		err = rt_merge__pending_line_name(m, i, true, &final[m->pending_lines[i].id]);
	if (!err)
		err = rt_merge__per_sample_flush(m, final, nr_names);
	for (i = 0; i < rt_stacks__nr(m->stacks) && !err; i++) {
		struct rt_stack st;
		uint32_t k;

		rt_stacks__get(m->stacks, i, &st);
		for (k = 0; k < st.nr_frames && !err; k++) {
			uint32_t id = st.frames[k];
			const char *name;
			int64_t new_id;

			if (id < nr_names && final[id] != UINT32_MAX) {
				if (reasons[id] == REASON_NO_MAP)
					m->stats.unresolved_no_map += st.count;
				else if (reasons[id])
					m->stats.unresolved[reasons[id]] += st.count;
				id = final[id];
			}
			name = rt_stacks__name(m->stacks, id);
			new_id = rt_stacks__intern(stacks, name, strlen(name));
			if (new_id < 0)
				err = (int)new_id;
			frames[k] = (uint32_t)new_id;
		}
		if (!err)
			err = rt_stacks__add(stacks, frames, st.nr_frames, st.count, st.period);
	}
	if (!err) {
		rt_stacks__free(m->stacks);
		m->stacks = stacks;
		stacks = NULL;
		/* its ids and stack indexes were the old table's */
		memset(m->unresolved_cache, 0, sizeof(m->unresolved_cache));
		rt_merge__chain_forget(m);
	}
out:
	rt_stacks__free(stacks);
	free(final);
	free(reasons);
	return err;
}

static bool samples_kernel(const struct rt_perf_reader *reader)
{
	size_t i;

	for (i = 0; i < rt_perf_reader__nr_evsels(reader); i++)
		if (!rt_perf_reader__evsel(reader, i)->attr.exclude_kernel)
			return true;
	return false;
}

void rt_merge__load_fields(struct rt_merge *m)
{
	const struct rt_perf_evsel *ev;
	void *data;
	size_t size;

	if (!m->fields_pending)
		return;
	m->fields_pending = false;
	if (!rt_perf_reader__tracing_data(m->reader, &data, &size)) {
		m->fields = rt_trace_fields__new(data, size);
		free(data);
	}
	if (!m->opts.leaf_field)
		return;
	if (!m->fields) {
		fprintf(stderr, "rtmerge: --leaf-field %s: the recording has no readable "
			"tracepoint formats\n", m->opts.leaf_field);
		return;
	}
	if (!m->evsel_chosen)
		rt_merge__choose_event(m);
	ev = m->evsel;
	if (!ev || ev->attr.type != PERF_TYPE_TRACEPOINT)
		fprintf(stderr, "rtmerge: --leaf-field %s: %s is not a tracepoint (give "
			"--event TRACEPOINT)\n", m->opts.leaf_field, ev ? ev->name : "the event");
	else if (!rt_trace_fields__has_field(m->fields, ev->attr.config, m->opts.leaf_field))
		fprintf(stderr, "rtmerge: --leaf-field %s: %s has no such field\n",
			m->opts.leaf_field, ev->name);
}

int rt_merge__run(struct rt_merge *m, struct rt_perf_reader *reader)
{
	const struct rt_perf_build_id *kernel;
	int err;

	m->reader = reader;
	kernel = rt_perf_reader__find_build_id(reader, "[kernel.kallsyms]");
	if (kernel)
		rt_symbolizer__set_kernel_build_id(m->symbolizer, kernel->id, kernel->size);
	if (m->opts.event) {
		rt_merge__choose_event(m);
		if (!m->evsel && !rt_perf_reader__is_pipe(reader)) {
			fprintf(stderr, "rtmerge: no event named \"%s\" in the recording (it has",
				m->opts.event);
			for (size_t i = 0; i < rt_perf_reader__nr_evsels(reader); i++)
				fprintf(stderr, "%s %s", i ? "," : "",
					rt_perf_reader__evsel(reader, i)->name ?: "?");
			fprintf(stderr, ")\n");
			return RT_MERGE_NO_EVENT;
		}
		if (rt_perf_reader__is_pipe(reader))
			m->evsel_chosen = false;
	}
	/* tracepoint fields for --leaf-field and --per-sample, from the
	 * recording's own formats: a stream's come with its first records */
	m->fields_pending = m->opts.leaf_field || m->opts.per_sample;
	if (!rt_perf_reader__is_pipe(reader))
		rt_merge__load_fields(m);
	m->live_lines = m->opts.per_sample && rt_perf_reader__is_pipe(reader);
	/* Per-sample output needs names as it goes; pipe mode learns its
	 * events late: both name kernel frames at once. */
	if (!m->opts.per_sample && !rt_perf_reader__is_pipe(reader) && samples_kernel(reader) &&
	    !pthread_create(&m->kernel_loader, NULL, load_kernel_symbols, m->symbolizer))
		m->kernel_deferred = true;
	err = rt_perf_reader__process(reader, &m->tool.tool);
	for (size_t idx = 0; !err && idx < m->nr_held; idx++) {
		err = rt_merge__held_flush(m, idx);
		if (m->held[idx].early)
			m->stats.unpaired_records++;
	}
	if (m->kernel_deferred || m->nr_pending_lines) {
		int finish = finish_placeholder_frames(m);

		if (!err)
			err = finish;
	}
	if (!err)
		err = rt_offcpu__finish(m->offcpu, &m->stacks);
	return err;
}

const struct rt_stacks *rt_merge__stacks(const struct rt_merge *m)
{
	return m->stacks;
}

const struct rt_merge_stats *rt_merge__stats(const struct rt_merge *m)
{
	return &m->stats;
}

const char *rt_merge__weight_unit(const struct rt_merge_opts *o)
{
	if (o && (o->view == RT_MERGE_VIEW_OFFCPU || o->view == RT_MERGE_VIEW_WALL))
		return "microseconds";
	return o && o->by_period ? "period" : "samples";
}

const char *rt_merge__event_name(const struct rt_merge *m)
{
	return m->evsel ? m->evsel->name : NULL;
}

bool rt_merge__sample_times(const struct rt_merge *m, uint64_t *first, uint64_t *last)
{
	*first = m->first_time;
	*last = m->last_time;
	return m->last_time != 0;
}
