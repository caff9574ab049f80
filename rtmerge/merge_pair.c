/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: the sample callback.  Filters samples, feeds code records to the
 * decoder and pairs each interpreter stack record with its native sample.
 */
#include "rtmerge/merge_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/grow.h"
#include "rtmerge/tasks.h"

static bool wanted_u32(const uint32_t *set, size_t nr, uint32_t v)
{
	size_t i;

	if (!nr)
		return true;
	for (i = 0; i < nr; i++)
		if (set[i] == v)
			return true;
	return false;
}

/* ---- stack records paired with native samples --------------------------------
 * rt-bpf record opens its channel with call-graph=no and the walker keeps
 * every native sample, so perf report and perf script see the whole
 * profile: a stack record then carries only the interpreter frames, and
 * the native sample of the same overflow gives the native stack.  perf
 * stamps that native sample before the program runs, so in time order it
 * comes first, then the stack record, microseconds later, from the same CPU
 * and thread.  Each CPU's last native sample is held (deep-copied) until
 * its stack record arrives, or is folded alone when the CPU's next native
 * sample or the end of the data comes first.  Older kernels (6.1, 6.12) run
 * the program before perf writes the native sample, so there the stack
 * record comes first: it is kept (early_*) for the CPU's next native sample
 * of the same thread.  A stack record whose channel has a callchain stands
 * for a native sample that was dropped, and is folded by itself.
 *
 * With --off-cpu there are two kinds of both.  An off-CPU stack record is
 * written by the sched_switch tracepoint's program, which on every kernel
 * runs before perf writes its switch sample: it always waits (early_*)
 * for the switch sample that follows it, and joins no other kind.  A
 * switch out whose walk wrote no record (no thread state yet, as a thread
 * starts or ends) leaves its switch sample held alone: neither the
 * thread's next off-CPU record (which would then join every switch sample
 * before its own, one behind, for as long as records keep within the
 * window) nor its next on-CPU record (whose interpreter stack would stand
 * for the switch, and whose own sample would lose it) may take it. */

static bool has_native_stack(const struct rt_perf_sample *s)
{
	return s->sample_type & (PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_STACK_USER);
}

static int copy_array(void **buf, size_t *cap, const void *src, size_t size)
{
	if (size > *cap) {
		void *n = realloc(*buf, size);

		if (!n)
			return -ENOMEM;
		*buf = n;
		*cap = size;
	}
	if (size)
		memcpy(*buf, src, size);
	return 0;
}

/* The held slot of @s: its CPU, or for per-thread recordings (no CPU in
 * the samples) a slot picked by its tid. */
static size_t held_index(const struct rt_perf_sample *s)
{
	if (s->sample_type & PERF_SAMPLE_CPU)
		return s->cpu < 4096 ? s->cpu : 4096 + s->cpu % 64;
	return s->tid % 64;
}

/* The slot of @s, grown to exist; NULL without memory. */
static struct held_sample *held_slot(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);

	if (idx >= m->nr_held) {
		if (RT_ARRAY_GROW(m->held, m->cap_held, idx + 1, 16))
			return NULL;
		m->nr_held = idx + 1;
	}
	return &m->held[idx];
}

/* Whether stack record @stack and native sample @s are of one kind: an
 * off-CPU stack goes with perf's sched_switch sample, any other with a
 * sample of the sampling event. */
static bool same_kind(const struct rt_merge *m, const struct rt_interp_stack *stack,
		      const struct rt_perf_sample *s)
{
	return !!(stack->flags & RT_MERGE_STACK_OFFCPU) == rt_offcpu__sample_of(m->switch_evsel, s);
}

/* Whether the view folds stack records of @stack's kind: off-CPU ones go
 * with the switches (--off-cpu, --wall, or --event naming the switch
 * event), any other with the samples of a sampling event. */
static bool kind_folded(const struct rt_merge *m, const struct rt_interp_stack *stack)
{
	bool switches = m->switch_evsel && m->evsel == m->switch_evsel;

	if (stack->flags & RT_MERGE_STACK_OFFCPU)
		return switches || (m->switch_evsel && m->opts.view == RT_MERGE_VIEW_WALL);
	return !switches;
}

