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
 * with the interval (or adds it to a sum, below).  Nothing is dropped
 * below a threshold; records lost to a full buffer are counted.
 *
 * perf's sample with its callchain is most of the cost of a switch.  A
 * thread that sleeps in the same system call from the same user
 * instruction, stack and frame pointer, with the same interpreter stack,
 * as at one of its last RT_REC_STACK_CHAIN_SLOTS switches out with a
 * sample left through the same native frames, and so does one preempted
 * on its way back from the same system call at the same registers: that
 * switch keeps no perf sample, and its stack record says
 * RT_REC_STACK_SAME_CHAIN and which slot (rtmerge reuses that chain).  The
 * registers alone do not pin the native frames (offcpu_chain_flags).  One
 * switch in OFFCPU_SAME_CHAIN_MAX + 1 of a slot takes a fresh one anyway.
 *
 * The walk and the two records are the rest of the cost.  A CPython or
 * CRuby thread that leaves through a remembered chain for the same reason,
 * with the same stack (every frame's signature: offcpu_py_sig,
 * offcpu_rb_sig) as at that slot's last walk, is not walked: its interval
 * is added to the slot's sum (time and count), which goes out as one RT_REC_OFFCPU_SUM
 * record before the slot's next walk, after OFFCPU_SUM_MAX intervals or
 * OFFCPU_SUM_NS, at the thread's exit, when the map of chains is full
 * (offcpu_evict), and at the end of the recording (rt_offcpu_flush, run by
 * rt-bpf).  Nothing is dropped: every interval is in a record or in a
 * sum.
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
	__u32 sum;   /* 1 + the chain slot whose sum the interval goes to; 0: its own record */
	__u32 chain; /* what its native chain is remembered by besides the user registers
		      * (OFFCPU_CHAIN_*); 0: not remembered */
};

/* The user registers of the thread leaving, read once per switch out
 * (direct loads through the task's BTF-typed pt_regs: no helper call). */
struct offcpu_regs {
	__u64 ip, sp, bp, orig_ax, ax, di;
};

/* offcpu_start.chain: 1 + the system call it sleeps in, or with
 * OFFCPU_CHAIN_RETURNING the one it was preempted on its way back from */
#define OFFCPU_CHAIN_RETURNING (1u << 16)
#define OFFCPU_SYSCALL_INSN 0x050f /* x86_64 syscall, as a little-endian __u16 */

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
 * chain): user registers and system call; what its last walk through this
 * chain found, and the intervals summed on that walk's stack since. */
struct offcpu_chain {
	__u64 ip, sp, bp;
	__u32 key;    /* offcpu_start.chain */
	__u32 reused; /* switches since, without a sample */
	__u64 sig;    /* offcpu_py_sig or offcpu_rb_sig at the last walk; 0: none (never summed) */
	__u32 flags, state; /* why it left then (RT_REC_OFFCPU_*, prev_state) */
	__u64 walked; /* that interval's start */
	__u64 first, last, total; /* the sum: first start, last end, nanoseconds */
	__u32 count, syscall;     /* ... and intervals (0: nothing summed); offcpu_start.syscall */
	__u64 used; /* the start of the last interval that went through the slot */
};

/* A thread's last RT_REC_STACK_CHAIN_SLOTS of them; the one used least
 * lately makes room for a new one. */
struct offcpu_chains {
	struct offcpu_chain c[RT_REC_STACK_CHAIN_SLOTS];
	__u32 pid;
	__u32 pad0;
	/* the thread's thread_key() for its PyThreadState, read once: it holds
	 * for the thread's life (tid in its namespace, or its thread pointer),
	 * and reading it costs three kernel reads; with the configuration's
	 * generation it was read under (0: not read) */
	__u64 key;
	__u32 key_generation;
	__u32 pad;
	/* its PyThreadState (CRuby: rb_thread_t) as last found, under
	 * key_generation (0: none) */
	__u64 tstate;
};

#define OFFCPU_SAME_CHAIN_MAX 63
/* A sum goes out after this many intervals or once its first began this
 * long ago: a thread that keeps blocking in one place still shows up in
 * the recording as it goes, and a sum's count fits its record. */
#define OFFCPU_SUM_MAX 4096
#define OFFCPU_SUM_NS  10000000ull
/* offcpu_leave's answers besides the chain flags (not stack record flags):
 * the thread is walked, its interval goes to a sum */
#define OFFCPU_WALKED (1u << 30)
#define OFFCPU_SUMMED (1u << 31)
/* ... and offcpu_chains is full: rt_offcpu is to evict entries */
#define OFFCPU_FULL (1u << 29)
/* ... and the thread's previous interval, whose switch in ran no program,
 * waits in offcpu_late for rt_offcpu to write */
#define OFFCPU_LATE (1u << 28)

/* A plain hash, not an LRU one: an LRU map would drop a thread's entry,
 * and the sums it holds, without a word.  A thread's entry goes at its
 * exit (its sums written); when the map is full, rt_offcpu evicts
 * OFFCPU_EVICT entries itself, writing their sums first (offcpu_evict). */
#define OFFCPU_CHAINS_MAX 16384
#define OFFCPU_EVICT      64
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_CHAINS_MAX);
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

