/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Off-CPU intervals (rt-bpf record --off-cpu), part of walker.bpf.c: it
 * shares the walker's maps (processes, channel, code objects sent).
 *
 * A tracepoint program linked to perf's own sched:sched_switch event.  The
 * kernel runs it before perf writes its sample, in the context of the
 * thread leaving the CPU; its return value says whether perf writes the
 * sample.  For a walked thread it walks the interpreter stack (the stack
 * record gets RT_REC_STACK_OFFCPU), notes when and why the thread left, and
 * keeps perf's sample, which carries the native callchain of that moment
 * (a callchain a BPF program cannot ask perf for); every other switch of
 * the system is dropped (returns 0).  When the thread is switched in
 * again, the program run for that switch writes an RT_REC_OFFCPU record
 * with the interval.  Every interval of a walked thread gets its record:
 * nothing is aggregated or dropped below a threshold; records lost to a
 * full buffer are counted.
 *
 * perf's sample with its callchain is most of the cost of a switch.  A
 * thread that sleeps in the same system call from the same user
 * instruction, stack and frame pointer as at one of its last
 * RT_REC_STACK_CHAIN_SLOTS switches out with a sample left through the
 * same native frames: that switch keeps no perf sample, and its stack
 * record says RT_REC_STACK_SAME_CHAIN and which slot (rtmerge reuses that
 * chain).  One switch in OFFCPU_SAME_CHAIN_MAX + 1 of a slot takes a fresh
 * one anyway.
 */
#ifndef RT_BPF_OFFCPU_BPF_H
#define RT_BPF_OFFCPU_BPF_H

/* sched_switch's fields in perf's raw record (tracefs format, the same
 * since Linux 4.x; rt-bpf checks the format before it loads this). */
#define OFFCPU_PREV_STATE 32
#define OFFCPU_NEXT_PID   56
/* prev_state bit that says the thread was preempted (TASK_REPORT_MAX) */
#define OFFCPU_STATE_PREEMPT 0x100
#define OFFCPU_STATE_EXITING 0x30 /* EXIT_DEAD, EXIT_ZOMBIE as the record reports them */
#define OFFCPU_NR_FUTEX 202 /* x86_64 */
#define OFFCPU_ENOSYS   38

/* A thread that left the CPU: when and why. */
struct offcpu_start {
	__u64 start;
	__u32 pid;
	__u32 state;
	__u32 syscall;
	__u32 flags; /* RT_REC_OFFCPU_* */
};

/*
 * Threads off the CPU, in a slot per tid (tid modulo OFFCPU_SLOTS) of an
 * array: every switch of the system asks whether the thread switched in
 * left walked, and an array lookup (inlined by the verifier) plus a
 * comparison is the cheapest answer; a hash map's lookup, update and delete
 * cost a helper call and a lock each.  A slot is written only by its own
 * thread as it leaves, when it is free, and freed as that thread comes
 * back.  A thread whose slot another thread holds goes into the hash map
 * (offcpu_starts), which is asked only while it holds anything.
 */
#define OFFCPU_SLOTS 8192 /* a power of two */

struct offcpu_slot {
	__u32 tid; /* 0: free */
	__u32 pad;
	struct offcpu_start st;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OFFCPU_SLOTS);
	__type(key, __u32);
	__type(value, struct offcpu_slot);
} offcpu_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct offcpu_start);
} offcpu_starts SEC(".maps");

/* Where a walked thread left the CPU with a perf sample (its native
 * chain): user registers and system call. */
struct offcpu_chain {
	__u64 ip, sp, bp;
	__u32 syscall;
	__u32 reused; /* switches since, without a sample */
};

/* A thread's last RT_REC_STACK_CHAIN_SLOTS of them, replaced in turn. */
struct offcpu_chains {
	struct offcpu_chain c[RT_REC_STACK_CHAIN_SLOTS];
	__u32 next;
	__u32 pad;
};

#define OFFCPU_SAME_CHAIN_MAX 63

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct offcpu_chains);
} offcpu_chains SEC(".maps");

