/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Finding a CPython thread's PyThreadState and current frame from BPF, for
 * every program that walks Python stacks (walker.bpf.c, async.bpf.c).  The
 * includer provides vmlinux.h, bpf_helpers.h, bpf_core_read.h and walker.h.
 */
#ifndef RT_BPF_PY_TSTATE_BPF_H
#define RT_BPF_PY_TSTATE_BPF_H

#define MAX_THREADS 128 /* PyThreadState list entries searched for a thread's tid */

/* Hides a value's history from the compiler so that the bound check that
 * follows is emitted where the verifier needs it. */
#define bound_barrier(v) asm volatile("" : "+r"(v))

/* @v & @mask, the mask kept: the compiler drops a mask it can prove
 * redundant from a compare on another copy of @v, which 6.1's verifier
 * does not connect to this one. */
static __always_inline __u64 masked(__u64 v, __u64 mask)
{
	bound_barrier(v);
	return v & mask;
}

static __always_inline int read_ptr(__u64 *dst, __u64 addr)
{
	return bpf_probe_read_user(dst, sizeof(*dst), (const void *)addr);
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct rt_walker_tstate);
} tstates SEC(".maps");

/*
 * The fields of one CPython frame that the walkers use, from @buf, which
 * holds the frame's first off->frame_read bytes (read in one piece: the
 * helper call, not the bytes, is the cost): its code object (3.14+: the
 * _PyStackRef's tag bits cleared), the previous frame, the instruction
 * index, and the entry and owner bytes (0 where the version has none).
 */
static __always_inline void py_frame_fields(const struct rt_walker_offsets *off, const __u8 *buf,
					    __u64 *code, __u64 *previous, __s64 *lasti,
					    __u8 *is_entry, __u8 *owner)
{
	*code = *(__u64 *)(buf + (off->frame_code & RT_WALKER_FRAME_OFF_MASK));
	*code &= ~(__u64)off->frame_code_tag;
	*previous = *(__u64 *)(buf + (off->frame_previous & RT_WALKER_FRAME_OFF_MASK));
	if (off->frame_instr_ptr != RT_WALKER_NONE) {
		__u64 instr = *(__u64 *)(buf + (off->frame_instr_ptr & RT_WALKER_FRAME_OFF_MASK));

		*lasti = (__s64)instr - (__s64)(*code + off->code_code_adaptive);
		/* arithmetic shift: BPF has no signed division; the loader only
		 * accepts 1- or 2-byte code units */
		if (off->code_unit_size == 2)
			*lasti >>= 1;
	} else {
		*lasti = *(__s32 *)(buf + (off->frame_lasti & RT_WALKER_FRAME_OFF_MASK));
	}
	*is_entry = off->frame_is_entry != RT_WALKER_NONE ?
			    buf[off->frame_is_entry & RT_WALKER_FRAME_OFF_MASK] : 0;
	*owner = off->frame_owner != RT_WALKER_NONE ? buf[off->frame_owner & RT_WALKER_FRAME_OFF_MASK] : 0;
}

/* The sampled thread's current frame pointer behind thread state @ts. */
static __always_inline int current_frame(const struct rt_walker_offsets *off, __u64 ts, __u64 *frame)
{
	__u64 p = 0;

	*frame = 0;
	if (read_ptr(&p, ts + off->tstate_frame))
		return -14;
	if (off->cframe_current_frame == RT_WALKER_NONE) {
		*frame = p;
		return 0;
	}
	if (p && read_ptr(frame, p + off->cframe_current_frame))
		return -14;
	return 0;
}

/* The sampled thread's tid as its own process sees it: gettid() in the
 * innermost PID namespace, the number CPython stores as native_thread_id.
 * bpf_get_current_pid_tgid() gives the host's number, which differs for a
 * process in a container.  0 when the kernel's struct pid cannot be read. */
static __always_inline __u32 namespace_tid(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	int nr = 0;

	if (bpf_probe_read_kernel(&nr, sizeof(nr), &pid->numbers[level].nr))
		return 0;
	return (__u32)nr;
}

/* What identifies the sampled thread in a PyThreadState: its tid in its
 * PID namespace (3.11+) or its pthread_self(), which on x86_64 glibc is the
 * thread pointer the kernel keeps as fsbase. */
static __always_inline __u64 thread_key(const struct rt_walker_offsets *off)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!off->tstate_id_pthread)
		return namespace_tid(task);
	return BPF_CORE_READ(task, thread.fsbase);
}

/* The search of a process's thread list for the sampled thread: what
 * tstate_step needs and finds. */
struct tstate_search {
	const struct rt_walker_offsets *off;
	__u64 ts;       /* the entry looked at next */
	__u64 key;      /* thread_key() */
	__u64 found;    /* the sampled thread's entry with frames */
	__u64 fallback; /* its entry without frames */
};

/* bpf_loop callback: looks at one entry of the thread list.  A callback is
 * verified once where the bounded loop it replaces was verified once per
 * step (a sixth of the instructions the verifier went through for the
 * walker). */
static long tstate_step(__u32 i, void *arg)
{
	struct tstate_search *s = arg;
	__u64 id = 0, ts = s->ts, frame = 0;

	if (!ts || read_ptr(&id, ts + s->off->tstate_id))
		return 1;
	if (id == s->key) {
		/* A thread state made for a thread that has not started yet
		 * still carries its creator's tid: prefer one with frames. */
		if (!current_frame(s->off, ts, &frame) && frame) {
			s->found = ts;
			return 1;
		}
		if (!s->fallback)
			s->fallback = ts;
	}
	if (read_ptr(&s->ts, ts + s->off->tstate_next))
		return 1;
	return 0;
}