/* The sum a switch out's walk replaces, written by rt_offcpu before the
 * walk's stack record (offcpu_leave cannot write: it is verified apart,
 * without the program's context). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_rec_offcpu_sum);
} offcpu_pending SEC(".maps");

/* An interval offcpu_leave ended (offcpu_unseen), for rt_offcpu to write. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_rec_offcpu);
} offcpu_late SEC(".maps");

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

/* Fills @rec with thread @tid's interval from @st, which ends @end. */
static __always_inline void offcpu_fill(struct rt_rec_offcpu *rec, __u32 tid,
					const struct offcpu_start *st, __u64 end)
{
	rec->hdr.magic = RT_REC_MAGIC;
	rec->hdr.version = RT_REC_VERSION;
	rec->hdr.type = RT_REC_OFFCPU;
	rec->hdr.size = sizeof(*rec);
	rec->pid = st->pid;
	rec->tid = tid;
	rec->start = st->start;
	rec->end = end;
	rec->syscall = st->syscall;
	rec->state = st->state;
	rec->flags = st->flags;
	rec->pad = 0;
}

/* Writes interval record @rec to this CPU's channel. */
static __always_inline void offcpu_output(void *ctx, struct rt_rec_offcpu *rec)
{
	long err;

	/* the channel of this CPU: system-wide recording only (per-thread
	 * channels run only while their own thread does) */
	err = per_thread_channels ? -95 :
	      bpf_perf_event_output(ctx, &channel, BPF_F_CURRENT_CPU, rec, sizeof(*rec));
	if (err) {
		offcpu_count(err == -28 ? RT_OFFCPU_STAT_LOST : RT_OFFCPU_STAT_ERRORS, 1);
		return;
	}
	offcpu_count(RT_OFFCPU_STAT_INTERVALS, 1);
	offcpu_count(RT_OFFCPU_STAT_NS, rec->end - rec->start);
}

/* Writes thread @tid's interval from @st, which ends @now. */
static __always_inline void offcpu_write(void *ctx, __u32 tid, const struct offcpu_start *st,
					 __u64 now)
{
	struct rt_rec_offcpu rec;

	offcpu_fill(&rec, tid, st, now);
	offcpu_output(ctx, &rec);
}

/* Moves chain @c's sum (thread @tid of @pid, slot @slot) into @rec and
 * empties it; false when it holds nothing. */
static __always_inline bool offcpu_sum_take(struct rt_rec_offcpu_sum *rec, struct offcpu_chain *c,
					    __u32 pid, __u32 tid, __u32 slot)
{
	if (!c->count)
		return false;
	rec->hdr.magic = RT_REC_MAGIC;
	rec->hdr.version = RT_REC_VERSION;
	rec->hdr.type = RT_REC_OFFCPU_SUM;
	rec->hdr.size = sizeof(*rec);
	rec->pid = pid;
	rec->tid = tid;
	rec->walked = c->walked;
	rec->first = c->first;
	rec->last = c->last;
	rec->total = c->total;
	rec->count = c->count;
	rec->slot = slot;
	rec->syscall = c->syscall;
	rec->state = c->state;
	rec->flags = c->flags;
	rec->pad = 0;
	c->count = 0;
	c->total = 0;
	return true;
}

/* Writes sum @rec into this CPU's channel (see offcpu_write); a lost one
 * counts its intervals as lost. */
static __always_inline void offcpu_sum_write(void *ctx, const struct rt_rec_offcpu_sum *rec)
{
	long err = per_thread_channels ? -95 :
		   bpf_perf_event_output(ctx, &channel, BPF_F_CURRENT_CPU, (void *)rec, sizeof(*rec));

	if (err) {
		offcpu_count(err == -28 ? RT_OFFCPU_STAT_LOST : RT_OFFCPU_STAT_ERRORS, rec->count);
		return;
	}
	offcpu_count(RT_OFFCPU_STAT_SUMS, 1);
	offcpu_count(RT_OFFCPU_STAT_NS, rec->total);
}

/* Writes every sum of thread @tid's chains @all. */
static __always_inline void offcpu_sums_flush(void *ctx, struct offcpu_chains *all, __u32 tid)
{
	struct rt_rec_offcpu_sum rec;

	/* unrolled: 6.1's verifier refuses a loop back to a helper call */
#pragma unroll
	for (__u32 slot = 0; slot < RT_REC_STACK_CHAIN_SLOTS; slot++)
		if (offcpu_sum_take(&rec, &all->c[slot], all->pid, tid, slot))
			offcpu_sum_write(ctx, &rec);
}

/* The chain slot whose sum the interval @st began goes to. */
static __always_inline __u32 offcpu_sum_slot(const struct offcpu_start *st)
{
	return (st->sum - 1) & (RT_REC_STACK_CHAIN_SLOTS - 1);
}

/* Adds the interval of thread @tid that @st began and @end ends to the sum
 * its switch out chose; the chain, or NULL when the thread's entry is gone. */
static __always_inline struct offcpu_chain *offcpu_sum_count(struct offcpu_chains *all,
							     const struct offcpu_start *st,
							     __u64 end)
{
	struct offcpu_chain *c;
	__u32 slot = offcpu_sum_slot(st);

	if (!all) {
		offcpu_count(RT_OFFCPU_STAT_LOST, 1); /* its thread's entry was evicted */
		return NULL;
	}
	c = &all->c[slot];
	if (!c->count)
		c->first = st->start;
	c->count++;
	c->total += end - st->start;
	c->last = end;
	offcpu_count(RT_OFFCPU_STAT_SUMMED, 1);
	return c;
}