/* Keeps stack record @s (decoded as @stack) for the native sample that
 * follows it on its CPU; one it replaces never found its sample. */
static int early_put(struct rt_merge *m, const struct rt_perf_sample *s,
		     const struct rt_interp_stack *stack)
{
	struct held_sample *h = held_slot(m, s);
	int err;

	if (!h)
		return -ENOMEM;
	if (h->early)
		m->stats.unpaired_records++;
	err = copy_array((void **)&h->early_frames, &h->cap_early_frames, stack->frames,
			 stack->nr_frames * sizeof(*stack->frames));
	if (err)
		return err;
	h->early_stack = *stack;
	h->early_stack.frames = h->early_frames;
	h->early_time = s->time;
	h->early = true;
	return 0;
}

/*
 * Whether a native sample of @ev at time @a and a stack record at time @b
 * are of one overflow.  The walk writes its record microseconds before or
 * after perf writes the sample (which comes first depends on the kernel),
 * and a record paired with the sample before or after its own (that one
 * lost, perf's buffer full; or its record missing) is a sampling period
 * away: for a clock event, one overflow is closer than half its period
 * (@period, the sample's own, which perf's throttling lengthens; else the
 * event's).  The kernel keeps its sampling handlers within a quarter of
 * the CPU (perf_cpu_time_max_percent), so a walk ends well within that.
 * For other events, and at most, PAIR_WINDOW_NS.
 */
static bool one_overflow(const struct rt_perf_evsel *ev, uint64_t period, uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : b - a, close = PAIR_WINDOW_NS;

	if (ev && ev->attr.type == PERF_TYPE_SOFTWARE &&
	    (ev->attr.config == PERF_COUNT_SW_CPU_CLOCK || ev->attr.config == PERF_COUNT_SW_TASK_CLOCK)) {
		if (period && (ev->attr.sample_type & PERF_SAMPLE_PERIOD))
			close = period / 2;
		else if (ev->attr.freq && ev->attr.sample_freq)
			close = 500000000ull / ev->attr.sample_freq;
		else if (!ev->attr.freq && ev->attr.sample_period)
			close = ev->attr.sample_period / 2;
		if (close > PAIR_WINDOW_NS)
			close = PAIR_WINDOW_NS;
	}
	return d < close;
}

/* The time of the stack record kept on @s's CPU (0: none). */
static uint64_t early_time(const struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);

	return idx < m->nr_held && m->held[idx].early ? m->held[idx].early_time : 0;
}

/* The stack record kept for native sample @s, if it belongs to it. */
static const struct rt_interp_stack *early_take(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);
	struct held_sample *h = idx < m->nr_held ? &m->held[idx] : NULL;

	if (!h || !h->early || h->early_stack.tid != s->tid || h->early_stack.pid != s->pid ||
	    s->time < h->early_time || s->time - h->early_time > PAIR_WINDOW_NS ||
	    !same_kind(m, &h->early_stack, s))
		return NULL;
	h->early = false;
	return &h->early_stack;
}

/* Copies sample @s into @h, its arrays into @h's own buffers. */
static int sample_copy(struct held_sample *h, const struct rt_perf_sample *s)
{
	size_t nregs = (size_t)__builtin_popcountll(s->user_regs_mask);
	int err;

	h->s = *s;
	h->s.read_values = NULL;
	h->s.branches = NULL;
	h->s.intr_regs = NULL;
	h->s.aux = NULL;
	err = copy_array((void **)&h->callchain, &h->cap_callchain, s->callchain,
			 s->callchain ? s->nr_callchain * sizeof(*s->callchain) : 0);
	if (!err)
		err = copy_array((void **)&h->regs, &h->cap_regs, s->user_regs,
				 s->user_regs ? nregs * sizeof(*s->user_regs) : 0);
	if (!err)
		err = copy_array((void **)&h->stack, &h->cap_stack, s->user_stack,
				 s->user_stack ? s->user_stack_size : 0);
	/* a tracepoint's fields, for --leaf-field and --per-sample */
	if (!err)
		err = copy_array((void **)&h->raw, &h->cap_raw, s->raw, s->raw ? s->raw_size : 0);
	if (err)
		return err;
	h->s.raw = s->raw ? h->raw : NULL;
	h->s.callchain = s->callchain ? h->callchain : NULL;
	h->s.user_regs = s->user_regs ? h->regs : NULL;
	h->s.user_stack = s->user_stack ? h->stack : NULL;
	h->used = true;
	return 0;
}