/* A zeroed value to create a thread's entry from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offcpu_chains);
} offcpu_chains_zero SEC(".maps");

/* How many threads offcpu_starts holds (in its only element). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} offcpu_spilled SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_OFFCPU_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_stats SEC(".maps");

static __always_inline void offcpu_count(__u32 stat, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&offcpu_stats, &stat);

	if (v)
		*v += n;
}

/* Writes thread @tid's interval from @st, which ends @now. */
static __always_inline void offcpu_write(void *ctx, __u32 tid, const struct offcpu_start *st,
					 __u64 now)
{
	struct rt_rec_offcpu rec = {};
	long err;

	rec.hdr.magic = RT_REC_MAGIC;
	rec.hdr.version = RT_REC_VERSION;
	rec.hdr.type = RT_REC_OFFCPU;
	rec.hdr.size = sizeof(rec);
	rec.pid = st->pid;
	rec.tid = tid;
	rec.start = st->start;
	rec.end = now;
	rec.syscall = st->syscall;
	rec.state = st->state;
	rec.flags = st->flags;
	/* the channel of this CPU: system-wide recording only (per-thread
	 * channels run only while their own thread does) */
	err = per_thread_channels ? -95 :
	      bpf_perf_event_output(ctx, &channel, BPF_F_CURRENT_CPU, &rec, sizeof(rec));
	if (err) {
		offcpu_count(err == -28 ? RT_OFFCPU_STAT_LOST : RT_OFFCPU_STAT_ERRORS, 1);
		return;
	}
	offcpu_count(RT_OFFCPU_STAT_INTERVALS, 1);
	offcpu_count(RT_OFFCPU_STAT_NS, now - rec.start);
}

/* Writes the interval of thread @tid, switched in now, if it was walked
 * as it left.  Out of line, as offcpu_leave: the program's own frame is
 * part of the walk's call chain, which older verifiers bound to 512 bytes. */
static __noinline void offcpu_end(void *ctx, __u32 tid, __u64 now)
{
	__u32 key = tid & (OFFCPU_SLOTS - 1), zero = 0;
	struct offcpu_slot *slot = bpf_map_lookup_elem(&offcpu_slots, &key);
	struct offcpu_start *st;
	__s64 *spilled;

	if (!slot)
		return;
	if (slot->tid == tid) {
		offcpu_write(ctx, tid, &slot->st, now);
		slot->tid = 0;
		return;
	}
	spilled = bpf_map_lookup_elem(&offcpu_spilled, &zero);
	if (!spilled || *spilled <= 0)
		return;
	st = bpf_map_lookup_elem(&offcpu_starts, &tid);
	if (!st)
		return;
	offcpu_write(ctx, tid, st, now);
	if (!bpf_map_delete_elem(&offcpu_starts, &tid))
		__sync_fetch_and_add(spilled, -1);
}

/* Why the current thread leaves the CPU: its sched_switch state and, when
 * it sleeps in a system call, which (x86_64: the entry code leaves
 * -ENOSYS in ax until the call returns; a page fault leaves the user's
 * ax), and whether that call is a futex wait for its interpreter's lock:
 * CPython's GIL (@py) or CRuby's GVL (@rb, bpf/ruby_walk.bpf.h). */