/* Adds the interval of thread @tid that @st began and @now ends to the sum
 * its switch out chose, writing the sum once it is full or old. */
static __always_inline void offcpu_sum_add(void *ctx, __u32 tid, const struct offcpu_start *st,
					   __u64 now)
{
	struct offcpu_chains *all = bpf_map_lookup_elem(&offcpu_chains, &tid);
	struct offcpu_chain *c = offcpu_sum_count(all, st, now);
	struct rt_rec_offcpu_sum rec;

	/* c only with all */
	if (c && (c->count >= OFFCPU_SUM_MAX || now - c->first >= OFFCPU_SUM_NS) &&
	    offcpu_sum_take(&rec, c, all->pid, tid, offcpu_sum_slot(st)))
		offcpu_sum_write(ctx, &rec);
}

/* Ends the interval of thread @tid that @st began: its own record, or its
 * sum's share. */
static __always_inline void offcpu_close(void *ctx, __u32 tid, const struct offcpu_start *st,
					 __u64 now)
{
	if (st->sum)
		offcpu_sum_add(ctx, tid, st, now);
	else
		offcpu_write(ctx, tid, st, now);
}

/* Where thread @tid's open interval is kept: its slot (which another
 * thread may hold) and, when not there, the count of offcpu_starts. */
struct offcpu_open {
	struct offcpu_slot *slot;
	__s64 *spilled;
	bool in_slot;
};

/* The interval thread @tid left open as it left the CPU (offcpu_leave):
 * its slot's or the spill map's, NULL if it has none (or no slot: @o->slot
 * NULL).  offcpu_open_release frees it. */
static __always_inline struct offcpu_start *offcpu_open_find(__u32 tid, struct offcpu_open *o)
{
	__u32 key = tid & (OFFCPU_SLOTS - 1), zero = 0;

	o->in_slot = false;
	o->spilled = NULL;
	o->slot = bpf_map_lookup_elem(&offcpu_slots, &key);
	if (!o->slot)
		return NULL;
	if (o->slot->tid == tid) {
		o->in_slot = true;
		return &o->slot->st;
	}
	o->spilled = bpf_map_lookup_elem(&offcpu_spilled, &zero);
	if (!o->spilled || *o->spilled <= 0)
		return NULL;
	return bpf_map_lookup_elem(&offcpu_starts, &tid);
}

/* Frees the open interval offcpu_open_find found for thread @tid. */
static __always_inline void offcpu_open_release(__u32 tid, struct offcpu_open *o)
{
	if (o->in_slot && o->slot)
		o->slot->tid = 0;
	else if (o->spilled && !bpf_map_delete_elem(&offcpu_starts, &tid))
		__sync_fetch_and_add(o->spilled, -1);
}

/* Writes the interval of thread @tid, switched in now, if it was walked
 * as it left.  Out of line, as offcpu_leave: the program's own frame is
 * part of the walk's call chain, which older verifiers bound to 512 bytes. */
static __noinline void offcpu_end(void *ctx, __u32 tid, __u64 now)
{
	struct offcpu_open o;
	struct offcpu_start *st = offcpu_open_find(tid, &o);

	if (!st)
		return;
	offcpu_close(ctx, tid, st, now);
	offcpu_open_release(tid, &o);
}

/* How many entries offcpu_evict still removes on this CPU (in a map, not
 * on the stack: a count on the stack would be verified as one more state
 * per visit of the callback). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} offcpu_evict_left SEC(".maps");

/* bpf_for_each_map_elem callback: writes the sums of one thread's chains
 * and removes its entry (the thread starts afresh at its next switch out),
 * unless the thread is off the CPU on one of its sums; @arg points to the
 * program's context. */
static long offcpu_evict_thread(struct bpf_map *map, __u32 *tid, struct offcpu_chains *all,
				void *arg)
{
	__u32 zero = 0, *left = bpf_map_lookup_elem(&offcpu_evict_left, &zero);
	__u32 key = *tid & (OFFCPU_SLOTS - 1);
	struct offcpu_slot *slot = bpf_map_lookup_elem(&offcpu_slots, &key);
	struct offcpu_start *st = bpf_map_lookup_elem(&offcpu_starts, tid);

	if (!left || !*left)
		return 1;
	/* off the CPU now with its interval going to a sum: kept, or that
	 * interval would be lost */
	if ((slot && slot->tid == *tid && slot->st.sum) || (st && st->sum))
		return 0;
	offcpu_sums_flush(*(void **)arg, all, *tid);
	bpf_map_delete_elem(map, tid);
	offcpu_count(RT_OFFCPU_STAT_EVICTED, 1);
	(*left)--;
	return 0;
}

/* offcpu_chains is full (threads that left without an exit the program
 * saw, or more threads than it holds): OFFCPU_EVICT entries go, their sums
 * written first, so that no sum is lost unsaid. */
static __noinline void offcpu_evict(void *ctx)
{
	__u32 zero = 0, *left = bpf_map_lookup_elem(&offcpu_evict_left, &zero);

	if (!left)
		return;
	*left = OFFCPU_EVICT;
	bpf_for_each_map_elem(&offcpu_chains, offcpu_evict_thread, &ctx, 0);
}

/* Writes the sum offcpu_leave set aside, if any.  Out of line: its key
 * and spills in rt_offcpu's frame would push the walk's call chain (with
 * the program's frame) past 6.1's 512 bytes. */
