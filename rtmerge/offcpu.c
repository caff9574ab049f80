/* SPDX-License-Identifier: GPL-2.0-only */
/* offcpu: off-CPU, wall-clock and GIL views (see offcpu.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "perfglue/tidtable.h"
#include "rtmerge/offcpu.h"
#include "syscalls_x86_64.h" /* generated from the kernel's unistd_64.h */

/* perf stamps the switch sample after the program ran: its time follows
 * the interval's start by the walk's run time, microseconds. */
#define START_WINDOW_NS 2000000ull

/* The folded frames of a thread's last switch sample through one native
 * chain slot: the stack its summed intervals (RT_REC_OFFCPU_SUM) add to. */
struct chain_stack {
	uint64_t time;             /* perf time of that sample */
	uint32_t *frames;          /* root first, without the leaf saying why */
	uint32_t nr_frames, cap_frames;
	bool used;
};

/* One thread's switch sample and interval, each waiting for the other. */
struct thread_slot {
	struct rt_tid_key key;     /* first: an entry of perfglue/tidtable.h */
	bool has_stack, has_interval;
	uint64_t stack_time;       /* perf time of the switch sample */
	uint32_t *frames;          /* its folded frames, root first */
	uint32_t nr_frames, cap_frames;
	struct rt_rec_offcpu iv;   /* the waiting interval */
	struct chain_stack chain[RT_REC_STACK_CHAIN_SLOTS];
};

struct rt_offcpu {
	enum rt_merge_view view;
	struct rt_tid_table threads; /* struct thread_slot by tid */
	uint32_t *leaf;              /* a stack being built: every frame, the leaf too */
	uint32_t leaf_cap;
	struct rt_offcpu_stats stats;
};

struct rt_offcpu *rt_offcpu__new(enum rt_merge_view view)
{
	struct rt_offcpu *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->view = view;
	o->threads.entry_size = sizeof(struct thread_slot);
	return o;
}

void rt_offcpu__free(struct rt_offcpu *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->threads.cap; i++) {
		struct thread_slot *t = rt_tid_table__at(&o->threads, i);

		if (!t)
			continue;
		free(t->frames);
		for (size_t k = 0; k < RT_REC_STACK_CHAIN_SLOTS; k++)
			free(t->chain[k].frames);
	}
	rt_tid_table__clear(&o->threads);
	free(o->leaf);
	free(o);
}

