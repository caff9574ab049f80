/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shadow stacks of CPython threads (runtimes/python/frames.h).
 *
 * Why address, code, caller and call instruction identify a frame: 3.11
 * allocates frames on a per-thread stack, so a frame that returned and a
 * new call of the same function from the same caller get the same address.
 * The caller's prev_instr tells two such calls apart when they come from
 * different call sites on one line (fib(n-1) + fib(n-2)); a second call
 * from the same call instruction needs a backward jump in the caller,
 * which fires the caller's own line probe first, and that event pops the
 * callee.  Calls from C into the same frame slot (map(), generators
 * resumed by C) are separated by the function__entry probe, which fires
 * for them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/python/frames.h"

struct thread {
	uint32_t tid;
	struct rt_pyframes_entry *stack;
	size_t depth, cap;
};

struct rt_pyframes {
	struct rt_pyframes_ops ops;
	struct thread *threads;
	size_t nr_threads, cap;
};

struct rt_pyframes *rt_pyframes__new(const struct rt_pyframes_ops *ops)
{
	struct rt_pyframes *pf = calloc(1, sizeof(*pf));

	if (pf)
		pf->ops = *ops;
	return pf;
}

/* The thread @tid's state, created on first use; an index, not a pointer:
 * the array grows. */
static long thread_index(struct rt_pyframes *pf, uint32_t tid)
{
	for (size_t i = 0; i < pf->nr_threads; i++)
		if (pf->threads[i].tid == tid)
			return (long)i;
	if (pf->nr_threads == pf->cap) {
		size_t cap = pf->cap ? pf->cap * 2 : 8;
		struct thread *t = realloc(pf->threads, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		pf->threads = t;
		pf->cap = cap;
	}
	memset(&pf->threads[pf->nr_threads], 0, sizeof(pf->threads[0]));
	pf->threads[pf->nr_threads].tid = tid;
	return (long)pf->nr_threads++;
}

/* Whether chain frame @j is shadow entry @e (see the file comment). */
static bool same_frame(const struct rt_pyframes_entry *e, const struct rt_trace_py_frame *frames,
		       uint32_t n, uint32_t j)
{
	if (e->frame != frames[j].frame || e->code != frames[j].code)
		return false;
	if (j + 1 >= n || !e->caller)
		return true;
	return e->caller == frames[j + 1].frame && e->call_instr == frames[j + 1].instr;
}

static void pop_to(struct rt_pyframes *pf, struct thread *t, size_t depth)
{
	while (t->depth > depth) {
		t->depth--;
		pf->ops.ret(pf->ops.ctx, t->tid, &t->stack[t->depth]);
	}
}

static int push(struct rt_pyframes *pf, struct thread *t, const struct rt_trace_py_frame *frames,
		uint32_t n, uint32_t k)
{
	struct rt_pyframes_entry *e;

	if (t->depth == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct rt_pyframes_entry *s = realloc(t->stack, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->stack = s;
		t->cap = cap;
	}
	e = &t->stack[t->depth++];
	e->frame = frames[k].frame;
	e->code = frames[k].code;
	e->flags = frames[k].flags;
	e->instr = frames[k].instr;
	e->caller = k + 1 < n ? frames[k + 1].frame : 0;
	e->call_instr = k + 1 < n ? frames[k + 1].instr : 0;
	pf->ops.call(pf->ops.ctx, t->tid, e, k == 0);
	return 0;
}

int rt_pyframes__event(struct rt_pyframes *pf, uint32_t tid, uint32_t probe,
		       const struct rt_trace_py_frame *frames, uint32_t n, uint32_t flags)
{
	long ti = thread_index(pf, tid);
	struct thread *t;
	/* the chain's current frame is a new call (a frame entered) */
	uint32_t j, first = probe == RT_TRACE_PROBE_PY_ENTRY || probe == RT_TRACE_PROBE_PY_EVAL_ENTER;
	size_t d = 0;
	bool found = false;
	int err;

	if (ti < 0)
		return (int)ti;
	t = &pf->threads[ti];
	if (!n) {
		/* back in C with no Python frame left (the main module's eval
		 * returned) */
		if (probe == RT_TRACE_PROBE_PY_EVAL_EXIT && (flags & RT_TRACE_CHAIN_ROOT))
			pop_to(pf, t, 0);
		return (int)t->depth;
	}
	/* the innermost chain frame already known, against the innermost
	 * shadow entry it can be */
	for (j = first; j < n && !found; j++) {
		for (d = t->depth; d-- > 0;) {
			if (same_frame(&t->stack[d], frames, n, j)) {
				found = true;
				break;
			}
		}
	}
	if (found) {
		j--; /* the loop stepped past it */
		pop_to(pf, t, d + 1);
	} else {
		/* nothing known: the chain is the whole stack when it reaches the
		 * thread's first frame, else (lost records, a chain cut short) the
		 * best there is */
		pop_to(pf, t, 0);
		j = n;
	}
	while (j-- > 0) {
		err = push(pf, t, frames, n, j);
		if (err)
			return err;
	}
	if ((probe == RT_TRACE_PROBE_PY_RETURN || probe == RT_TRACE_PROBE_PY_FRAME_POP ||
	     probe == RT_TRACE_PROBE_PY_YIELD) && t->depth)
		pop_to(pf, t, t->depth - 1);
	return (int)t->depth;
}

void rt_pyframes__finish(struct rt_pyframes *pf)
{
	for (size_t i = 0; i < pf->nr_threads; i++)
		pop_to(pf, &pf->threads[i], 0);
}

void rt_pyframes__free(struct rt_pyframes *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nr_threads; i++)
		free(pf->threads[i].stack);
	free(pf->threads);
	free(pf);
}