static __always_inline void offcpu_reason(struct offcpu_start *st, long state, __u32 pid,
					  __u32 tid, const struct rt_walker_config *py,
					  const struct rt_ruby_walker_config *rb)
{
	struct pt_regs *regs;
	__u64 orig_ax, ax, futex, gil;

	st->state = (__u32)state;
	/* still runnable: preempted (R+), or switched out on its way back to
	 * user mode because its time was up (R) */
	if (!(state & (OFFCPU_STATE_PREEMPT - 1)) || (state & OFFCPU_STATE_PREEMPT)) {
		st->flags |= RT_REC_OFFCPU_PREEMPTED;
		return;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return;
	orig_ax = BPF_CORE_READ(regs, orig_ax);
	ax = BPF_CORE_READ(regs, ax);
	if ((__s64)orig_ax < 0 || orig_ax >= 1024 || ax != (__u64)-OFFCPU_ENOSYS)
		return;
	st->flags |= RT_REC_OFFCPU_SYSCALL;
	st->syscall = (__u32)orig_ax;
	if (orig_ax != OFFCPU_NR_FUTEX)
		return;
	futex = BPF_CORE_READ(regs, di);
	if (py) {
		gil = gil_address(py);
		if (gil && futex - gil < py->gil_size)
			st->flags |= RT_REC_OFFCPU_GIL_WAIT;
	} else if (rb && rb_gvl_wait(rb, pid, tid, futex)) {
		st->flags |= RT_REC_OFFCPU_GVL_WAIT;
	}
}

/* The stack record flags for thread @tid, leaving as @st says: with
 * RT_REC_STACK_SAME_CHAIN when it leaves through the native frames of one
 * of its last switches out with a sample (asleep in the same system call,
 * with the same user instruction, stack and frame pointers: then perf's
 * sample is not needed), or with RT_REC_STACK_CHAIN_KEEP when its sample is
 * to be remembered; the chain slot either way.  A new chain replaces the
 * oldest slot's. */
static __always_inline __u32 offcpu_chain_flags(__u32 tid, const struct offcpu_start *st)
{
	struct offcpu_chains *all;
	struct pt_regs *regs;
	__u64 ip, sp, bp;
	__u32 zero = 0, slot;

	if (!(st->flags & RT_REC_OFFCPU_SYSCALL))
		return 0; /* preempted anywhere: a fresh chain, not remembered */
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	ip = BPF_CORE_READ(regs, ip);
	sp = BPF_CORE_READ(regs, sp);
	bp = BPF_CORE_READ(regs, bp);
	all = bpf_map_lookup_elem(&offcpu_chains, &tid);
	if (!all) {
		struct offcpu_chains *zeroed = bpf_map_lookup_elem(&offcpu_chains_zero, &zero);

		if (!zeroed)
			return 0;
		bpf_map_update_elem(&offcpu_chains, &tid, zeroed, BPF_NOEXIST);
		all = bpf_map_lookup_elem(&offcpu_chains, &tid);
		if (!all)
			return 0;
	}
	for (slot = 0; slot < RT_REC_STACK_CHAIN_SLOTS; slot++) {
		struct offcpu_chain *c = &all->c[slot];

		if (c->ip == ip && c->sp == sp && c->bp == bp && c->syscall == st->syscall &&
		    c->ip && c->reused < OFFCPU_SAME_CHAIN_MAX) {
			c->reused++;
			offcpu_count(RT_OFFCPU_STAT_SAME_CHAIN, 1);
			return RT_REC_STACK_SAME_CHAIN | slot << RT_REC_STACK_CHAIN_SHIFT;
		}
	}
	slot = all->next++ & (RT_REC_STACK_CHAIN_SLOTS - 1);
	all->c[slot].ip = ip;
	all->c[slot].sp = sp;
	all->c[slot].bp = bp;
	all->c[slot].syscall = st->syscall;
	all->c[slot].reused = 0;
	return RT_REC_STACK_CHAIN_KEEP | slot << RT_REC_STACK_CHAIN_SHIFT;
}

/* Notes that the thread @id (bpf_get_current_pid_tgid) of a walked process
 * leaves the CPU @now; @py or @rb is its process's configuration.  Returns
 * its stack record's chain flags. */
static __noinline __u32 offcpu_leave(__u64 id, __u64 now, long state,
				     const struct rt_walker_config *py,
				     const struct rt_ruby_walker_config *rb)
{
	__u32 pid = id >> 32, tid = (__u32)id;
	__u32 key = tid & (OFFCPU_SLOTS - 1), zero = 0;
	struct offcpu_slot *slot = bpf_map_lookup_elem(&offcpu_slots, &key);
	struct offcpu_start st = {};
	__s64 *spilled;

	st.start = now;
	st.pid = pid;
	offcpu_reason(&st, state, pid, tid, py, rb);
	offcpu_count(RT_OFFCPU_STAT_SWITCHES, 1);
	if (!slot)
		return 0;
	if (!slot->tid || slot->tid == tid) {
		slot->st = st;
		slot->tid = tid;
		return offcpu_chain_flags(tid, &st);
	}
	spilled = bpf_map_lookup_elem(&offcpu_spilled, &zero);
	if (spilled && !bpf_map_update_elem(&offcpu_starts, &tid, &st, BPF_NOEXIST))
		__sync_fetch_and_add(spilled, 1);
	return offcpu_chain_flags(tid, &st);
}

/* Loaded only for --off-cpu ("?": not by default).  The common case, a
 * switch between threads that are not walked, costs an array lookup and a
 * hash lookup (two for a process that is not Python). */
SEC("?tracepoint")
int rt_offcpu(void *ctx)
{
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	__u32 next = (__u32)*(__s32 *)((char *)ctx + OFFCPU_NEXT_PID);
	long state = *(long *)((char *)ctx + OFFCPU_PREV_STATE);
	const struct rt_walker_config *cfg;
	const struct rt_ruby_walker_config *ruby = NULL;
	__u32 flags = RT_REC_STACK_OFFCPU;
	int ret;

	if (next)
		offcpu_end(ctx, next, now);
	if (!pid)
		return 0; /* the idle task */
	cfg = bpf_map_lookup_elem(&pids, &pid);
	if (!cfg) {
		ruby = bpf_map_lookup_elem(&rb_pids, &pid);
		if (!ruby)
			return 0; /* not walked: perf drops its sample */
	}
	if (state & OFFCPU_STATE_EXITING)
		return 0; /* its last switch: no interval follows */
	if (cfg) {
		flags |= offcpu_leave(id, now, state, cfg, NULL);
		ret = py_walker_sample(ctx, cfg, pid, tid, flags);
	} else {
		flags |= offcpu_leave(id, now, state, NULL, ruby);
		ret = rb_walker_sample(ctx, ruby, pid, tid);
		if (!ret)
			ret = rb_finish_sample(ctx, ruby, pid, tid, flags);
	}
	/* perf writes its sample, the native callchain, unless the stack
	 * record went out and says the chain is a remembered one.  Computed
	 * without a branch on @flags: a branch would make the verifier tell
	 * apart every value of it through the whole walk above (precision),
	 * and go through the walk once per value. */
	if (ret)
		return 1;
	return (int)(((flags / RT_REC_STACK_SAME_CHAIN) & 1) ^ 1);
}

#endif