/* o->leaf with room for @n frames; -ENOMEM. */
static int leaf_room(struct rt_offcpu *o, uint32_t n)
{
	uint32_t *grown;

	if (n <= o->leaf_cap)
		return 0;
	grown = realloc(o->leaf, (size_t)n * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	o->leaf = grown;
	o->leaf_cap = n;
	return 0;
}

enum rt_merge_view rt_offcpu__view(const struct rt_offcpu *o)
{
	return o->view;
}

const struct rt_offcpu_stats *rt_offcpu__stats(const struct rt_offcpu *o)
{
	return &o->stats;
}

bool rt_offcpu__is_switch_event(const struct rt_perf_evsel *ev)
{
	return ev->attr.type == PERF_TYPE_TRACEPOINT && ev->name && !strcmp(ev->name, RT_OFFCPU_EVENT);
}

bool rt_offcpu__sample_of(const struct rt_perf_evsel *ev, const struct rt_perf_sample *s)
{
	if (!ev)
		return false;
	for (size_t i = 0; i < ev->nr_ids; i++)
		if (ev->ids[i] == s->id)
			return true;
	return false;
}

unsigned int rt_offcpu__stack_flags(const void *raw, size_t size)
{
	struct rt_rec_stack rec;
	unsigned int flags = 0;

	if (size < sizeof(rec))
		return 0;
	memcpy(&rec, raw, sizeof(rec));
	if (rec.hdr.magic != RT_REC_MAGIC || rec.hdr.type != RT_REC_STACK)
		return 0;
	if (rec.flags & RT_REC_STACK_OFFCPU)
		flags |= RT_MERGE_STACK_OFFCPU;
	if (rec.flags & RT_REC_STACK_GIL_HELD)
		flags |= RT_MERGE_STACK_GIL_HELD;
	if (rec.flags & RT_REC_STACK_OFFCPU) {
		if (rec.flags & RT_REC_STACK_SAME_CHAIN)
			flags |= RT_MERGE_STACK_SAME_CHAIN;
		else if (rec.flags & RT_REC_STACK_CHAIN_KEEP)
			flags |= RT_MERGE_STACK_CHAIN_KEEP;
		flags |= RT_REC_STACK_CHAIN_SLOT(rec.flags) << RT_MERGE_STACK_CHAIN_SHIFT;
	}
	return flags;
}

const char *rt_offcpu__syscall_name(uint32_t nr, char *buf, size_t size)
{
	static const char *const names[] = RT_SYSCALL_NAMES;

	if (nr < sizeof(names) / sizeof(names[0]) && names[nr])
		return names[nr];
	snprintf(buf, size, "%u", nr);
	return buf;
}

const char *rt_offcpu__reason(uint32_t flags, uint32_t syscall, uint32_t state, char *buf,
			      size_t size)
{
	char nr[16];

	if (flags & RT_REC_OFFCPU_GIL_WAIT)
		snprintf(buf, size, "[gil wait]");
	else if (flags & RT_REC_OFFCPU_GVL_WAIT)
		snprintf(buf, size, "[gvl wait]");
	else if (flags & RT_REC_OFFCPU_SYSCALL)
		snprintf(buf, size, "[syscall] %s", rt_offcpu__syscall_name(syscall, nr, sizeof(nr)));
	else if (flags & RT_REC_OFFCPU_PREEMPTED)
		snprintf(buf, size, "[preempted]");
	else if (state & 2)
		snprintf(buf, size, "[blocked]"); /* uninterruptible, outside a system call */
	else
		snprintf(buf, size, "[sleep]");
	return buf;
}

/* Thread @tid's slot, created when @create; NULL when absent or no memory. */
static struct thread_slot *slot_of(struct rt_offcpu *o, uint32_t tid, bool create)
{
	return rt_tid_table__get(&o->threads, tid, create);
}

/* Counts @frames (@nr, root first) @count times for @ns nanoseconds off
 * the CPU, with a leaf frame saying why (RT_REC_OFFCPU_* @flags, @syscall,
 * @state). */
static int count_offcpu(struct rt_offcpu *o, struct rt_stacks *stacks, const uint32_t *frames,
			uint32_t nr, uint32_t flags, uint32_t syscall, uint32_t state, uint64_t count,
			uint64_t ns)
{
	char why[64];
	uint32_t n = nr;
	int64_t id;

	if (leaf_room(o, nr + 1))
		return -ENOMEM;
	rt_offcpu__reason(flags, syscall, state, why, sizeof(why));
	id = rt_stacks__intern(stacks, why, strlen(why));
	if (id < 0)
		return (int)id;
	memcpy(o->leaf, frames, n * sizeof(*o->leaf));
	o->leaf[n++] = (uint32_t)id;
	o->stats.offcpu_ns += ns;
	return rt_stacks__add(stacks, o->leaf, n, count, ns);
}

/* Counts the waiting stack of @t for its interval @iv. */
static int count_interval(struct rt_offcpu *o, struct rt_stacks *stacks, struct thread_slot *t,
			  const struct rt_rec_offcpu *iv)
{
	t->has_stack = false;
	t->has_interval = false;
	o->stats.paired++;
	return count_offcpu(o, stacks, t->frames, t->nr_frames, iv->flags, iv->syscall, iv->state,
			    1, iv->end - iv->start);
}

static bool starts_at(uint64_t stack_time, uint64_t start)
{
	return stack_time >= start && stack_time - start <= START_WINDOW_NS;
}

/* Takes sum record @raw (@size bytes): its intervals go to the stack of
 * the thread's last switch sample through the sum's chain slot.  1, or
 * -ENOMEM. */
static int feed_sum(struct rt_offcpu *o, struct rt_stacks *stacks, const void *raw, size_t size)
{
	struct rt_rec_offcpu_sum sum;
	struct thread_slot *t;
	struct chain_stack *c;

	if (size < sizeof(sum) || ((const struct rt_rec_header *)raw)->size < sizeof(sum)) {
		o->stats.bad_records++;
		return 1;
	}
	memcpy(&sum, raw, sizeof(sum));
	if (sum.slot >= RT_REC_STACK_CHAIN_SLOTS || sum.last < sum.first || !sum.count) {
		o->stats.bad_records++;
		return 1;
	}
	o->stats.sums++;
	o->stats.summed += sum.count;
	if (o->view != RT_MERGE_VIEW_OFFCPU && o->view != RT_MERGE_VIEW_WALL)
		return 1;
	t = slot_of(o, sum.tid, false);
	/* threads the filters leave out never have a switch sample */
	if (!t || !t->cap_frames)
		return 1;
	c = &t->chain[sum.slot];
	/* the stack record the sum stands on was lost */
	if (!c->used || !starts_at(c->time, sum.walked)) {
		o->stats.summed_no_stack += sum.count;
		return 1;
	}
	return count_offcpu(o, stacks, c->frames, c->nr_frames, sum.flags, sum.syscall, sum.state,
			    sum.count, sum.total) < 0 ? -ENOMEM : 1;
}

int rt_offcpu__feed(struct rt_offcpu *o, struct rt_stacks *stacks, const void *raw, size_t size)
{
	struct rt_rec_header hdr;
	struct rt_rec_offcpu iv;
	struct thread_slot *t;

	if (size < sizeof(hdr))
		return 0;
	memcpy(&hdr, raw, sizeof(hdr));
	if (hdr.magic == RT_REC_MAGIC && hdr.type == RT_REC_OFFCPU_SUM)
		return feed_sum(o, stacks, raw, size);
	if (hdr.magic != RT_REC_MAGIC || hdr.type != RT_REC_OFFCPU)
		return 0;
	if (size < sizeof(iv) || hdr.size < sizeof(iv)) {
		o->stats.bad_records++;
		return 1;
	}
	memcpy(&iv, raw, sizeof(iv));
	if (iv.end < iv.start) {
		o->stats.bad_records++;
		return 1;
	}
	o->stats.intervals++;
	if (o->view != RT_MERGE_VIEW_OFFCPU && o->view != RT_MERGE_VIEW_WALL)
		return 1;
	t = slot_of(o, iv.tid, true);
	if (!t)
		return -ENOMEM;
	if (t->has_stack && starts_at(t->stack_time, iv.start))
		return count_interval(o, stacks, t, &iv) < 0 ? -ENOMEM : 1;
	/* threads the filters leave out never have a switch sample */
	if (t->has_interval && t->cap_frames)
		o->stats.no_stack++;
	t->iv = iv;
	t->has_interval = true;
	return 1;
}

/* Keeps @frames (@n) of a switch sample at perf time @time as chain
 * stack @c, for the sums that follow.  0 or -ENOMEM. */
static int keep_chain_stack(struct chain_stack *c, uint64_t time, const uint32_t *frames, uint32_t n)
{
	if (n > c->cap_frames) {
		uint32_t *f = realloc(c->frames, n * sizeof(*f));

		if (!f)
			return -ENOMEM;
		c->frames = f;
		c->cap_frames = n;
	}
	memcpy(c->frames, frames, n * sizeof(*frames));
	c->nr_frames = n;
	c->time = time;
	c->used = true;
	return 0;
}

int rt_offcpu__add(struct rt_offcpu *o, struct rt_stacks *stacks, const struct rt_perf_sample *s,
		   bool is_switch, unsigned int stack_flags, const uint32_t *frames, uint32_t n)
{
	struct thread_slot *t;

	if (!is_switch) {
		switch (o->view) {
		case RT_MERGE_VIEW_OFFCPU:
			return 0;
		case RT_MERGE_VIEW_WALL:
			return rt_stacks__add(stacks, frames, n, 1, s->period) < 0 ? -ENOMEM : 1;
		case RT_MERGE_VIEW_GIL:
			if (!(stack_flags & RT_MERGE_STACK_GIL_HELD)) {
				o->stats.gil_skipped++;
				return 0;
			}
			o->stats.gil_kept++;
			/* fall through */
		default:
			return rt_stacks__add(stacks, frames, n, 1, s->period) < 0 ? -ENOMEM : 1;
		}
	}
	if (o->view != RT_MERGE_VIEW_OFFCPU && o->view != RT_MERGE_VIEW_WALL)
		return 0;
	t = slot_of(o, s->tid, true);
	if (!t)
		return -ENOMEM;
	if (t->has_stack)
		o->stats.no_interval++; /* its interval never came: still open when it left again */
	if (n > t->cap_frames) {
		uint32_t *f = realloc(t->frames, n * sizeof(*f));

		if (!f)
			return -ENOMEM;
		t->frames = f;
		t->cap_frames = n;
	}
	memcpy(t->frames, frames, n * sizeof(*frames));
	t->nr_frames = n;
	t->stack_time = s->time;
	t->has_stack = true;
	if (stack_flags & (RT_MERGE_STACK_SAME_CHAIN | RT_MERGE_STACK_CHAIN_KEEP) &&
	    keep_chain_stack(&t->chain[RT_MERGE_STACK_CHAIN_SLOT(stack_flags)], s->time, frames, n))
		return -ENOMEM;
	if (t->has_interval && starts_at(s->time, t->iv.start))
		return count_interval(o, stacks, t, &t->iv) < 0 ? -ENOMEM : 1;
	return 1;
}

int rt_offcpu__finish(struct rt_offcpu *o, struct rt_stacks **stacks)
{
	struct rt_stacks *us;
	size_t n;

	for (size_t i = 0; i < o->threads.cap; i++) {
		struct thread_slot *t = rt_tid_table__at(&o->threads, i);

		if (!t)
			continue;
		o->stats.no_interval += t->has_stack;
		o->stats.no_stack += t->has_interval && t->cap_frames;
		t->has_stack = t->has_interval = false;
	}
	if (o->view != RT_MERGE_VIEW_OFFCPU && o->view != RT_MERGE_VIEW_WALL)
		return 0;
	/* periods are nanoseconds; the views print microseconds */
	us = rt_stacks__new();
	if (!us || leaf_room(o, rt_stacks__deepest(*stacks))) {
		rt_stacks__free(us);
		return -ENOMEM;
	}
	n = rt_stacks__nr(*stacks);
	for (size_t i = 0; i < n; i++) {
		struct rt_stack st;
		uint32_t k, nf;

		rt_stacks__get(*stacks, i, &st);
		nf = st.nr_frames;
		for (k = 0; k < nf; k++) {
			const char *name = rt_stacks__name(*stacks, st.frames[k]);
			int64_t id = rt_stacks__intern(us, name, strlen(name));

			if (id < 0) {
				rt_stacks__free(us);
				return -ENOMEM;
			}
			o->leaf[k] = (uint32_t)id;
		}
		if (rt_stacks__add(us, o->leaf, nf, st.count, (st.period + 500) / 1000)) {
			rt_stacks__free(us);
			return -ENOMEM;
		}
	}
	rt_stacks__free(*stacks);
	*stacks = us;
	return 0;
}

void rt_offcpu__print_summary(const struct rt_offcpu *o, FILE *out)
{
	const struct rt_offcpu_stats *st = &o->stats;

	if (o->view == RT_MERGE_VIEW_GIL) {
		fprintf(out, "rtmerge: GIL view: %" PRIu64 " samples of threads holding the GIL "
			"folded, %" PRIu64 " of threads not holding it left out\n", st->gil_kept,
			st->gil_skipped);
		if (!st->gil_kept)
			fprintf(out, "rtmerge: warning: no sample of a thread holding the GIL: --gil "
				"shows CPython 3.7-3.15 recorded by rt-bpf record (not Ruby's GVL, "
				"not a plain perf recording)\n");
		return;
	}
	if (o->view == RT_MERGE_VIEW_CPU)
		return;
	fprintf(out, "rtmerge: off-CPU intervals: %" PRIu64 " read, %" PRIu64 " counted (%.3f s), "
		"%" PRIu64 " without their stack, %" PRIu64 " stacks without an interval (lost or still open at the end), %" PRIu64
		" malformed\n", st->intervals, st->paired, (double)st->offcpu_ns / 1e9, st->no_stack,
		st->no_interval, st->bad_records);
	if (st->sums)
		fprintf(out, "rtmerge: off-CPU sums: %" PRIu64 " read, %" PRIu64 " intervals in them, "
			"%" PRIu64 " of those without their stack\n", st->sums, st->summed,
			st->summed_no_stack);
	if (!st->intervals && !st->sums)
		fprintf(out, "rtmerge: warning: no off-CPU intervals in this file: record it with "
			"rt-bpf record --off-cpu\n");
}
