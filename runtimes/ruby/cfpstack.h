/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A shadow of one CRuby thread's control frame stack, kept from the depths
 * `rt-bpf trace`'s Ruby fallback reports at each write of ec->cfp
 * (bpf/trace.h, struct rt_trace_rb_frame): a push is a call when the new
 * frame is a method's, a pop returns each frame it removes that was
 * called.  Pure bookkeeping, tested on its own (tests/unit/test_cfpstack.c).
 */
#ifndef RT_RUNTIMES_RUBY_CFPSTACK_H
#define RT_RUNTIMES_RUBY_CFPSTACK_H

#include <stddef.h>
#include <stdint.h>

/* A frame's function id: >= 0 a called method, or one of these. */
#define RT_RBSTACK_NOT_CALL  (-1) /* a block, class body, top-level ... frame */
#define RT_RBSTACK_UNKNOWN   (-2) /* on the stack before tracing began */

struct rt_rbstack_frame {
	int64_t function_id;
	int64_t path_id; /* where the frame is, for the C methods it calls; -1 unknown */
	int32_t line;
};

struct rt_rbstack_ops {
	/* @f was pushed and is a method (function_id >= 0) */
	void (*call)(void *ctx, uint32_t tid, const struct rt_rbstack_frame *f);
	/* @f, called before, was popped */
	void (*ret)(void *ctx, uint32_t tid, const struct rt_rbstack_frame *f);
	void *ctx;
};

struct rt_rbstack {
	uint32_t tid;
	int known;          /* a first depth was seen */
	uint32_t depth;
	size_t cap;
	struct rt_rbstack_frame *frames; /* frames[0] the bottom one */
	uint64_t unmatched; /* pops of frames that were there before tracing */
	uint64_t resyncs;   /* records whose previous depth was not ours (a loss) */
};

/*
 * Applies one write of ec->cfp that moved the thread from @prev_depth to
 * @depth control frames (@prev_depth RT_TRACE_RB_DEPTH_UNKNOWN, i.e.
 * UINT32_MAX: the thread's first write seen, which sets the depth and
 * calls nothing).  A push describes its new top frame in @top (the frames
 * a multi-frame push skipped are not calls); a pop returns each called
 * frame above @depth, the top one first.  Returns 0 or -ENOMEM.
 */
int rt_rbstack__move(struct rt_rbstack *s, uint32_t prev_depth, uint32_t depth,
		     const struct rt_rbstack_frame *top, const struct rt_rbstack_ops *ops);

/* The frame at @depth (1: the bottom one), NULL past the top. */
const struct rt_rbstack_frame *rt_rbstack__at(const struct rt_rbstack *s, uint32_t depth);

/* Returns every called frame still on @s (the trace ends), the top one
 * first. */
void rt_rbstack__finish(struct rt_rbstack *s, const struct rt_rbstack_ops *ops);

/* Frees @s's frames. */
void rt_rbstack__release(struct rt_rbstack *s);

#endif
