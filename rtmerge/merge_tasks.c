/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: the `[task] NAME` frame of samples taken inside an async task's
 * step (rt-bpf record --tasks; rtmerge/tasks.c follows the steps).
 *
 * Where it goes.  asyncio: just leafward of the event loop, rootward of the
 * task's coroutine: before the interpreter frame that follows the rootmost
 * `Handle._run` (asyncio/events.py).  The loop runs every callback, the
 * C accelerator's task_wakeup and TaskStepMethWrapper alike, through
 * Handle._run on 3.11 to 3.13, and the frame after it is the outermost
 * coroutine frame of the task's step; C frames between them (task_step,
 * the eval loop) stay rootward of the task frame.  Anchoring on an
 * interpreter frame rather than a native one holds whether or not the
 * native callchain is complete (frame pointers, --call-graph dwarf).
 * tokio: leafward of the runtime's poll frames, rootward of the future's:
 * after tokio::runtime::task::raw::poll, the harness or the core and the task frames
 * that follow them (core, poll_future, the catch_unwind and Pin wrappers),
 * before the first frame of something else: the future's own, or what it
 * calls when its body is inlined into the core's poll.  Without an anchor (no Handle._run
 * or raw::poll frame in the stack: a broken native callchain, a sample in
 * the step's C prologue) the task frame goes right after the thread's root
 * frame, so the graph still splits by task; such samples are counted.
 */
#include "rtmerge/merge_internal.h"
#include "rtmerge/tasks.h"

#include "unwind/unwind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int rt_merge__task_now(struct rt_merge *m, const struct rt_perf_sample *s,
		       struct rt_merge_task *out)
{
	char text[FRAME_TEXT_MAX];
	const char *name;
	uint32_t kind = 0;
	uint64_t sp;
	int n;

	out->kind = 0;
	out->ret_sp = 0;
	name = rt_task_tracker__current(m->tasks, s->pid, s->tid, &kind);
	if (!name)
		return 0;
	if (rt_task_tracker__return(m->tasks, s->pid, s->tid, &out->ret_sp, &out->ret_addr))
		out->ret_sp = 0;
	/* The step function has returned when the stack pointer is above the
	 * slot of its return address: a sample in the kernel's handling of the
	 * uretprobe comes before the step's end record, whose program runs
	 * there after the return address is restored.  Without user registers
	 * (--call-graph fp) sp is 0 and the records alone decide. */
	sp = out->ret_sp ? rt_perf_reg(s->user_regs, s->user_regs_mask, RT_PERF_REG_SP) : 0;
	if (sp > out->ret_sp) {
		out->ret_sp = 0;
		m->stats.task_after_return++;
		return 0;
	}
	n = snprintf(text, sizeof(text), "[task] %s", name);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	rt_merge__no_separators(text, (size_t)n);
	out->kind = kind;
	return rt_merge__intern_text(m, text, (size_t)n, &out->frame);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* asyncio: the index in @stack (root first) of the task's outermost
 * coroutine frame: the one after the rootmost Handle._run; nr_frames when
 * Handle._run is the leaf; -1 without one. */
static long asyncio_anchor(const struct rt_interp_stack *stack)
{
	for (size_t i = 0; i < stack->nr_frames; i++) {
		const struct rt_interp_frame *f = &stack->frames[i];

		if (f->function && !strcmp(f->function, "Handle._run") && f->file &&
		    ends_with(f->file, "asyncio/events.py"))
			return (long)i + 1;
	}
	return -1;
}

/* Where interpreter frame @k (of interp_ids, root first) stands in
 * m->frames[0..@total): they are copied in order, so the k-th match. */
static uint32_t interp_position(const struct rt_merge *m, uint32_t k, uint32_t nr_interp,
				uint32_t total)
{
	uint32_t j = 0;

	for (uint32_t pos = 1; pos < total && j < nr_interp; pos++) {
		if (m->frames[pos] != m->interp_ids[j])
			continue;
		if (j == k)
			return pos;
		j++;
	}
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* tokio's task machinery (raw::poll, the harness, the core, poll_future)
 * and the wrappers it calls the future through (catch_unwind, Pin). */
static bool tokio_task_frame(const char *name)
{
	static const char *const wrappers[] = {
		"std::panicking::", "std::panic::", "core::panic::", "<core::panic::",
		"tokio::loom::", "<tokio::loom::", "<core::pin::Pin<",
	};

	if (strstr(name, "tokio::runtime::task::"))
		return true;
	for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
		if (starts_with(name, wrappers[i]))
			return true;
	return false;
}

/* tokio: the position in m->frames of the first frame leafward of the
 * runtime's poll frames; 0 without one.  The rootmost of raw::poll, the
 * harness or the core anchors it: raw::poll's caller sees a return address
 * replaced by the uretprobe's trampoline, which --call-graph dwarf cannot
 * unwind through, so the harness or the core is often the rootmost frame
 * left. */
static uint32_t tokio_position(const struct rt_merge *m, uint32_t total)
{
	uint32_t pos;

	for (pos = 1; pos < total; pos++) {
		const char *name = rt_stacks__name(m->stacks, m->frames[pos]);

		if (strstr(name, "tokio::runtime::task::raw::poll") ||
		    strstr(name, "tokio::runtime::task::harness::Harness<") ||
		    strstr(name, "tokio::runtime::task::core::Core<"))
			break;
	}
	if (pos == total)
		return 0;
	while (pos + 1 < total && tokio_task_frame(rt_stacks__name(m->stacks, m->frames[pos + 1])))
		pos++;
	return pos + 1;
}

int rt_merge__task_insert(struct rt_merge *m, const struct rt_merge_task *task,
			  const struct rt_interp_stack *stack, uint32_t interp_first,
			  uint32_t nr_interp, uint32_t *total)
{
	uint32_t pos = 0;
	long k;

	if (!task->kind || *total >= MAX_STACK)
		return 0;
	if (task->kind == RT_REC_TASK_TOKIO) {
		pos = tokio_position(m, *total);
	} else if (stack && nr_interp && (k = asyncio_anchor(stack)) >= 0) {
		k += interp_first;
		if ((uint32_t)k < nr_interp)
			pos = interp_position(m, (uint32_t)k, nr_interp, *total);
		else if ((pos = interp_position(m, nr_interp - 1, nr_interp, *total)))
			pos++;
	}
	if (!pos) {
		m->stats.task_frames_unanchored++;
		pos = 1;
	}
	m->stats.task_frames++;
	memmove(m->frames + pos + 1, m->frames + pos, (*total - pos) * sizeof(*m->frames));
	m->frames[pos] = task->frame;
	(*total)++;
	return 0;
}