/* Holds native sample @s (filters passed) until its stack record comes. */
static int held_put(struct rt_merge *m, const struct rt_perf_sample *s)
{
	struct held_sample *h = held_slot(m, s);
	int err;

	if (!h)
		return -ENOMEM;
	err = sample_copy(h, s);
	/* the task of the sample's moment: the thread may end its step before
	 * the sample is folded */
	return err ? err : rt_merge__task_now(m, s, &h->task);
}

/* ---- switches out on their thread's previous native chain -------------------
 * With --off-cpu, a thread that leaves the CPU from the same user registers,
 * system call and interpreter stack as at one of its recent switches out gets no sched_switch
 * sample from perf (bpf/offcpu.bpf.h): its stack record, flagged RT_REC_STACK_SAME_CHAIN,
 * is joined to a copy of that switch's sample (the record names its chain
 * slot), as if perf had written it again at the record's time. */

/* Thread @tid's slot of the last switch samples, created when @create;
 * NULL when absent or without memory. */
static struct switch_slot *switch_slot(struct rt_merge *m, uint32_t tid, bool create)
{
	return rt_tid_table__get(&m->switches, tid, create);
}

int rt_merge__switch_keep(struct rt_merge *m, const struct rt_perf_sample *s,
			  unsigned int stack_flags)
{
	struct switch_slot *t;

	if (!(stack_flags & RT_MERGE_STACK_CHAIN_KEEP) || !rt_offcpu__sample_of(m->switch_evsel, s))
		return 0;
	t = switch_slot(m, s->tid, true);
	return t ? sample_copy(&t->h[RT_MERGE_STACK_CHAIN_SLOT(stack_flags)], s) : -ENOMEM;
}

/* Folds off-CPU stack record @s (decoded as @stack) with its thread's last
 * switch sample, moved to the record's time and CPU. */
static int fold_same_chain(struct rt_merge *m, const struct rt_perf_sample *s,
			   const struct rt_interp_stack *stack)
{
	struct switch_slot *t = switch_slot(m, s->tid, false);
	const struct held_sample *h = t ? &t->h[RT_MERGE_STACK_CHAIN_SLOT(stack->flags)] : NULL;
	struct rt_perf_sample again;
	struct rt_merge_task task;
	int err = rt_merge__task_now(m, s, &task);

	if (err)
		return err;
	m->stats.same_chain_records++;
	if (!h || !h->used || h->s.pid != s->pid) {
		m->stats.same_chain_missing++;
		return rt_merge__fold(m, s, stack, &task);
	}
	again = h->s;
	again.time = s->time;
	again.cpu = s->cpu;
	/* the chain is that switch's, its fields (prev_state...) are not */
	again.raw = NULL;
	again.raw_size = 0;
	return rt_merge__fold(m, &again, stack, &task);
}

/* Native sample @s of event @ev, which is not folded, is left out: so is
 * its stack record.  A tracepoint's program (the switch's too) writes it
 * before perf writes the sample: kept already, it goes now.  A sampling
 * event's walk writes it right after the sample, as the next record of the
 * CPU: the CPU's slot notes the sample for that one record (skip_take). */
static int held_skip(struct rt_merge *m, const struct rt_perf_evsel *ev,
		     const struct rt_perf_sample *s)
{
	uint64_t rec_time = early_time(m, s);
	struct held_sample *h;

	if (early_take(m, s)) {
		if (one_overflow(ev, s->period, s->time, rec_time)) {
			m->stats.stack_only_records--; /* counted as it came: filtered now */
			m->stats.filtered++;
		} else {
			m->stats.unpaired_records++; /* a lost sample's, not this one's */
		}
		return 0;
	}
	if (ev->attr.type == PERF_TYPE_TRACEPOINT)
		return 0;
	h = held_slot(m, s);
	if (!h)
		return -ENOMEM;
	h->skipped = true;
	h->skip = (struct skip_mark){ ev, s->period, s->time, s->pid, s->tid };
	return 0;
}