static __noinline void offcpu_pending_write(void *ctx)
{
	__u32 zero = 0;
	struct rt_rec_offcpu_sum *rec = bpf_map_lookup_elem(&offcpu_pending, &zero);

	if (rec && rec->count) {
		offcpu_sum_write(ctx, rec);
		rec->count = 0;
	}
}

/* Why the current thread leaves the CPU: its sched_switch state and, when
 * it sleeps in a system call, which (x86_64: the entry code leaves
 * -ENOSYS in ax until the call returns; a page fault leaves the user's
 * ax), and whether that call is a futex wait for its interpreter's lock:
 * CPython's GIL (@py) or CRuby's GVL (@rb, bpf/ruby_walk.bpf.h). */
static __always_inline void offcpu_reason(struct offcpu_start *st, long state, __u32 pid,
					  __u32 tid, const struct rt_walker_config *py,
					  const struct rt_ruby_walker_config *rb,
					  const struct offcpu_regs *r)
{
	__u64 orig_ax = r->orig_ax, ax = r->ax, futex, gil, ip;
	__u16 insn = 0;

	st->state = (__u32)state;
	/* still runnable: preempted (R+), or switched out on its way back to
	 * user mode because its time was up (R) */
	if (!(state & (OFFCPU_STATE_PREEMPT - 1)) || (state & OFFCPU_STATE_PREEMPT)) {
		st->flags |= RT_REC_OFFCPU_PREEMPTED;
		/* on its way back from system call orig_ax (ax holds its result,
		 * ip follows a syscall instruction; an interrupt leaves orig_ax
		 * negative): the kernel's frames are those of the return path */
		ip = r->ip;
		if ((__s64)orig_ax >= 0 && orig_ax < 1024 && ax != (__u64)-OFFCPU_ENOSYS &&
		    !bpf_probe_read_user(&insn, sizeof(insn), (const void *)(ip - 2)) &&
		    insn == OFFCPU_SYSCALL_INSN)
			st->chain = ((__u32)orig_ax + 1) | OFFCPU_CHAIN_RETURNING;
		return;
	}
	if ((__s64)orig_ax < 0 || orig_ax >= 1024 || ax != (__u64)-OFFCPU_ENOSYS)
		return;
	st->flags |= RT_REC_OFFCPU_SYSCALL;
	st->syscall = (__u32)orig_ax;
	st->chain = (__u32)orig_ax + 1;
	if (orig_ax != OFFCPU_NR_FUTEX)
		return;
	futex = r->di;
	if (py) {
		gil = gil_address(py);
		if (gil && futex - gil < py->gil_size)
			st->flags |= RT_REC_OFFCPU_GIL_WAIT;
	} else if (rb && rb_gvl_wait(rb, pid, tid, futex)) {
		st->flags |= RT_REC_OFFCPU_GVL_WAIT;
	}
}

/* @h with @v mixed in. */
static __always_inline __u64 offcpu_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/*
 * What tells a thread's interpreter stack from another at a switch out, far
 * cheaper than a walk: every frame of it, root to leaf, hashed (never 0),
 * without the code objects' names and lines, the records and their
 * look-ups that a walk costs.  CPython: each frame's address, code object
 * and instruction; CRuby: each control frame's address, pc, iseq and
 * environment's address, and a C frame's method entry and flags.  Two
 * stacks with the same signature are the same stack (but for a 64-bit hash
 * collision).
 * Leaf frames alone would not do: a helper called from two callers at the
 * same depth has the same leaf frames at the same addresses under either.
 * 0 when a frame cannot be read, or the stack is deeper than a walk keeps:
 * the switch is walked then.
 */

#define OFFCPU_SIG_FRAMES 4

/* The next OFFCPU_SIG_FRAMES CPython frames of the signature: w->frame
 * (read through this CPU's walk window) mixed into w->sig, w->frame moved
 * to its caller's, and so on.  Leaves w->frame as it is when the frame
 * cannot be read.  A global function, as py_walk_step: verified once,
 * apart. */
__noinline int offcpu_py_sig_step(struct walk *w)
{
	struct deep_stack *d = deep_stack();
	__u64 size, code, previous;
	enum window_way way;
	const __u8 *buf;
	__u8 is_entry, owner;
	__s64 lasti;

	if (!w || !w->frame || !d)
		return 1;
	size = w->off.frame_read;
	bound_barrier(size);
	if (size > RT_WALKER_FRAME_READ || size < 8)
		return 1;
	way = w->off.frame_instr_ptr != RT_WALKER_NONE ? WINDOW_DOWN : WINDOW_FRAME;
	/* OFFCPU_SIG_FRAMES frames a call: the loop's callback and this
	 * call, not the frames (mostly read from the window), are what a
	 * frame costs.  Unrolled: no loop back to the window's helper call. */
#pragma unroll
	for (int k = 0; k < OFFCPU_SIG_FRAMES; k++) {
		if (!w->frame)
			return 1;
		buf = window_at(&d->win[0], w->frame, size, way);
		if (!buf)
			return 1;
		py_frame_fields(&w->off, buf, &code, &previous, &lasti, &is_entry, &owner);
		w->sig = offcpu_mix(offcpu_mix(offcpu_mix(w->sig, w->frame), code), (__u64)lasti);
		w->frame = previous;
	}
	return 0;
}

