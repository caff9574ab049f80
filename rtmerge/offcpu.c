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
#define MAX_FRAMES 4096

/* One thread's switch sample and interval, each waiting for the other. */
struct thread_slot {
	struct rt_tid_key key;     /* first: an entry of perfglue/tidtable.h */
	bool has_stack, has_interval;
	uint64_t stack_time;       /* perf time of the switch sample */
	uint32_t *frames;          /* its folded frames, root first */
	uint32_t nr_frames, cap_frames;
	struct rt_rec_offcpu iv;   /* the waiting interval */
};

struct rt_offcpu {
	enum rt_merge_view view;
	struct rt_tid_table threads; /* struct thread_slot by tid */
	uint32_t leaf[MAX_FRAMES];
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

		if (t)
			free(t->frames);
	}
	rt_tid_table__clear(&o->threads);
	free(o);
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

/* Counts the waiting stack of @t for its interval @iv: a leaf frame says why. */
static int count_interval(struct rt_offcpu *o, struct rt_stacks *stacks, struct thread_slot *t,
			  const struct rt_rec_offcpu *iv)
{
	char why[64];
	uint32_t n = t->nr_frames < MAX_FRAMES - 1 ? t->nr_frames : MAX_FRAMES - 1;
	int64_t id;

	rt_offcpu__reason(iv->flags, iv->syscall, iv->state, why, sizeof(why));
	id = rt_stacks__intern(stacks, why, strlen(why));
	if (id < 0)
		return (int)id;
	memcpy(o->leaf, t->frames, n * sizeof(*o->leaf));
	o->leaf[n++] = (uint32_t)id;
	t->has_stack = false;
	t->has_interval = false;
	o->stats.paired++;
	o->stats.offcpu_ns += iv->end - iv->start;
	return rt_stacks__add(stacks, o->leaf, n, 1, iv->end - iv->start);
}

static bool starts_at(uint64_t stack_time, uint64_t start)
{
	return stack_time >= start && stack_time - start <= START_WINDOW_NS;
}

int rt_offcpu__feed(struct rt_offcpu *o, struct rt_stacks *stacks, const void *raw, size_t size)
{
	struct rt_rec_header hdr;
	struct rt_rec_offcpu iv;
	struct thread_slot *t;

	if (size < sizeof(hdr))
		return 0;
	memcpy(&hdr, raw, sizeof(hdr));
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
	if (!us)
		return -ENOMEM;
	n = rt_stacks__nr(*stacks);
	for (size_t i = 0; i < n; i++) {
		struct rt_stack st;
		uint32_t k, nf;

		rt_stacks__get(*stacks, i, &st);
		nf = st.nr_frames < MAX_FRAMES ? st.nr_frames : MAX_FRAMES;
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
		fprintf(out, "rtmerge: GIL view: %" PRIu64 " samples of threads not holding the GIL "
			"left out\n", st->gil_skipped);
		return;
	}
	if (o->view == RT_MERGE_VIEW_CPU)
		return;
	fprintf(out, "rtmerge: off-CPU intervals: %" PRIu64 " read, %" PRIu64 " counted (%.3f s), "
		"%" PRIu64 " without their stack, %" PRIu64 " stacks without an interval (lost or still open at the end), %" PRIu64
		" malformed\n", st->intervals, st->paired, (double)st->offcpu_ns / 1e9, st->no_stack,
		st->no_interval, st->bad_records);
	if (!st->intervals)
		fprintf(out, "rtmerge: warning: no off-CPU intervals in this file: record it with "
			"rt-bpf record --off-cpu\n");
}