/* Takes the mark held_skip left on @s's CPU off it: it stands for the very
 * next record of that CPU only.  True when @s is that record: the marked
 * sample's thread, of one overflow with it. */
static bool skip_take(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);
	struct held_sample *h = idx < m->nr_held ? &m->held[idx] : NULL;
	const struct skip_mark *k;

	if (!h || !h->skipped)
		return false;
	h->skipped = false;
	k = &h->skip;
	return k->tid == s->tid && k->pid == s->pid && s->time >= k->time &&
	       one_overflow(k->ev, k->period, s->time, k->time);
}

/* Folds the native sample held in slot @idx alone, if there is one. */
int rt_merge__held_flush(struct rt_merge *m, size_t idx)
{
	if (idx >= m->nr_held || !m->held[idx].used)
		return 0;
	m->held[idx].used = false;
	return rt_merge__fold(m, &m->held[idx].s, NULL, &m->held[idx].task);
}

int rt_merge__on_comm(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		      bool exec, const struct rt_perf_sample_id *sid)
{
	struct rt_merge *m = rt_merge__of(tool);
	int err = 0;

	/* the thread's own samples came before its comm changed (its stack
	 * records too: the walk runs as perf takes the sample); an exec ends
	 * every other thread of the process */
	for (size_t idx = 0; idx < m->nr_held && !err; idx++) {
		const struct held_sample *h = &m->held[idx];

		if (h->used && (h->s.tid == tid || (exec && h->s.pid == pid)))
			err = rt_merge__held_flush(m, idx);
	}
	return err ? err : m->machine_comm(tool, pid, tid, comm, exec, sid);
}

/* Folds the sample held on @s's CPU alone if no stack record can pair
 * with it any longer (PAIR_WINDOW_NS): a CPU with no more samples of the
 * event folded would keep it until the end, and it would meet the comm
 * and maps of a later moment. */
static int held_expire(struct rt_merge *m, const struct rt_perf_sample *s)
{
	size_t idx = held_index(s);

	if (idx < m->nr_held && m->held[idx].used && s->time > m->held[idx].s.time &&
	    s->time - m->held[idx].s.time > PAIR_WINDOW_NS)
		return rt_merge__held_flush(m, idx);
	return 0;
}

