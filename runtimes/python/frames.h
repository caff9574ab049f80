/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Calls and returns of CPython threads recovered from the frame chains
 * bpf/trace.bpf.c sends at each probe (struct rt_trace_py_event): one
 * shadow stack per thread, compared with each chain.  A frame of the chain
 * is one already on the shadow stack when its address, its code object
 * and (when the chain goes on past it) its caller's address and call
 * instruction are the same; every frame above the deepest such frame has
 * returned, every chain frame below it is a new call.
 */
#ifndef RT_RUNTIMES_PYTHON_FRAMES_H
#define RT_RUNTIMES_PYTHON_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/trace.h"

/* A frame on a thread's shadow stack. */
struct rt_pyframes_entry {
	uint64_t frame, code;
	uint64_t caller, call_instr; /* 0 when unknown (the chain ended at it) */
	uint64_t instr;              /* its prev_instr when it was pushed */
	uint32_t flags;              /* RT_TRACE_FRAME_* */
};

struct rt_pyframes_ops {
	/* @entry was called on thread @tid; @newest: it is the chain's
	 * current frame (whose arguments the event read) */
	void (*call)(void *ctx, uint32_t tid, const struct rt_pyframes_entry *entry, int newest);
	/* @entry returned on thread @tid */
	void (*ret)(void *ctx, uint32_t tid, const struct rt_pyframes_entry *entry);
	void *ctx;
};

struct rt_pyframes;

/* Creates an empty set of threads reporting to @ops (copied).  Returns
 * NULL with errno set. */
struct rt_pyframes *rt_pyframes__new(const struct rt_pyframes_ops *ops);

/*
 * Applies the chain @frames (@n frames, the current one first) that probe
 * @probe (enum rt_trace_probe) sent for thread @tid, with the event's
 * @flags (RT_TRACE_CHAIN_*): reports the returns, then the calls, in order.
 * The current frame of a function__entry or PY_EVAL_ENTER event is a new
 * call; a function__return, PY_FRAME_POP or PY_YIELD event also returns it; a
 * PY_EVAL_EXIT event without frames that reached the root returns all.  Returns the
 * depth after it, or -errno.
 */
int rt_pyframes__event(struct rt_pyframes *pf, uint32_t tid, uint32_t probe,
		       const struct rt_trace_py_frame *frames, uint32_t n, uint32_t flags);

/* Reports the returns of every frame still open, thread by thread in the
 * order the threads first appeared, the innermost frame first. */
void rt_pyframes__finish(struct rt_pyframes *pf);

/* Frees @pf (NULL: no-op); open frames are not reported. */
void rt_pyframes__free(struct rt_pyframes *pf);

#endif