static long offcpu_py_sig_frame(__u32 i, void *arg)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);

	return !sc || offcpu_py_sig_step(&sc->walk) ? 1 : 0;
}

/* Whether thread chains @all (NULL: none) hold what a signature found for
 * the thread in process @pid under configuration @generation: its thread
 * key (CPython) and its thread state (CRuby: rb_thread_t). */
static __always_inline bool offcpu_chains_current(const struct offcpu_chains *all, __u32 pid,
						  __u32 generation)
{
	return all && all->key_generation == generation && all->pid == pid;
}

/* Keeps thread state @ts (0: none found) in chains @all, found under
 * configuration @generation (with the thread key, for CPython). */
static __always_inline void offcpu_chains_keep(struct offcpu_chains *all, __u32 generation,
					       __u64 ts)
{
	if (!all)
		return;
	all->key_generation = generation;
	all->tstate = ts;
}

/* The signature of CPython thread @tid (of process @pid, configured by
 * @cfg), whose chains are @all (NULL: none yet). */
static __always_inline __u64 offcpu_py_sig(const struct rt_walker_config *cfg, __u32 pid,
					   __u32 tid, struct offcpu_chains *all)
{
	const struct rt_walker_offsets *off = &cfg->off;
	struct deep_stack *d = deep_stack();
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	__u64 ts, frame = 0, key, hint = 0;
	struct walk *w;
	bool fault;

	if (!d || !sc)
		return 0;
	if (offcpu_chains_current(all, pid, cfg->generation) && all->key) {
		key = all->key;
		hint = all->tstate;
	} else {
		key = thread_key(off);
		if (all)
			all->key = key;
	}
	ts = find_tstate_frame(cfg, pid, tid, key, hint, &frame, &fault);
	offcpu_chains_keep(all, cfg->generation, ts);
	if (!ts || fault || !frame)
		return 0;
	/* the walk's state, which a walk after this sets up afresh */
	w = &sc->walk;
	w->off = *off;
	w->frame = frame;
	w->sig = 0;
	/* the walk's window, emptied: what it held is another sample's */
	d->win[0].len = 0;
	bpf_loop(RT_REC_MAX_DEPTH / OFFCPU_SIG_FRAMES, offcpu_py_sig_frame, NULL, 0);
	/* a frame left: unreadable, or deeper than a walk keeps */
	return w->frame ? 0 : w->sig | 1;
}

/* What offcpu_rb_sig_step needs: scalars only, as for a global function. */
struct offcpu_rb_sig {
	__u64 cfp, end, sig;
	__u32 cfp_size, cfp_pc, cfp_iseq, cfp_ep;
};

/* The next OFFCPU_SIG_FRAMES CRuby control frames of the signature: s->cfp
 * and, for a C frame, its environment (read through this CPU's two walk
 * windows) mixed into s->sig, s->cfp moved to the caller's, and so on.
 * Leaves s->cfp as it is when the frame cannot be read.  A global
 * function, as rb_walk_step. */
__noinline int offcpu_rb_sig_step(struct offcpu_rb_sig *s)
{
	struct deep_stack *d = deep_stack();
	const __u8 *cfp, *envp;
	__u64 pc, iseq, ep;

	if (!s || !d)
		return 1;
	/* OFFCPU_SIG_FRAMES control frames a call, as offcpu_py_sig_step */
#pragma unroll
	for (int k = 0; k < OFFCPU_SIG_FRAMES; k++) {
		if (s->cfp >= s->end)
			return 1;
		cfp = window_at(&d->win[0], s->cfp, RT_RUBY_CFP_READ, WINDOW_UP);
		if (!cfp)
			return 1;
		pc = *(__u64 *)(cfp + (s->cfp_pc & (RT_RUBY_CFP_MASK - 7)));
		iseq = *(__u64 *)(cfp + (s->cfp_iseq & (RT_RUBY_CFP_MASK - 7)));
		ep = *(__u64 *)(cfp + (s->cfp_ep & (RT_RUBY_CFP_MASK - 7)));
		if (!ep)
			return 1;
		s->sig = offcpu_mix(offcpu_mix(offcpu_mix(offcpu_mix(s->sig, s->cfp), pc), iseq), ep);
		if (!iseq) {
			/* a C frame: its method entry (ep[-2]) is what tells it
			 * from another, and the flags (ep[0]) its kind; 24 bytes
			 * alone, as few frames need them */
			envp = window_at(&d->win[1], ep - 16, 3 * 8, WINDOW_FRAME);
			if (!envp)
				return 1;
			s->sig = offcpu_mix(offcpu_mix(s->sig, *(const __u64 *)envp),
					    *(const __u64 *)(envp + 16));
		}
		s->cfp += s->cfp_size;
	}
	return 0;
}

static long offcpu_rb_sig_frame(__u32 i, void *arg)
{
	return offcpu_rb_sig_step(arg) ? 1 : 0;
}

/* The signature of CRuby thread @tid of @pid (configured by @cfg), whose
 * chains are @all (NULL: none yet). */