int rt_merge__on_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
			const struct rt_perf_sample *s)
{
	struct rt_merge *m = rt_merge__of(tool);
	struct rt_interp_stack stack;
	struct rt_merge_task task;
	bool have_interp = false;
	int err;

	if (!m->evsel_chosen)
		rt_merge__choose_event(m);
	if (m->fields_pending)
		rt_merge__load_fields(m);
	if (m->nr_held) {
		err = held_expire(m, s);
		if (err)
			return err;
		/* a native sample: a mark of the one before it on the CPU
		 * (held_skip) has had its record */
		if (!rt_merge__is_bpf_output(ev) || ev == m->evsel)
			skip_take(m, s);
	}
	if ((ev->attr.sample_type & PERF_SAMPLE_TIME) && s->time) {
		if (!m->first_time || s->time < m->first_time)
			m->first_time = s->time;
		if (s->time > m->last_time)
			m->last_time = s->time;
	}
	if (rt_merge__is_bpf_output(ev) && ev != m->evsel) {
		/* rt-bpf's channel: code records feed the decoder; stack records are
		 * samples of the folded event that carry interpreter frames. */
		if (!s->raw_size) {
			m->stats.empty_records++;
			return 0;
		}
		err = rt_task_tracker__feed(m->tasks, s->raw, s->raw_size);
		if (err) {
			if (err == -ENOMEM)
				return err;
			if (err > 0)
				m->stats.task_records++;
			else
				m->stats.bad_interp_records++;
			return 0;
		}
		err = rt_offcpu__feed(m->offcpu, m->stacks, s->raw, s->raw_size);
		if (err) {
			m->stats.offcpu_records++;
			return err < 0 ? err : 0;
		}
		err = rt_interp_decoder__feed(m->decoder, s->raw, s->raw_size, s->pid, s->tid,
					      &stack);
		if (err == 0) {
			m->stats.code_records++;
			return 0;
		}
		if (err == -ENOMEM)
			return err;
		if (err < 0) {
			m->stats.bad_interp_records++;
			return 0;
		}
		have_interp = true;
		stack.flags |= rt_offcpu__stack_flags(s->raw, s->raw_size);
	} else if (ev != m->evsel &&
		   !(ev == m->switch_evsel && m->opts.view == RT_MERGE_VIEW_WALL)) {
		m->stats.filtered++;
		return m->hold_native ? held_skip(m, ev, s) : 0;
	}
	if (!wanted_u32(m->opts.pids, m->opts.nr_pids, s->pid) ||
	    !wanted_u32(m->opts.tids, m->opts.nr_tids, s->tid)) {
		m->stats.filtered++;
		return 0;
	}
	err = rt_merge__target_find(m);
	if (err)
		return err;
	if (m->stats.target_pid && !m->opts.all_processes && !m->opts.nr_pids &&
	    !m->opts.nr_tids && !rt_merge__target_has(m, s->pid)) {
		m->stats.other_processes++;
		return 0;
	}
	if (m->opts.comm) {
		const char *comm = rt_machine__thread_comm(m->tool.machine, s->tid);

		if (!comm || strcmp(comm, m->opts.comm)) {
			m->stats.filtered++;
			return 0;
		}
	}
	if (have_interp && !kind_folded(m, &stack)) {
		m->stats.filtered++; /* as its native sample is */
		return 0;
	}
	if (have_interp && (stack.flags & RT_MERGE_STACK_SAME_CHAIN)) {
		m->stats.stack_only_records++;
		return fold_same_chain(m, s, &stack);
	}
	if (have_interp && !has_native_stack(s)) {
		/* A stack record for the native sample held on its CPU. */
		size_t idx = held_index(s);
		struct held_sample *h = idx < m->nr_held ? &m->held[idx] : NULL;
		if (skip_take(m, s) && !(stack.flags & RT_MERGE_STACK_OFFCPU)) {
			m->stats.filtered++; /* as its native sample is */
			return 0;
		}
		m->stats.stack_only_records++;
		if (stack.flags & RT_MERGE_STACK_OFFCPU)
			return early_put(m, s, &stack); /* its switch sample follows */
		/* a held sample a period before this record lost its own
		 * record; this one's sample follows (where the program runs
		 * first) */
		if (!h || !h->used || h->s.tid != s->tid || h->s.pid != s->pid ||
		    s->time < h->s.time || !one_overflow(m->evsel, h->s.period, s->time, h->s.time) ||
		    !same_kind(m, &stack, &h->s))
			return early_put(m, s, &stack);
		h->used = false;
		return rt_merge__fold(m, &h->s, &stack, &h->task);
	}
	if (m->hold_native && !have_interp) {
		/* A record kept a period before this sample is that of a
		 * sample perf lost (its buffer full), where the walk writes
		 * its record after the sample: taken, it would pair each later
		 * sample of the thread with the record of the one before. */
		uint64_t rec_time = early_time(m, s);
		const struct rt_interp_stack *early = early_take(m, s);

		if (early && !one_overflow(ev, s->period, s->time, rec_time)) {
			m->stats.unpaired_records++;
			early = NULL;
		}

		/* A switch sample's stack record, written by the tracepoint's
		 * program before perf writes the sample, came before it or
		 * not at all (a thread without interpreter state yet, a lost
		 * record): held, it would reach the off-CPU view after the
		 * interval records of its switch and the next ones. */
		bool alone = !early && rt_offcpu__sample_of(m->switch_evsel, s);

		err = rt_merge__held_flush(m, held_index(s));
		if (!err && (early || alone))
			err = rt_merge__task_now(m, s, &task);
		if (!err && (early || alone))
			return rt_merge__fold(m, s, early, &task);
		if (!err)
			err = held_put(m, s);
		return err;
	}
	err = rt_merge__task_now(m, s, &task);
	return err ? err : rt_merge__fold(m, s, have_interp ? &stack : NULL, &task);
}
