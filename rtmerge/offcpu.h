/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * offcpu: the off-CPU, wall-clock and GIL views of a recording made with
 * rt-bpf record --off-cpu (docs/offcpu.md).
 *
 * The off-CPU program writes, for each interval a walked thread spends
 * off the CPU, a stack record flagged RT_REC_STACK_OFFCPU and perf's
 * sched:sched_switch sample (the native callchain) as the thread leaves,
 * and an RT_REC_OFFCPU record (start, end, why) when it runs again.  merge
 * folds the sched_switch sample as usual and hands the folded frames here
 * (rt_offcpu__add); the interval record comes in through
 * rt_offcpu__feed.  The two meet by thread and start time, in either
 * order, and are counted once with the interval's length as their period,
 * a leaf frame saying why the thread waited.  An RT_REC_OFFCPU_SUM record
 * (intervals the program summed without a walk) adds its count and time to
 * the stack of the thread's last switch sample through the sum's native
 * chain slot.
 */
#ifndef RT_MERGE_OFFCPU_H
#define RT_MERGE_OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perfglue/perfdata.h"
#include "rtmerge/stacks.h"

enum rt_merge_view {
	RT_MERGE_VIEW_CPU = 0, /* on-CPU samples (the default) */
	RT_MERGE_VIEW_OFFCPU,  /* off-CPU intervals, weighted by their length */
	RT_MERGE_VIEW_WALL,    /* on-CPU samples by period plus off-CPU intervals */
	RT_MERGE_VIEW_GIL,     /* on-CPU samples of threads that held the GIL */
};

/* Bits merge adds to rt_interp_stack.flags from the stack record's own
 * flags (above the decoder's RT_INTERP_STACK_* bits). */
#define RT_MERGE_STACK_OFFCPU   (1u << 16)
#define RT_MERGE_STACK_GIL_HELD (1u << 17)
/* the switch out kept no perf sample: its native chain is the thread's
 * previous one (RT_REC_STACK_SAME_CHAIN) */
#define RT_MERGE_STACK_SAME_CHAIN (1u << 18)
/* the record's chain slot (RT_REC_STACK_CHAIN_SLOT), two bits */
#define RT_MERGE_STACK_CHAIN_KEEP (1u << 21)
#define RT_MERGE_STACK_CHAIN_SHIFT 19
#define RT_MERGE_STACK_CHAIN_SLOT(flags) (((flags) >> RT_MERGE_STACK_CHAIN_SHIFT) & 3u)

/* The perf event the off-CPU program is linked to. */
#define RT_OFFCPU_EVENT "sched:sched_switch"

struct rt_offcpu_stats {
	uint64_t intervals;       /* interval records read */
	uint64_t paired;          /* ... counted with their stack */
	uint64_t no_stack;        /* ... whose switch sample never came (lost or filtered) */
	uint64_t no_interval;     /* switch samples whose interval never came (lost, open at the end) */
	uint64_t offcpu_ns;       /* time in paired intervals */
	uint64_t gil_skipped;     /* on-CPU samples left out of the GIL view */
	uint64_t gil_kept;        /* on-CPU samples of threads holding the GIL */
	uint64_t bad_records;     /* interval or sum records too short to read, or malformed */
	uint64_t sums;            /* RT_REC_OFFCPU_SUM records read */
	uint64_t summed;          /* intervals in them */
	uint64_t summed_no_stack; /* ... whose chain slot's stack never came (lost) */
};

struct rt_offcpu;

/* Returns the state of @view or NULL with errno set. */
struct rt_offcpu *rt_offcpu__new(enum rt_merge_view view);
void rt_offcpu__free(struct rt_offcpu *o);

enum rt_merge_view rt_offcpu__view(const struct rt_offcpu *o);

/* true when @ev is the scheduler-switch event the off-CPU program uses. */
bool rt_offcpu__is_switch_event(const struct rt_perf_evsel *ev);

/* true when sample @s belongs to event @ev (NULL: none recorded). */
bool rt_offcpu__sample_of(const struct rt_perf_evsel *ev, const struct rt_perf_sample *s);

/*
 * The RT_MERGE_STACK_* bits of a raw stack record (0 for anything else):
 * merge adds them to the decoded stack's flags.
 */
unsigned int rt_offcpu__stack_flags(const void *raw, size_t size);

/*
 * Takes bpf-output payload @raw if it is an interval or sum record: returns 1
 * (taken; its stack is counted now or when it comes), 0 when it is not one,
 * -ENOMEM.
 */
int rt_offcpu__feed(struct rt_offcpu *o, struct rt_stacks *stacks, const void *raw, size_t size);

/*
 * Counts the folded stack @frames (root first, @n frames) of sample @s
 * according to the view: @is_switch when @s is a sched_switch sample,
 * @stack_flags the RT_MERGE_STACK_* bits of its interpreter stack.  An
 * on-CPU sample is counted with its period (the wall view) or once (the
 * CPU and GIL views); a switch sample waits for its interval.  Returns 1
 * when counted or kept, 0 when the view leaves it out, -ENOMEM.
 */
int rt_offcpu__add(struct rt_offcpu *o, struct rt_stacks *stacks, const struct rt_perf_sample *s,
		   bool is_switch, unsigned int stack_flags, const uint32_t *frames, uint32_t n);

/*
 * The end of the data: switch samples still waiting are counted as open.
 * For the off-CPU and wall views, replaces *@stacks by a table whose
 * period is in microseconds.  Returns 0 or -ENOMEM.
 */
int rt_offcpu__finish(struct rt_offcpu *o, struct rt_stacks **stacks);

const struct rt_offcpu_stats *rt_offcpu__stats(const struct rt_offcpu *o);

/* One or two summary lines about the intervals. */
void rt_offcpu__print_summary(const struct rt_offcpu *o, FILE *out);

/* The name of x86_64 system call @nr, or its number written into @buf. */
const char *rt_offcpu__syscall_name(uint32_t nr, char *buf, size_t size);

/* The leaf frame naming why a thread was off the CPU (RT_REC_OFFCPU_*
 * @flags, x86_64 system call @syscall, sched_switch @state), into @buf. */
const char *rt_offcpu__reason(uint32_t flags, uint32_t syscall, uint32_t state, char *buf,
			      size_t size);

#endif
