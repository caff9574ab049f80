/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: one sample's stack.  Native frames from the callchain or the
 * unwound stack copy, interpreter frames spliced in at the eval loops, the
 * result counted.
 */
#include "rtmerge/merge_internal.h"
#include "rtmerge/tracefields.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static int unwind_find_map(void *ctx, uint64_t addr, struct rt_unwind_map *out)
{
	struct rt_merge *m = ctx;
	const struct rt_map *map = rt_machine__find_map(m->tool.machine, m->unwind_pid, addr);

	if (!map)
		return -ENOENT;
	out->path = map->path;
	out->start = map->start;
	out->end = map->end;
	out->pgoff = map->pgoff;
	out->build_id = map->build_id_size ? map->build_id : NULL;
	out->build_id_size = map->build_id_size;
	if (!out->build_id) {
		const struct bid_slot *b = rt_merge__recorded_build_id(m, map);

		if (b) {
			out->build_id = b->id;
			out->build_id_size = b->size;
		}
	}
	return 0;
}

/*
 * Unwinds the sample's user stack copy (--call-graph dwarf) and appends the
 * user frames, leaf first, to frames[*nr].  Callers' return addresses are
 * named at address - 1, inside the call, as perf does.  Returns 0, or
 * -ENOENT when the sample carries no usable copy or the unwind found
 * nothing (the callchain's own user part then stands).
 */