static __always_inline __u64 offcpu_rb_sig(const struct rt_ruby_walker_config *cfg, __u32 pid,
					   __u32 tid, struct offcpu_chains *all)
{
	const struct rt_layout_ruby *off = &cfg->off;
	struct deep_stack *d = deep_stack();
	__u32 zero = 0;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	struct offcpu_rb_sig s = {};
	__u64 th = 0;
	int err;

	if (!d || !sc || !off->cfp_size)
		return 0;
	/* its rb_thread_t as last found, kept as CPython's thread state is */
	if (offcpu_chains_current(all, pid, cfg->generation))
		th = all->tstate;
	err = rb_thread_cfps(cfg, pid, tid, &th, sc->words, &s.cfp, &s.end);
	offcpu_chains_keep(all, cfg->generation, th);
	if (err)
		return 0;
	s.cfp_size = off->cfp_size;
	s.cfp_pc = off->cfp_pc;
	s.cfp_iseq = off->cfp_iseq;
	s.cfp_ep = off->cfp_ep;
	if (!s.cfp || s.cfp >= s.end)
		return 0;
	/* the walk's windows, emptied: what they held is another sample's */
	d->win[0].len = 0;
	d->win[1].len = 0;
	bpf_loop(RB_MAX_CFPS / OFFCPU_SIG_FRAMES, offcpu_rb_sig_frame, &s, 0);
	return s.cfp < s.end ? 0 : s.sig | 1;
}

/* Chain @c is walked now, by the switch out @st of thread @tid (of @pid)
 * with stack signature @sig: its sum, which belongs to the stack walked
 * before, is set aside to go out ahead of this walk's stack record. */
static __always_inline void offcpu_chain_walked(struct offcpu_chain *c, __u32 pid, __u32 tid,
						__u32 slot, const struct offcpu_start *st,
						__u64 sig)
{
	__u32 zero = 0;
	struct rt_rec_offcpu_sum *pending = bpf_map_lookup_elem(&offcpu_pending, &zero);

	if (pending)
		offcpu_sum_take(pending, c, pid, tid, slot);
	c->sig = sig;
	c->flags = st->flags;
	c->state = st->state;
	c->syscall = st->syscall;
	c->walked = st->start;
}

/* The stack record flags for thread @tid of @pid, leaving as @st says.  A
 * slot is a native chain (the user instruction, stack and frame pointers
 * and the system call of a switch out with a perf sample) and the stack
 * signature @sig of its last walk.  A thread that leaves through a slot's
 * chain with its stack is summed: OFFCPU_SUMMED, st->sum set, no walk;
 * with its stack but for another reason, walked on that slot's sample:
 * RT_REC_STACK_SAME_CHAIN and the slot (perf's sample is not needed).
 * Anything else takes a free slot, or the one used least lately, with a
 * sample of its own: RT_REC_STACK_CHAIN_KEEP and the slot.  So a thread
 * that blocks at one place under callers that take turns sums under each,
 * and no stack borrows the native frames of another (the same registers
 * under another interpreter stack may have come through other native
 * frames). */
static __always_inline __u32 offcpu_chain_flags(__u32 pid, __u32 tid, struct offcpu_start *st,
						__u64 sig, const struct offcpu_regs *r,
						struct offcpu_chains *all)
{
	struct offcpu_chain *c;
	__u64 ip = r->ip, sp = r->sp, bp = r->bp;
	__u32 zero = 0, slot;
	int summed = -1, same = -1, oldest = 0;
	__u64 rank, least = ~0ull;
	bool free;

	if (!st->chain || !ip)
		return 0; /* preempted anywhere: a fresh chain, not remembered */
	if (!all) {
		struct offcpu_chains *zeroed = bpf_map_lookup_elem(&offcpu_chains_zero, &zero);

		if (!zeroed)
			return 0;
		if (bpf_map_update_elem(&offcpu_chains, &tid, zeroed, BPF_NOEXIST) == -7 /* E2BIG */)
			return OFFCPU_FULL; /* a fresh chain this time; rt_offcpu makes room */
		all = bpf_map_lookup_elem(&offcpu_chains, &tid);
		if (!all)
			return 0;
	}
	all->pid = pid;
	/* a slot with this chain and this stack sums, or lends its sample when
	 * the reason differs; else a free slot, or the one used least lately,
	 * takes a sample of its own.  A slot whose chain was lent
	 * OFFCPU_SAME_CHAIN_MAX times is free: its chain is due for a fresh
	 * sample. */
	for (slot = 0; slot < RT_REC_STACK_CHAIN_SLOTS; slot++) {
		c = &all->c[slot];
		free = !c->ip || c->reused >= OFFCPU_SAME_CHAIN_MAX;
		rank = free ? 0 : c->used + 1;
		if (rank < least) {
			least = rank;
			oldest = slot;
		}
		if (free || c->ip != ip || c->sp != sp || c->bp != bp || c->key != st->chain ||
		    !sig || c->sig != sig)
			continue;
		if (c->flags == st->flags && c->state == st->state) {
			summed = slot;
			break;
		}
		if (same < 0)
			same = slot;
	}
	if (summed >= 0 || same >= 0) {
		slot = (summed >= 0 ? summed : same) & (RT_REC_STACK_CHAIN_SLOTS - 1);
		c = &all->c[slot];
		c->reused++;
		c->used = st->start;
		offcpu_count(RT_OFFCPU_STAT_SAME_CHAIN, 1);
		if (summed >= 0) {
			st->sum = slot + 1;
			return OFFCPU_SUMMED;
		}
		offcpu_chain_walked(c, pid, tid, slot, st, sig);
		return RT_REC_STACK_SAME_CHAIN | slot << RT_REC_STACK_CHAIN_SHIFT;
	}
	/* a new chain, or this chain with another stack: the same registers
	 * under another interpreter stack may have come through other native
	 * frames (os.read and a file's read both sleep in read() from
	 * _Py_read, at the same stack pointer) */
	slot = (__u32)oldest & (RT_REC_STACK_CHAIN_SLOTS - 1);
	c = &all->c[slot];
	offcpu_chain_walked(c, pid, tid, slot, st, sig);
	c->ip = ip;
	c->sp = sp;
	c->bp = bp;
	c->key = st->chain;
	c->reused = 0;
	c->used = st->start;
	return RT_REC_STACK_CHAIN_KEEP | slot << RT_REC_STACK_CHAIN_SHIFT;
}