/* The PyThreadState of thread @tid of @pid (configured by @cfg), whose
 * thread_key() is @key (a caller that has it at hand saves reading it). */
static __always_inline __u64 find_tstate_key(const struct rt_walker_config *cfg, __u32 pid,
					     __u32 tid, __u64 key)
{
	const struct rt_walker_offsets *off = &cfg->off;
	struct rt_walker_tstate *cached = bpf_map_lookup_elem(&tstates, &tid);
	struct rt_walker_tstate fresh = {};
	struct tstate_search s = { .off = off, .key = key };
	__u64 ts = 0, interp = 0, id = 0;

	if (!s.key)
		return 0;
	/* A cached PyThreadState is trusted only while it still names this
	 * thread: thread states are freed and reused as threads come and go. */
	if (cached && cached->pid == pid && cached->generation == cfg->generation) {
		ts = cached->tstate;
		if (!read_ptr(&id, ts + off->tstate_id) && id == s.key)
			return ts;
	}
	if (read_ptr(&interp, cfg->runtime_addr + off->runtime_interpreters_head) || !interp ||
	    read_ptr(&s.ts, interp + off->interp_threads_head))
		return 0;
	bpf_loop(MAX_THREADS, tstate_step, &s, 0);
	if (!s.found)
		return s.fallback;
	fresh.tstate = s.found;
	fresh.pid = pid;
	fresh.generation = cfg->generation;
	bpf_map_update_elem(&tstates, &tid, &fresh, BPF_ANY);
	return s.found;
}

static __always_inline __u64 find_tstate(const struct rt_walker_config *cfg, __u32 pid, __u32 tid)
{
	return find_tstate_key(cfg, pid, tid, thread_key(&cfg->off));
}

/* A PyThreadState's id and its frame (or cframe) pointer lie within
 * TSTATE_SPAN bytes in every version (layouts/gen/cpython.c: 232 at most,
 * 3.15's native_thread_id at 224 and its frame pointer at 208), so one read
 * gets both: a helper call costs more than the bytes (about 100 ns a call
 * on the test machines). */
#define TSTATE_SPAN 256

struct tstate_span_buf {
	__u8 b[2 * TSTATE_SPAN]; /* any masked size, any masked offset plus 8 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tstate_span_buf);
} tstate_span SEC(".maps");

/* Reads the words at @base + @a and @base + @b, which lie within
 * TSTATE_SPAN bytes of each other, in one helper call: into *@wa and *@wb,
 * and 0; -1 when they cannot be read. */
static __always_inline int read_two_words(__u64 base, __u64 a, __u64 b, __u64 *wa, __u64 *wb)
{
	__u64 lo = a < b ? a : b, len = (a < b ? b : a) + 8 - lo;
	__u32 zero = 0;
	struct tstate_span_buf *buf = bpf_map_lookup_elem(&tstate_span, &zero);

	if (!buf || len > TSTATE_SPAN ||
	    bpf_probe_read_user(buf->b, masked(len, 2 * TSTATE_SPAN - 1), (const void *)(base + lo)))
		return -1;
	*wa = *(__u64 *)(buf->b + masked(a - lo, TSTATE_SPAN - 1));
	*wb = *(__u64 *)(buf->b + masked(b - lo, TSTATE_SPAN - 1));
	return 0;
}

/* Whether thread state @ts still names the thread whose thread_key() is
 * @key, its id and frame pointer read at once; then its current frame in
 * *@frame (0: none) and 0, or -14 when the cframe cannot be read.  1 when
 * @ts does not name the thread (or cannot be read): search for it. */
static __always_inline int tstate_still(const struct rt_walker_offsets *off, __u64 ts, __u64 key,
					__u64 *frame)
{
	__u64 id, p;

	*frame = 0;
	if (read_two_words(ts, off->tstate_id, off->tstate_frame, &id, &p) || id != key)
		return 1;
	if (off->cframe_current_frame == RT_WALKER_NONE) {
		*frame = p;
		return 0;
	}
	if (p && read_ptr(frame, p + off->cframe_current_frame))
		return -14;
	return 0;
}

/* find_tstate_key and current_frame at once: thread @tid's PyThreadState
 * and its current frame in *@frame (0: none).  @hint is the thread state
 * the caller keeps for the thread (0: the tstates map's).  *@fault is set
 * when the thread state was found but its frame could not be read. */
static __always_inline __u64 find_tstate_frame(const struct rt_walker_config *cfg, __u32 pid,
					       __u32 tid, __u64 key, __u64 hint, __u64 *frame,
					       bool *fault)
{
	const struct rt_walker_offsets *off = &cfg->off;
	struct rt_walker_tstate *cached;
	__u64 ts = hint;
	int err;

	*fault = false;
	if (!key)
		return 0;
	if (!ts) {
		cached = bpf_map_lookup_elem(&tstates, &tid);
		if (cached && cached->pid == pid && cached->generation == cfg->generation)
			ts = cached->tstate;
	}
	if (ts) {
		err = tstate_still(off, ts, key, frame);
		if (err <= 0) {
			*fault = err < 0;
			return ts;
		}
	}
	ts = find_tstate_key(cfg, pid, tid, key);
	if (ts && current_frame(off, ts, frame))
		*fault = true;
	return ts;
}

#endif