static int unwind_user(struct rt_merge *m, const struct rt_perf_sample *s, uint64_t gen,
		       const struct rt_merge_task *task, uint32_t *frames, uint32_t *nr)
{
	struct rt_unwind_input in = {
		.regs = s->user_regs,
		.regs_mask = s->user_regs_mask,
		.stack = s->user_stack,
		.stack_size = s->user_stack_dyn_size < s->user_stack_size ?
			      s->user_stack_dyn_size : s->user_stack_size,
		.find_map = unwind_find_map,
		.ctx = m,
		.maps_key = gen,
	};
	enum rt_unwind_stop stop = RT_UNWIND_STOP_BAD;
	struct rt_unwind_patch ret;
	int n, i, err;

	if (!s->user_regs || !s->user_regs_mask || !in.stack_size)
		return -ENOENT;
	/* inside an async task's step (rt-bpf record --tasks) the step
	 * function's return address is the uretprobe's trampoline, which no
	 * unwind goes through; the task record said what it really is */
	if (task && task->kind && task->ret_sp) {
		ret = (struct rt_unwind_patch){ .addr = task->ret_sp, .value = task->ret_addr };
		in.patches = &ret;
		in.nr_patches = 1;
		m->stats.task_returns_restored++; /* unwound with it at hand */
	}
	/* made for the first stack copy: its caches are half a megabyte to
	 * clear, for nothing in a frame-pointer recording (map paths come from
	 * rt_machine__intern()) */
	if (!m->unwinder) {
		m->unwinder = rt_unwinder__new(&(struct rt_unwinder_opts){
			.sz = sizeof(struct rt_unwinder_opts), .interned_paths = true });
		if (!m->unwinder)
			return -ENOMEM;
	}
	m->unwind_pid = s->pid;
	n = rt_unwinder__unwind(m->unwinder, &in, m->unwound, MAX_STACK - 1 - *nr, &stop);
	if (n <= 0)
		return -ENOENT;
	m->stats.unwound_samples++;
	if (stop == RT_UNWIND_STOP_END)
		m->stats.unwound_to_entry++;
	if (stop < RT_UNWIND_STOP_NR)
		m->stats.unwind_stops[stop]++;
	for (i = 0; i < n; i++) {
		uint64_t ip = i ? m->unwound[i].ip - 1 : m->unwound[i].ip;

		err = rt_merge__frame_of(m, s->pid, gen, ip, false, &frames[(*nr)++]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Splices interpreter frames (root first, grouped by ENTRY flags) into the
 * native frames (root first) at the eval-loop frames: each eval-loop frame
 * is replaced by the group of interpreter frames it runs.  When the counts
 * disagree (a native callchain broken by code without frame pointers), the
 * interpreter frames go rootward of the native frames leafward of the
 * leafmost eval loop.  A frame no mapping covers marks where a broken chain
 * turned into noise: frames from it rootward are left out.  Returns the new
 * length of out.
 */
static uint32_t splice(struct rt_merge *m, const uint32_t *native, uint32_t nr_native,
		       const uint32_t *interp, const int32_t *group_start, uint32_t nr_groups,
		       uint32_t nr_interp, uint32_t *out, uint32_t out_max)
{
	uint32_t evals = 0, i, n = 0, g = 0, last_eval = UINT32_MAX, first_eval = UINT32_MAX;
	uint32_t brk = UINT32_MAX, start;

	for (i = 0; i < nr_native; i++) {
		if (rt_merge__native_is_loop(m, native, nr_native, i)) {
			evals++;
			last_eval = i;
			if (first_eval == UINT32_MAX)
				first_eval = i;
		}
		/* No mapping covers it, so it is no return address: the chain
		 * was followed through a register that held no frame pointer,
		 * and it and everything rootward of it are noise. */
		if (rt_merge__frame_is_no_map(m, native[i]))
			brk = i;
	}
	if (m->opts.frames == RT_MERGE_FRAMES_INTERP) {
		for (i = 0; i < nr_interp && n < out_max; i++)
			out[n++] = interp[i];
		return n;
	}
	/*
	 * One more eval loop than groups: the leafmost eval loop is setting up
	 * a frame that has not run yet (the walker leaves such frames out), so
	 * it keeps its native name.
	 */
	if ((evals == nr_groups || evals == nr_groups + 1) &&
	    (brk == UINT32_MAX || brk < first_eval)) {
		/* Noise rootward of the rootmost eval loop goes: the interpreter
		 * frames then start at the root. */
		start = brk == UINT32_MAX ? 0 : first_eval;
		if (start)
			m->stats.interp_native_mismatch++;
		for (i = start; i < nr_native && n < out_max; i++) {
			if (!rt_merge__native_is_loop(m, native, nr_native, i) || g == nr_groups) {
				out[n++] = native[i];
				continue;
			}
			uint32_t end = g + 1 < nr_groups ? (uint32_t)group_start[g + 1] : nr_interp;

			for (uint32_t k = (uint32_t)group_start[g]; k < end && n < out_max; k++)
				out[n++] = interp[k];
			g++;
		}
		return n;
	}
	m->stats.interp_native_mismatch++;
	for (i = 0; i < nr_interp && n < out_max; i++)
		out[n++] = interp[i];
	start = last_eval == UINT32_MAX ? 0 : last_eval + 1;
	if (brk != UINT32_MAX && brk + 1 > start)
		start = brk + 1;
	for (i = start; i < nr_native && n < out_max; i++)
		out[n++] = native[i];
	return n;
}

/*
 * A broken frame-pointer chain can repeat one unresolved address a hundred
 * times ("[unknown];[unknown];..."), which makes a flamegraph tall and
 * empty: keep one frame of each run of identical unresolved frames, and
 * count the rest.  Returns the new number of frames.
 */
static uint32_t collapse_unresolved_runs(struct rt_merge *m, uint32_t *frames, uint32_t n)
{
	uint32_t out = n ? 1 : 0;

	for (uint32_t i = 1; i < n; i++) {
		if (frames[i] == frames[out - 1] && rt_stacks__name(m->stacks, frames[i])[0] == '[') {
			m->stats.collapsed_frames++;
			continue;
		}
		frames[out++] = frames[i];
	}
	return out;
}

/* --leaf-field FIELD: the tracepoint field's value as a leaf frame
 * "FIELD=VALUE" on samples of tracepoints that have it. */
static int leaf_field_frame(struct rt_merge *m, const struct rt_perf_sample *s, uint32_t *total)
{
	unsigned long long tp;
	char text[256];
	int64_t id;

	if (!m->opts.leaf_field || !m->fields || !s->raw || *total >= MAX_STACK ||
	    rt_trace_fields__sample_event(m->reader, s, &tp) ||
	    rt_trace_fields__format(m->fields, tp, s->raw, s->raw_size, m->opts.leaf_field, text,
				    sizeof(text)))
		return 0;
	id = rt_stacks__intern(m->stacks, text, strlen(text));
	if (id < 0)
		return (int)id;
	m->frames[(*total)++] = (uint32_t)id;
	return 0;
}

/* Names and counts the stack of native sample @s, with the interpreter
 * frames of @interp spliced in (NULL: none). */
/* Whether the callchain entries after context marker ip are kernel addresses. */
static bool context_is_kernel(uint64_t ip)
{
	return ip == PERF_CONTEXT_KERNEL || ip == PERF_CONTEXT_GUEST_KERNEL;
}

int rt_merge__fold(struct rt_merge *m, const struct rt_perf_sample *s,
		   const struct rt_interp_stack *interp, const struct rt_merge_task *task)
{
	uint32_t leaf_first[MAX_STACK], native[MAX_STACK];
	uint32_t nr = 0, i, nr_interp = 0, nr_groups = 0, total, nkept, interp_first = 0;
	const struct rt_interp_stack stack = interp ? *interp : (struct rt_interp_stack){ 0 };
	bool kernel, have_interp = interp != NULL, is_switch = rt_offcpu__sample_of(m->switch_evsel, s);
	/* a plain sample: its callchain alone decides its stack */
	bool cacheable = !have_interp && !(task && task->kind) && !m->opts.inline_frames &&
			 rt_merge__chain_cacheable(m, s, is_switch);
	struct chain_counts before;
	uint64_t gen;
	int err;

	if (have_interp) {
		err = rt_merge__switch_keep(m, s, stack.flags);
		if (err)
			return err;
	}
	gen = rt_machine__maps_generation(m->tool.machine, s->pid);
	if (cacheable) {
		err = rt_merge__chain_hit(m, s, gen);
		if (err)
			return err < 0 ? err : 0;
		rt_merge__chain_begin(m, &before);
	}
	if (s->sample_type & PERF_SAMPLE_CALLCHAIN) {
		bool has_copy = s->user_regs && s->user_stack_size;
		uint32_t user_start = UINT32_MAX;
		uint64_t nr_chain = s->nr_callchain < MAX_STACK ? s->nr_callchain : MAX_STACK;

		/* Each entry's hash once, its cache slots loading while the
		 * next ones are hashed. */
		kernel = s->cpumode == RT_CPUMODE_KERNEL;
		for (uint64_t k = 0; k < nr_chain; k++) {
			uint64_t ip = s->callchain[k];

			if (ip >= PERF_CONTEXT_MAX) {
				kernel = context_is_kernel(ip);
				continue;
			}
			m->frame_hashes[k] = rt_merge__frame_hash(ip, s->pid, kernel);
			rt_merge__prefetch_frame(m, m->frame_hashes[k]);
		}
		kernel = s->cpumode == RT_CPUMODE_KERNEL;
		for (uint64_t k = 0; k < s->nr_callchain && nr < MAX_STACK - 1; k++) {
			uint64_t ip = s->callchain[k];

			if (ip >= PERF_CONTEXT_MAX) {
				kernel = context_is_kernel(ip);
				continue;
			}
			if (!kernel && user_start == UINT32_MAX)
				user_start = nr;
			m->uncacheable = false;
			err = rt_merge__frame_of_hashed(m, s->pid, gen, ip, kernel,
							k < nr_chain ? m->frame_hashes[k] :
							rt_merge__frame_hash(ip, s->pid, kernel),
							&leaf_first[nr]);
			if (err)
				return err;
			/* named afresh each time: so is the callchain */
			if (m->uncacheable)
				cacheable = false;
			nr++;
		}
		/* --call-graph dwarf: the kernel part comes from the callchain, the
		 * user part from unwinding the stack copy, as perf joins them. */
		if (has_copy) {
			uint32_t kept = user_start == UINT32_MAX ? nr : user_start;

			err = unwind_user(m, s, gen, task, leaf_first, &kept);
			if (err && err != -ENOENT)
				return err;
			if (!err)
				nr = kept;
			else
				m->stats.unwind_failed++;
		}
		if (!nr)
			m->stats.empty_callchains++;
	} else if (s->sample_type & PERF_SAMPLE_IP) {
		err = rt_merge__frame_of(m, s->pid, gen, s->ip, s->cpumode == RT_CPUMODE_KERNEL,
					 &leaf_first[0]);
		if (err)
			return err;
		nr = 1;
	}
	if (m->chains.nr) {
		uint32_t n = rt_chains__expand(&m->chains, leaf_first, nr, native, MAX_STACK - 1);

		m->stats.inlined_frames += n - nr;
		memcpy(leaf_first, native, n * sizeof(*native));
		nr = n;
	}
	m->stats.frames += nr;
	for (i = 0; i < nr; i++)
		native[i] = leaf_first[nr - 1 - i];
	err = rt_merge__root_frame(m, s, &m->frames[0]);
	if (err)
		return err;
	if (have_interp && m->opts.frames != RT_MERGE_FRAMES_NATIVE) {
		m->stats.interp_samples++;
		if (stack.flags & (RT_INTERP_STACK_TRUNCATED | RT_INTERP_STACK_INCOMPLETE))
			m->stats.interp_incomplete++;
		if (stack.flags & RT_INTERP_STACK_TRUNCATED) {
			err = rt_merge__intern_text(m, "[truncated]", 11, &m->interp_ids[nr_interp]);
			if (err)
				return err;
			nr_interp++;
			interp_first = 1;
		}
		/* the walk stopped at memory it could not read: the frames
		 * rootward of what it got are missing, not absent */
		if ((stack.flags & RT_INTERP_STACK_INCOMPLETE) && stack.nr_frames) {
			err = rt_merge__intern_text(m, "[incomplete]", 12, &m->interp_ids[nr_interp]);
			if (err)
				return err;
			nr_interp++;
			interp_first = nr_interp;
		}
		for (i = 0; i < stack.nr_frames && nr_interp < MAX_STACK; i++) {
			const struct rt_interp_frame *f = &stack.frames[i];

			if (f->flags & RT_INTERP_FRAME_NO_SYMBOLS)
				m->stats.interp_frames_no_symbols++;
			if ((f->flags & RT_INTERP_FRAME_ENTRY) || i == 0)
				m->group_start[nr_groups++] = (int32_t)nr_interp;
			err = rt_merge__interp_frame(m, stack.pid, f, &m->interp_ids[nr_interp]);
			if (err)
				return err;
			nr_interp++;
		}
		if (nr_interp && !nr_groups)
			m->group_start[nr_groups++] = 0;
		if (interp_first)
			m->group_start[0] = 0;  /* the markers join the rootmost group */
		m->stats.interp_frames += nr_interp;
		/* -X perf trampolines would show each Python function twice */
		for (i = 0, nkept = 0; i < nr; i++)
			if (!rt_merge__frame_is_py_trampoline(m, native[i]))
				native[nkept++] = native[i];
		nr = nkept;
		total = 1 + splice(m, native, nr, m->interp_ids, m->group_start, nr_groups,
				   nr_interp, m->frames + 1, MAX_STACK - 1);
	} else {
		if (m->opts.frames == RT_MERGE_FRAMES_INTERP)
			nr = 0;
		memcpy(m->frames + 1, native, nr * sizeof(*native));
		total = nr + 1;
	}
	if (task && task->kind) {
		err = rt_merge__task_insert(m, task, have_interp ? &stack : NULL, interp_first,
					    nr_interp, &total);
		if (err)
			return err;
	}
	total = collapse_unresolved_runs(m, m->frames, total);
	m->stats.samples++;
	err = leaf_field_frame(m, s, &total);
	if (err)
		return err;
	if (m->opts.per_sample) {
		err = rt_merge__per_sample_line(m, s, m->frames, total);
		if (err)
			return err;
	}
	if (cacheable) {
		/* what rt_offcpu__add does with it in these views */
		int64_t idx = rt_stacks__add_entry(m->stacks, m->frames, total, 1, s->period);

		if (idx < 0)
			return (int)idx;
		return rt_merge__chain_store(m, s, gen, &before, (size_t)idx);
	}
	err = rt_offcpu__add(m->offcpu, m->stacks, s, is_switch, have_interp ? stack.flags : 0,
			     m->frames, total);
	return err < 0 ? err : 0;
}