/* Thread @tid leaves the CPU @now with its previous interval @st still
 * open: the switch in that ended it ran no program (a switch from a task
 * whose sched_switch fires no event, or one the kernel's recursion guard
 * skipped).  The interval ended as the thread's current run on the CPU
 * began: @now less that run's CPU time (the scheduler's
 * sum_exec_runtime, minus its value when the thread was picked).  A
 * summed interval goes to its sum (written with a later one); any other
 * waits in offcpu_late for rt_offcpu.  Returns OFFCPU_LATE or 0. */
static __always_inline __u32 offcpu_unseen(const struct offcpu_start *st, __u32 tid, __u64 now,
					   struct offcpu_chains *all)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 ran = task->se.sum_exec_runtime - task->se.prev_sum_exec_runtime, end = now - ran;
	struct rt_rec_offcpu *rec;
	__u32 zero = 0;

	if (ran > now - st->start)
		end = st->start;
	offcpu_count(RT_OFFCPU_STAT_UNSEEN, 1);
	if (st->sum) {
		offcpu_sum_count(all, st, end);
		return 0;
	}
	rec = bpf_map_lookup_elem(&offcpu_late, &zero);
	if (!rec)
		return 0;
	offcpu_fill(rec, tid, st, end);
	rec->flags |= RT_REC_OFFCPU_END_RUN;
	return OFFCPU_LATE;
}

/* Writes the interval offcpu_leave ended (offcpu_unseen).  Out of line,
 * as offcpu_pending_write. */
static __noinline void offcpu_late_write(void *ctx)
{
	__u32 zero = 0;
	struct rt_rec_offcpu *rec = bpf_map_lookup_elem(&offcpu_late, &zero);

	if (rec)
		offcpu_output(ctx, rec);
}

/* Thread @tid leaves the CPU @now for the last time: its sums go out, its
 * chains go (a later thread with its tid starts afresh).  An interval
 * still open (its switch in ran no program, offcpu_unseen) ends where the
 * thread's last run began, as at any other switch out. */
static __noinline void offcpu_exit(void *ctx, __u32 tid, __u64 now)
{
	struct offcpu_chains *all = bpf_map_lookup_elem(&offcpu_chains, &tid);
	struct offcpu_open o;
	struct offcpu_start *st = offcpu_open_find(tid, &o);

	if (st) {
		if (offcpu_unseen(st, tid, now, all))
			offcpu_late_write(ctx);
		offcpu_open_release(tid, &o);
	}
	if (!all)
		return;
	offcpu_sums_flush(ctx, all, tid);
	bpf_map_delete_elem(&offcpu_chains, &tid);
}

/*
 * Notes that the thread @id (bpf_get_current_pid_tgid) leaves the CPU @now
 * in sched_switch state @state, if its process is walked.  Returns 0 for a
 * thread that is not walked; else OFFCPU_WALKED with its stack record's
 * chain flags, or with OFFCPU_SUMMED when its interval goes to a sum and it
 * is not walked.  The one look-up of the thread's process on the path of
 * a summed switch (the walk looks it up again).  A global function: the
 * verifier checks it once, apart, and the program sees its answer as any
 * number, so the walk after it is not checked once per answer.
 */
__noinline __u32 offcpu_leave(__u64 id, __u64 now, long state)
{
	__u32 pid = id >> 32, tid = (__u32)id;
	__u32 zero = 0, flags;
	const struct rt_walker_config *py = bpf_map_lookup_elem(&pids, &pid);
	const struct rt_ruby_walker_config *rb = NULL;
	struct offcpu_start st = {};
	struct offcpu_regs r = {};
	struct offcpu_chains *all = NULL;
	struct offcpu_start *open;
	struct offcpu_open o;
	struct offcpu_slot *slot;
	struct pt_regs *regs;
	__s64 *spilled;
	__u64 sig = 0;
	__u32 late = 0;

	if (!py) {
		rb = bpf_map_lookup_elem(&rb_pids, &pid);
		if (!rb)
			return 0;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (regs) {
		r.ip = regs->ip;
		r.sp = regs->sp;
		r.bp = regs->bp;
		r.orig_ax = regs->orig_ax;
		r.ax = regs->ax;
		r.di = regs->di;
	}
	st.start = now;
	st.pid = pid;
	offcpu_reason(&st, state, pid, tid, py, rb, &r);
	offcpu_count(RT_OFFCPU_STAT_SWITCHES, 1);
	open = offcpu_open_find(tid, &o);
	slot = o.slot;
	if (!slot)
		return OFFCPU_WALKED;
	if (st.chain || open)
		all = bpf_map_lookup_elem(&offcpu_chains, &tid);
	if (open) {
		late = offcpu_unseen(open, tid, now, all);
		offcpu_open_release(tid, &o);
	}
	if (py && st.chain)
		sig = offcpu_py_sig(py, pid, tid, all);
	else if (rb && st.chain)
		sig = offcpu_rb_sig(rb, pid, tid, all);
	flags = offcpu_chain_flags(pid, tid, &st, sig, &r, all);
	if (!slot->tid || slot->tid == tid) {
		slot->st = st;
		slot->tid = tid;
		return flags | OFFCPU_WALKED | late;
	}
	spilled = bpf_map_lookup_elem(&offcpu_spilled, &zero);
	if (spilled && !bpf_map_update_elem(&offcpu_starts, &tid, &st, BPF_NOEXIST))
		__sync_fetch_and_add(spilled, 1);
	else if (st.sum)
		return OFFCPU_WALKED | late; /* not noted: walked after all (no chain flags: no sum follows) */
	return flags | OFFCPU_WALKED | late;
}

/* The current thread's switch out with stack record flags @flags (its
 * chain slot) wrote no stack record (perf's events not enabled yet, a full
 * buffer, no thread state): the chain's walk is forgotten, so that no
 * later switch sums on a stack or reuses a sample the file lacks. */
static __noinline void offcpu_forget(__u32 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct offcpu_chains *all;
	struct offcpu_chain *c;

	if (!(flags & (RT_REC_STACK_SAME_CHAIN | RT_REC_STACK_CHAIN_KEEP)))
		return;
	all = bpf_map_lookup_elem(&offcpu_chains, &tid);
	if (!all)
		return;
	c = &all->c[RT_REC_STACK_CHAIN_SLOT(flags) & (RT_REC_STACK_CHAIN_SLOTS - 1)];
	c->sig = 0;
	c->ip = 0;
}

/* Loaded only for --off-cpu ("?": not by default).  The common case, a
 * switch between threads that are not walked, costs an array lookup and a
 * hash lookup (two for a process that is not Python); a summed one, the
 * process's and the thread's chains' lookups, the registers and the
 * signature's reads (offcpu_leave), and no second process lookup. */
SEC("?tracepoint")
int rt_offcpu(void *ctx)
{
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	__u32 next = (__u32)*(__s32 *)((char *)ctx + OFFCPU_NEXT_PID);
	long state = *(long *)((char *)ctx + OFFCPU_PREV_STATE);
	const struct rt_walker_config *cfg;
	const struct rt_ruby_walker_config *ruby = NULL;
	__u32 flags = RT_REC_STACK_OFFCPU, chain;
	int ret;

	if (next)
		offcpu_end(ctx, next, now);
	if (!pid)
		return 0; /* the idle task */
	if (state & OFFCPU_STATE_EXITING) {
		offcpu_exit(ctx, tid, now); /* a thread that was walked has chains */
		return 0; /* its last switch: no interval follows */
	}
	chain = offcpu_leave(id, now, state);
	if (chain & OFFCPU_LATE)
		offcpu_late_write(ctx);
	if (!(chain & OFFCPU_WALKED))
		return 0; /* not walked: perf drops its sample */
	if (chain & OFFCPU_FULL)
		offcpu_evict(ctx);
	if (chain & OFFCPU_SUMMED)
		return 0; /* the same stack as the chain's last walk: summed */
	cfg = bpf_map_lookup_elem(&pids, &pid);
	if (!cfg) {
		ruby = bpf_map_lookup_elem(&rb_pids, &pid);
		if (!ruby)
			return 0; /* gone since offcpu_leave */
	}
	/* the sum this walk replaces goes out first */
	offcpu_pending_write(ctx);
	flags |= chain & (RT_REC_STACK_SAME_CHAIN | RT_REC_STACK_CHAIN_MASK | RT_REC_STACK_CHAIN_KEEP);
	if (cfg) {
		ret = py_walker_sample(ctx, cfg, pid, tid, flags);
	} else {
		ret = rb_walker_sample(ctx, ruby, pid, tid);
		if (!ret)
			ret = rb_finish_sample(ctx, ruby, pid, tid, flags);
	}
	/* perf writes its sample, the native callchain, unless the stack
	 * record went out and says the chain is a remembered one.  Computed
	 * without a branch on @flags: a branch would make the verifier tell
	 * apart every value of it through the whole walk above (precision),
	 * and go through the walk once per value. */
	if (ret) {
		offcpu_forget(flags);
		return 1;
	}
	return (int)(((flags / RT_REC_STACK_SAME_CHAIN) & 1) ^ 1);
}

/* bpf_for_each_map_elem callback: writes the sums of one thread's chains;
 * @arg points to the program's context. */
static long offcpu_flush_thread(struct bpf_map *map, __u32 *tid, struct offcpu_chains *all,
				void *arg)
{
	offcpu_sums_flush(*(void **)arg, all, *tid);
	return 0;
}

/* Writes every sum still held, at the end of a recording: rt-bpf runs it
 * (BPF_PROG_TEST_RUN, on its own CPU) once the off-CPU program is
 * unlinked and before perf stops.  A raw tracepoint program because that
 * type can be run so and write to a perf event array on every kernel
 * rt-bpf supports; it is never attached. */
SEC("?raw_tp")
int rt_offcpu_flush(void *ctx)
{
	bpf_for_each_map_elem(&offcpu_chains, offcpu_flush_thread, &ctx, 0);
	return 0;
}

#endif
