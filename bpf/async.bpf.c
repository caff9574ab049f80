/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which asyncio task runs on each thread, for how long, and what waited
 * behind it (rt-bpf async, docs/async.md).  Uprobes on the C accelerator's
 * two step entry points (TaskStepMethWrapper's call and task_wakeup) mark
 * the start and the end of every task step; a step longer than the
 * threshold is sent to user space with the Python stack it was in, taken
 * at the end of its longest system call or by a CPU-time sampler while it
 * ran.  A uretprobe on the heap pop with which the event loop takes its due
 * timers tells how late each timer ran: a timer due while a blocking step
 * held the thread is a callback that waited behind it (the cascade), and
 * the task that timer wakes gets its scheduling delay.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/async.h"
#include "bpf/record.h"
#include "bpf/walker.h"
#include "bpf/maps.bpf.h"
#include "bpf/py_tstate.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u64 threshold_ns = 10000000;
const volatile struct rt_async_offsets aoff = {};
/* rt-bpf record --tasks: each step's begin and end goes into perf's
 * bpf-output channel as task records (bpf/record.h), and nothing else is
 * kept: no statistics, no blocking steps, no events. */
const volatile __u32 task_records = 0;
/* RT_REC_TASK_ASYNCIO or RT_REC_TASK_TOKIO */
const volatile __u32 task_kind = RT_REC_TASK_ASYNCIO;
/* A blocking step's stack is its thread's native stack (tokio), not the
 * Python frames */
const volatile __u32 native_stacks = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* tgid */
	__type(value, struct rt_walker_config);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct rt_async_step);
} steps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rt_async_task_key);
	__type(value, struct rt_async_task_stats);
} tasks SEC(".maps");

/* When the timer that wakes a task was due (key: the task). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rt_async_task_key);
	__type(value, __u64);
} wakes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct rt_async_block);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* perf's bpf-output channel, one per CPU: the walker's map, shared by
 * rt-bpf record --tasks (bpf_map__reuse_fd) */
RT_BPF_CHANNEL_MAP;

/* Tasks whose name record was written: the name's identity (asyncio: the
 * name object; tokio: the future type + 1), to write it again for a new
 * task at a finished one's address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rt_async_task_key);
	__type(value, __u64);
} named SEC(".maps");

/* tokio's future type names by poll function index, filled by user space */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized by the loader */
	__type(key, __u32);
	__type(value, struct rt_async_kind_name);
} kind_names SEC(".maps");

RT_BPF_STATS(RT_ASYNC_STAT_MAX)

/* A zeroed step to create a thread's entry from (too large for the stack),
 * and the bytes of one frame as the walk reads them. */
struct scratch {
	struct rt_async_step zero;
	struct rt_rec_task_name name;
	__u8 frame_buf[2 * RT_WALKER_FRAME_READ]; /* masked offsets plus a field read past the frame */
};

RT_BPF_SCRATCH(struct scratch, 1);

struct walk {
	struct rt_walker_offsets off;
	__u64 frame;
	__u32 tid;
	__u32 flags;
};

/* One frame of the current thread's chain into its step's frames[@i]; the
 * same frame reading as the sampling walker (walker.bpf.c), without the
 * code records: user space reads the code objects' names itself, while the
 * process lives (rtbpf/async.c). */
static long walk_frame(__u32 i, void *arg)
{
	struct walk *w = arg;
	__u32 zero = 0, flags = 0;
	__u64 idx = i, size, code, previous, type = 0;
	struct scratch *sc;
	struct rt_async_step *s;
	__u8 is_entry = 0, owner = 0;
	__s64 lasti;

	bound_barrier(idx);
	if (!w->frame)
		return 1;
	if (idx >= RT_ASYNC_MAX_FRAMES) {
		w->flags |= RT_REC_STACK_TRUNCATED;
		return 1;
	}
	sc = bpf_map_lookup_elem(&scratch, &zero);
	s = bpf_map_lookup_elem(&steps, &w->tid);
	if (!sc || !s)
		return 1;
	size = w->off.frame_read;
	bound_barrier(size);
	if (size > RT_WALKER_FRAME_READ || size < 8)
		return 1;
	if (bpf_probe_read_user(sc->frame_buf, size, (const void *)w->frame)) {
		w->flags |= RT_REC_STACK_READ_FAULT;
		return 1;
	}
	py_frame_fields(&w->off, sc->frame_buf, &code, &previous, &lasti, &is_entry, &owner);
	if (is_entry)
		flags |= RT_REC_FRAME_ENTRY;
	if (!code) {
		w->flags |= RT_REC_STACK_READ_FAULT;
		return 1;
	}
	if (w->off.frame_owner != RT_WALKER_NONE && owner >= w->off.frame_owner_cstack) {
		flags |= RT_REC_FRAME_SHIM;
		code = 0;
		lasti = 0;
	} else if (w->off.code_type &&
		   (read_ptr(&type, code + w->off.object_type) || type != w->off.code_type)) {
		flags |= RT_REC_FRAME_SHIM;
		code = 0;
		lasti = 0;
	} else if (w->off.frame_owner != RT_WALKER_NONE && owner == w->off.frame_owner_generator) {
		flags |= RT_REC_FRAME_GENERATOR;
	}
	bound_barrier(idx);
	if (idx >= RT_ASYNC_MAX_FRAMES)
		return 1;
	s->frames[idx].code = code;
	s->frames[idx].lasti = (__u32)lasti;
	s->frames[idx].flags = flags;
	s->nr_frames = idx + 1;
	w->frame = previous;
	return 0;
}

/* Walks the current thread's Python stack into its step @s, taken because
 * of @source.  Out of line: the walk's locals stay out of its callers'
 * frames. */
static __noinline int walk_stack(__u32 pid, __u32 tid, __u32 source)
{
	const struct rt_walker_config *cfg = bpf_map_lookup_elem(&pids, &pid);
	struct rt_async_step *s;
	struct walk w = {};
	__u64 ts;

	if (!cfg)
		return 0;
	count(RT_ASYNC_STAT_WALKS);
	ts = find_tstate(cfg, pid, tid);
	if (!ts) {
		count(RT_ASYNC_STAT_NO_TSTATE);
		return 0;
	}
	w.off = cfg->off;
	w.tid = tid;
	if (current_frame(&cfg->off, ts, &w.frame))
		w.flags |= RT_REC_STACK_READ_FAULT;
	s = bpf_map_lookup_elem(&steps, &tid);
	if (!s)
		return 0;
	s->nr_frames = 0;
	s->walking = 1;
	if (w.frame)
		bpf_loop(RT_ASYNC_MAX_FRAMES + 1, walk_frame, &w, 0);
	if (w.flags & RT_REC_STACK_READ_FAULT)
		count(RT_ASYNC_STAT_WALK_FAULTS);
	s = bpf_map_lookup_elem(&steps, &tid);
	if (s) {
		s->stack_flags = w.flags;
		s->stack_source = source;
		s->walking = 0;
	}
	return 0;
}

/* Sends the current thread's native stack for the step that began at
 * @start_ns (its user registers and a copy of its stack from the stack
 * pointer up), taken because of @source; 0 when sent.  The copy goes page
 * by page and stops before the first page that cannot be read: the top of
 * a thread's stack is the end of its mapping. */
static __noinline int copy_native_stack(__u32 pid, __u32 tid, __u32 source, __u64 start_ns)
{
	struct task_struct *current = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(current);
	struct return_instance *ri;
	struct rt_async_ustack *e;
	__u64 sp, off = 0, len;

	if (!regs)
		return -1;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(RT_ASYNC_STAT_EVENTS_LOST);
		return -1;
	}
	sp = BPF_CORE_READ(regs, sp);
	e->type = RT_ASYNC_EVENT_USTACK;
	e->pid = pid;
	e->tid = tid;
	e->source = source;
	e->start_ns = start_ns;
	e->regs[RT_ASYNC_UREG_BX] = BPF_CORE_READ(regs, bx);
	e->regs[RT_ASYNC_UREG_BP] = BPF_CORE_READ(regs, bp);
	e->regs[RT_ASYNC_UREG_SP] = sp;
	e->regs[RT_ASYNC_UREG_IP] = BPF_CORE_READ(regs, ip);
	e->regs[RT_ASYNC_UREG_R12] = BPF_CORE_READ(regs, r12);
	e->regs[RT_ASYNC_UREG_R13] = BPF_CORE_READ(regs, r13);
	e->regs[RT_ASYNC_UREG_R14] = BPF_CORE_READ(regs, r14);
	e->regs[RT_ASYNC_UREG_R15] = BPF_CORE_READ(regs, r15);
	/* the return addresses the kernel's uretprobes hold for this thread:
	 * its stack has their trampoline instead */
	ri = BPF_CORE_READ(current, utask, return_instances);
	e->nr_returns = 0;
	for (int i = 0; i < RT_ASYNC_MAX_RETURNS && ri; i++) {
		e->ret_stack[i] = BPF_CORE_READ(ri, stack);
		e->ret_addr[i] = BPF_CORE_READ(ri, orig_ret_vaddr);
		e->nr_returns = i + 1;
		ri = BPF_CORE_READ(ri, next);
	}
	for (int i = 0; i < RT_ASYNC_USTACK_MAX / 4096 + 1; i++) {
		if (off >= RT_ASYNC_USTACK_MAX)
			break;
		len = 4096 - ((sp + off) & 4095);
		bound_barrier(off);
		off &= RT_ASYNC_USTACK_MAX - 1;
		if (bpf_probe_read_user(e->data + off, len, (const void *)(sp + off)))
			break;
		off += len;
	}
	e->size = off < RT_ASYNC_USTACK_MAX ? (__u32)off : RT_ASYNC_USTACK_MAX;
	count(RT_ASYNC_STAT_USTACKS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The stack of step @s, running on the current thread, taken because of
 * @source: its Python frames (kept in @s), or its native stack (sent at
 * once; @s notes where it came from once it is sent). */
static __always_inline void take_stack(__u32 pid, __u32 tid, struct rt_async_step *s, __u32 source)
{
	if (!native_stacks) {
		walk_stack(pid, tid, source);
		return;
	}
	if (!copy_native_stack(pid, tid, source, s->start_ns))
		s->stack_source = source;
}

/* Writes @size bytes at @rec into perf's channel of the current CPU. */
static __always_inline void task_output(void *ctx, void *rec, __u64 size)
{
	long err = bpf_perf_event_output(ctx, &channel, BPF_F_CURRENT_CPU, rec, size);

	/* -ENOSPC: perf's buffer was full; else its channel is gone (the
	 * recording's start or end) */
	count(!err ? RT_ASYNC_STAT_TASK_RECORDS : err == -28 /* ENOSPC */ ? RT_ASYNC_STAT_TASK_LOST :
							  RT_ASYNC_STAT_TASK_UNWRITTEN);
}

/* The str object at @obj into @buf when it is a compact ASCII string (task
 * names and qualified names are); else @buf stays empty. */
static __always_inline void read_ascii(const struct rt_walker_offsets *off, __u64 obj, char *buf,
				       __u32 size)
{
	__u32 state = 0;
	__s64 length = 0;
	__u64 n;

	if (!obj || bpf_probe_read_user(&state, sizeof(state), (const void *)(obj + off->unicode_state)) ||
	    bpf_probe_read_user(&length, sizeof(length), (const void *)(obj + off->unicode_length)))
		return;
	if (!((state >> 5) & 1) || !((state >> 6) & 1) || length <= 0)
		return;
	n = (__u64)length < size - 1 ? (__u64)length : size - 1;
	bound_barrier(n);
	if (n >= size)
		return;
	bpf_probe_read_user(buf, n, (const void *)(obj + off->unicode_ascii_data));
}

/* The first four bytes of @obj's type's name ("str", "int"), 0 unread. */
static __always_inline __u32 type_tag(__u64 obj)
{
	__u64 type = 0, name = 0;
	__u32 tag = 0;

	if (!obj || read_ptr(&type, obj + 8) || read_ptr(&name, type + aoff.type_name) ||
	    bpf_probe_read_user(&tag, sizeof(tag), (const void *)name))
		return 0;
	return tag;
}

#define TAG_STR 0x00727473u /* "str\0" little-endian */
#define TAG_INT 0x00746e69u /* "int\0" */

/* Fills @r with asyncio task @task's name: its name object (a str, or
 * 3.12+'s counter until asked) and its coroutine's __qualname__. */
static __always_inline void asyncio_name(__u32 pid, __u64 task, __u64 name,
					 struct rt_rec_task_name *r)
{
	const struct rt_walker_config *cfg = bpf_map_lookup_elem(&pids, &pid);
	__u64 coro = 0, qualname = 0;
	__u32 tag = type_tag(name), digit = 0;

	if (!cfg)
		return;
	if (tag == TAG_STR)
		read_ascii(&cfg->off, name, r->label, sizeof(r->label));
	else if (tag == TAG_INT &&
		 !bpf_probe_read_user(&digit, sizeof(digit), (const void *)(name + aoff.long_digit)))
		r->number = digit & 0x3fffffff;
	if (!read_ptr(&coro, task + aoff.task_coro) && coro &&
	    !read_ptr(&qualname, coro + aoff.coro_qualname) && type_tag(qualname) == TAG_STR)
		read_ascii(&cfg->off, qualname, r->coro, sizeof(r->coro));
}

/* Writes task @task's name record unless the one written last for its
 * address is still its name (asyncio: the same name object; tokio: the
 * same future type, @kind). */
static __always_inline void task_name_record(void *ctx, __u32 pid, __u64 task, __u32 kind)
{
	struct rt_async_task_key key = { .pid = pid, .task = task };
	__u64 ident = (__u64)kind + 1, *seen;
	struct rt_async_kind_name *kn;
	struct rt_rec_task_name *r;
	struct scratch *sc;
	__u32 zero = 0;

	if (task_kind == RT_REC_TASK_ASYNCIO && read_ptr(&ident, task + aoff.task_name))
		ident = 0;
	seen = bpf_map_lookup_elem(&named, &key);
	if (seen && *seen == ident)
		return;
	bpf_map_update_elem(&named, &key, &ident, BPF_ANY);
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return;
	r = &sc->name;
	__builtin_memset(r, 0, sizeof(*r));
	r->hdr.magic = RT_REC_MAGIC;
	r->hdr.version = RT_REC_VERSION;
	r->hdr.type = RT_REC_TASK_NAME;
	r->hdr.size = sizeof(*r);
	r->pid = pid;
	r->kind = task_kind;
	r->task = task;
	if (task_kind == RT_REC_TASK_ASYNCIO) {
		asyncio_name(pid, task, ident, r);
	} else {
		kn = bpf_map_lookup_elem(&kind_names, &kind);
		if (kn)
			__builtin_memcpy(r->coro, kn->name, sizeof(r->coro));
	}
	task_output(ctx, r, sizeof(*r));
}

/* After the step that finished asyncio task @task (its future done:
 * result, exception or cancellation): a task made later at its address
 * gets its own name record, even when its name object also lands at the
 * address of this one's (tasks named f"worker-{i}" one after another). */
static __always_inline void task_forget_done(__u32 pid, __u64 task)
{
	struct rt_async_task_key key = { .pid = pid, .task = task };
	__u32 state = 0;

	if (task_kind != RT_REC_TASK_ASYNCIO ||
	    bpf_probe_read_user(&state, sizeof(state), (const void *)(task + aoff.task_state)) ||
	    !state)
		return;
	bpf_map_delete_elem(&named, &key);
}

/* A task record of @event for @task on the current thread. */
static __always_inline void task_record(void *ctx, __u64 id, __u64 task, __u32 event, __u64 sp)
{
	struct rt_rec_task r = {
		.hdr = { .magic = RT_REC_MAGIC, .version = RT_REC_VERSION, .type = RT_REC_TASK,
			 .size = sizeof(r) },
		.pid = id >> 32,
		.tid = (__u32)id,
		.time = bpf_ktime_get_ns(),
		.task = task,
		.event = event,
		.kind = task_kind,
	};

	/* at the entry the return address is still the real one: the kernel
	 * replaces it for the uretprobe after its uprobe programs ran */
	if (sp && !bpf_probe_read_user(&r.ret_addr, sizeof(r.ret_addr), (const void *)sp))
		r.ret_sp = sp;
	task_output(ctx, &r, sizeof(r));
}

/* A step of @task (of @kind) begins on the current thread, whose stack
 * pointer is @sp. */
static __always_inline int step_enter(void *ctx, __u64 task, __u64 sp, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, zero = 0;
	struct rt_async_task_key key = { .pid = id >> 32, .task = task };
	struct rt_async_step *s = bpf_map_lookup_elem(&steps, &tid);
	struct task_struct *current = bpf_get_current_task_btf();
	struct scratch *sc;
	__u64 *due;

	if (!task)
		return 0;
	if (s && s->depth) {
		/* deeper on the stack: a step that runs a nested loop, the outer
		 * step goes on; else the current step's return was missed (it
		 * began before the uretprobe was attached) */
		if (sp < s->sp) {
			s->depth++;
			return 0;
		}
		count(RT_ASYNC_STAT_UNPAIRED);
	}
	if (task_records) {
		task_name_record(ctx, key.pid, task, kind);
		task_record(ctx, id, task, RT_REC_TASK_BEGIN, sp);
	}
	if (!s) {
		sc = bpf_map_lookup_elem(&scratch, &zero);
		if (!sc)
			return 0;
		bpf_map_update_elem(&steps, &tid, &sc->zero, BPF_ANY);
		s = bpf_map_lookup_elem(&steps, &tid);
		if (!s)
			return 0;
	}
	s->task = task;
	s->kind = kind;
	s->sp = sp;
	s->start_ns = now;
	s->sched_delay_ns = 0;
	s->syscall_start_ns = 0;
	s->syscall_ns = 0;
	s->longest_syscall_ns = 0;
	s->longest_syscall_nr = 0;
	s->run_delay_ns = BPF_CORE_READ(current, sched_info.run_delay);
	s->cpu_ns = BPF_CORE_READ(current, se.sum_exec_runtime);
	s->samples = 0;
	s->depth = 1;
	s->stack_source = RT_ASYNC_STACK_NONE;
	s->nr_frames = 0;
	s->stack_flags = 0;
	s->walking = 0;
	due = bpf_map_lookup_elem(&wakes, &key);
	if (due) {
		if (*due && *due < now && now - *due < 60000000000ull)
			s->sched_delay_ns = now - *due;
		bpf_map_delete_elem(&wakes, &key);
	}
	return 0;
}

static __always_inline void task_account(__u32 pid, __u32 tid, const struct rt_async_step *s,
					 __u64 now, __u64 duration)
{
	struct rt_async_task_key key = { .pid = pid, .task = s->task };
	struct rt_async_task_stats *t = bpf_map_lookup_elem(&tasks, &key);

	if (!t) {
		struct rt_async_task_stats fresh = { .first_ns = s->start_ns };
		struct rt_async_task *e;

		if (bpf_map_update_elem(&tasks, &key, &fresh, BPF_NOEXIST))
			return;
		t = bpf_map_lookup_elem(&tasks, &key);
		if (!t)
			return;
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			e->type = RT_ASYNC_EVENT_TASK;
			e->pid = pid;
			e->tid = tid;
			e->kind = s->kind;
			e->task = s->task;
			bpf_ringbuf_submit(e, 0);
		} else {
			count(RT_ASYNC_STAT_EVENTS_LOST);
		}
	}
	t->steps++;
	t->step_ns += duration;
	if (duration > t->max_step_ns)
		t->max_step_ns = duration;
	if (s->sched_delay_ns) {
		t->sched_delay_ns += s->sched_delay_ns;
		t->delayed_steps++;
	}
	t->last_ns = now;
	t->tid = tid;
	t->kind = s->kind;
}

/* Sends a step longer than the threshold and remembers it as the thread's
 * latest blocking step, for the timers that waited behind it. */
static __always_inline void step_blocking(__u32 pid, __u32 tid, struct rt_async_step *s, __u64 now)
{
	struct rt_async_block *b = bpf_map_lookup_elem(&blocks, &tid);
	struct rt_async_block fresh = {};
	struct rt_async_blocking *e;
	__u32 seq = 1;

	count(RT_ASYNC_STAT_BLOCKING);
	if (b)
		seq = b->seq + 1;
	fresh.start_ns = s->start_ns;
	fresh.end_ns = now;
	fresh.seq = seq;
	bpf_map_update_elem(&blocks, &tid, &fresh, BPF_ANY);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(RT_ASYNC_STAT_EVENTS_LOST);
		return;
	}
	e->type = RT_ASYNC_EVENT_BLOCKING;
	e->pid = pid;
	e->tid = tid;
	e->seq = seq;
	e->end_ns = now;
	bpf_probe_read_kernel(&e->step, sizeof(e->step), s);
	bpf_ringbuf_submit(e, 0);
}

/* The step running on the current thread returns. */
static __always_inline int step_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), duration;
	__u32 tid = (__u32)id, pid = id >> 32;
	struct rt_async_step *s = bpf_map_lookup_elem(&steps, &tid);
	struct task_struct *current = bpf_get_current_task_btf();

	if (!s || !s->depth) {
		count(RT_ASYNC_STAT_UNPAIRED);
		return 0;
	}
	if (--s->depth)
		return 0;
	count(RT_ASYNC_STAT_STEPS);
	if (task_records) {
		task_record(ctx, id, s->task, RT_REC_TASK_END, 0);
		task_forget_done(pid, s->task);
		return 0;
	}
	duration = now - s->start_ns;
	/* a step is blocking only by its own time: not by the time its thread
	 * waited for a CPU on a busy machine */
	s->run_delay_ns = BPF_CORE_READ(current, sched_info.run_delay) - s->run_delay_ns;
	s->cpu_ns = BPF_CORE_READ(current, se.sum_exec_runtime) - s->cpu_ns;
	task_account(pid, tid, s, now, duration);
	if (duration >= threshold_ns)
		step_blocking(pid, tid, s, now);
	return 0;
}

/* TaskStepMethWrapper.__call__(self, args, kwds): a task's first step and
 * the steps that follow a bare yield or a cancellation. */
SEC("uprobe")
int BPF_KPROBE(async_step_wrapper, void *wrapper)
{
	__u64 task = 0;

	if (read_ptr(&task, (__u64)wrapper + aoff.step_wrapper_task))
		return 0;
	return step_enter(ctx, task, PT_REGS_SP(ctx), 0);
}

/* task_wakeup(task, future): the steps after an awaited future is done. */
SEC("uprobe")
int BPF_KPROBE(async_task_wakeup, void *task)
{
	return step_enter(ctx, (__u64)task, PT_REGS_SP(ctx), 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(async_step_return)
{
	return step_exit(ctx);
}

/* CLOCK_MONOTONIC nanoseconds from loop.time()'s seconds as an IEEE 754
 * double's bits (the program has no floating point); 0 when the value is
 * below one second, negative or absurd. */
static __always_inline __u64 seconds_to_ns(__u64 bits)
{
	__u64 exp = (bits >> 52) & 0x7ff, mant = (bits & ((1ull << 52) - 1)) | (1ull << 52);
	__u64 secs, frac;
	__u32 shift;

	if ((bits >> 63) || exp < 1023 || exp > 1023 + 40)
		return 0;
	shift = 1075 - (__u32)exp; /* 12..52 */
	secs = mant >> shift;
	frac = mant & ((1ull << shift) - 1);
	if (shift > 30) {
		frac >>= shift - 30;
		shift = 30;
	}
	return secs * 1000000000ull + ((frac * 1000000000ull) >> shift);
}

/* The task a timer's callback wakes: asyncio.sleep's timer runs
 * futures._set_result_unless_cancelled(fut, None), and the future's first
 * done callback is the task's task_wakeup bound to the task. */
static __always_inline __u64 timer_task(__u64 timer)
{
	__u64 args = 0, fut = 0, callback = 0, task = 0;
	__s64 n = 0;

	if (read_ptr(&args, timer + aoff.handle_args) || !args ||
	    bpf_probe_read_user(&n, sizeof(n), (const void *)(args + aoff.var_size)) || n < 1 ||
	    read_ptr(&fut, args + aoff.tuple_item0) || !fut ||
	    read_ptr(&callback, fut + aoff.future_callback0) || !callback ||
	    read_ptr(&task, callback + aoff.cfunction_self))
		return 0;
	return task;
}

/* Something due at @due on thread @tid, taken at @now: when the thread's
 * latest blocking step ended after @due, it waited behind that step. */
static __always_inline void late_behind_block(__u32 pid, __u32 tid, __u64 due, __u64 now)
{
	struct rt_async_block *b = bpf_map_lookup_elem(&blocks, &tid);
	struct rt_async_late *e;

	if (!b || due >= b->end_ns || b->end_ns > now)
		return;
	count(RT_ASYNC_STAT_LATE);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(RT_ASYNC_STAT_EVENTS_LOST);
		return;
	}
	e->type = RT_ASYNC_EVENT_LATE;
	e->pid = pid;
	e->tid = tid;
	e->seq = b->seq;
	e->due_ns = due;
	e->added_ns = b->end_ns - (due > b->start_ns ? due : b->start_ns);
	e->popped_ns = now;
	bpf_ringbuf_submit(e, 0);
}

/* _heapq.heappop returns: the event loop took a due timer from its heap. */
SEC("uretprobe")
int BPF_KRETPROBE(async_heappop_return, void *ret)
{
	static const char want[12] = "TimerHandle";
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, pid = id >> 32;
	__u64 obj = (__u64)ret, type = 0, name = 0, when = 0, bits = 0, due, task;
	struct rt_async_task_key key = { .pid = pid };
	char got[12] = {};

	if (!obj || read_ptr(&type, obj + 8) || read_ptr(&name, type + aoff.type_name) ||
	    bpf_probe_read_user(got, sizeof(got), (const void *)name))
		return 0;
	for (int i = 0; i < 12; i++)
		if (got[i] != want[i])
			return 0;
	if (read_ptr(&when, obj + aoff.timer_when) || !when ||
	    read_ptr(&bits, when + aoff.float_value))
		return 0;
	due = seconds_to_ns(bits);
	if (!due)
		return 0;
	count(RT_ASYNC_STAT_TIMERS);
	task = timer_task(obj);
	if (task) {
		key.task = task;
		bpf_map_update_elem(&wakes, &key, &due, BPF_ANY);
	}
	late_behind_block(pid, tid, due, now);
	return 0;
}

/* tokio::runtime::task::raw::poll::<T, S>(header): a task's poll; the
 * attach cookie numbers the future type T (one function per type).  A
 * task woken while a blocking poll held this thread waited behind it. */
SEC("uprobe")
int BPF_KPROBE(async_tokio_poll, void *header)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rt_async_task_key key = { .pid = id >> 32, .task = (__u64)header };
	__u64 *woken = bpf_map_lookup_elem(&wakes, &key);

	if (woken)
		late_behind_block(id >> 32, (__u32)id, *woken, bpf_ktime_get_ns());
	return step_enter(ctx, (__u64)header, PT_REGS_SP(ctx), (__u32)bpf_get_attach_cookie(ctx));
}

/* tokio's waker (wake_by_val, wake_by_ref) of the task at @header. */
SEC("uprobe")
int BPF_KPROBE(async_tokio_wake, void *header)
{
	struct rt_async_task_key key = { .pid = bpf_get_current_pid_tgid() >> 32,
					 .task = (__u64)header };
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&wakes, &key, &now, BPF_ANY);
	return 0;
}

/* Per timer wheel (a runtime's time driver): the CLOCK_MONOTONIC time of
 * its tick 0 (its driver's start).  A timer comes due at tick T
 * (milliseconds since the start) and is taken at or after it, so each
 * taken timer's time minus T ms is at or after the start; the least of
 * them is the estimate, late by the least lateness seen (under a
 * millisecond once a timer is taken by an idle worker, which parks until
 * the next deadline).  Until then deadlines come out late, which can only
 * leave out timers that waited, never add one. */
struct wheel_key {
	__u32 pid;
	__u32 pad;
	__u64 wheel;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wheel_key);
	__type(value, __u64);
} tick_base SEC(".maps");

#define TOKIO_TICK_NS 1000000ull

/* A call of tokio's Wheel::poll in progress (key: tid): the wheel and the
 * tick it was asked to advance to. */
struct wheel_call {
	__u64 wheel;
	__u64 now;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct wheel_call);
} wheel_calls SEC(".maps");

/* tokio 1.24's Wheel: `elapsed`, the levels' Vec (three words), the
 * pending list (two) */
#define WHEEL_WORDS 6

/* Wheel::poll(&mut self, now: u64): the timer driver asks for the next
 * timer due by tick @now (milliseconds since the driver started). */
SEC("uprobe")
int BPF_KPROBE(async_tokio_wheel_poll, void *wheel, __u64 now)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct wheel_call c = { .wheel = (__u64)wheel, .now = now };

	bpf_map_update_elem(&wheel_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* ... returns a timer that came due (its TimerShared; NULL when none is
 * left).  The timer's own deadline is gone by then (its state says
 * "pending fire"), but the wheel has just advanced its `elapsed` tick to
 * the deadline of the slot it took the timer from, which is the timer's:
 * the largest word of the wheel that is a tick at or before @now (the
 * compiler orders the fields; the others are pointers and the levels'
 * count and capacity, 6).  A timer due before the latest blocking poll of
 * this thread ended waited behind it. */
SEC("uretprobe")
int BPF_KRETPROBE(async_tokio_timer_return, void *ret)
{
	__u64 id = bpf_get_current_pid_tgid(), t = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, pid = id >> 32;
	__u64 words[WHEEL_WORDS] = {}, tick = 0, bound, due, start, *base;
	struct wheel_call *c = bpf_map_lookup_elem(&wheel_calls, &tid);
	struct wheel_key key = { .pid = pid };

	if (!c || !ret || bpf_probe_read_user(words, sizeof(words), (const void *)c->wheel))
		return 0;
	key.wheel = c->wheel;
	for (int i = 0; i < WHEEL_WORDS; i++)
		if (words[i] <= c->now && words[i] > 64 && words[i] + 3600000 >= c->now &&
		    words[i] > tick)
			tick = words[i];
	if (!tick || tick * TOKIO_TICK_NS >= t)
		return 0;
	count(RT_ASYNC_STAT_TIMERS);
	bound = t - tick * TOKIO_TICK_NS;
	base = bpf_map_lookup_elem(&tick_base, &key);
	start = base ? *base : 0;
	if (!base || bound < start) {
		bpf_map_update_elem(&tick_base, &key, &bound, BPF_ANY);
		start = bound;
	}
	due = start + tick * TOKIO_TICK_NS;
	late_behind_block(pid, tid, due, t);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(async_sys_enter, struct pt_regs *regs, long nr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rt_async_step *s = bpf_map_lookup_elem(&steps, &tid);

	if (!s || !s->depth)
		return 0;
	s->syscall_start_ns = bpf_ktime_get_ns();
	s->syscall_nr = (__u32)nr;
	return 0;
}

/* A system call inside a step ends: a long one is where the step blocked,
 * and the thread is still at the Python frame that made it. */
SEC("tp_btf/sys_exit")
int BPF_PROG(async_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), now, d;
	__u32 tid = (__u32)id;
	struct rt_async_step *s = bpf_map_lookup_elem(&steps, &tid);

	if (!s || !s->depth || !s->syscall_start_ns)
		return 0;
	now = bpf_ktime_get_ns();
	d = now - s->syscall_start_ns;
	s->syscall_start_ns = 0;
	s->syscall_ns += d;
	if (d <= s->longest_syscall_ns)
		return 0;
	s->longest_syscall_ns = d;
	s->longest_syscall_nr = s->syscall_nr;
	if (d * 2 >= threshold_ns)
		take_stack(id >> 32, tid, s, RT_ASYNC_STACK_SYSCALL);
	return 0;
}

/* CPU-time sampler: a step that has run for half the threshold without a
 * long system call gets the stack it is running now. */
SEC("perf_event")
int async_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct rt_async_step *s = bpf_map_lookup_elem(&steps, &tid);

	if (!s || !s->depth)
		return 0;
	s->samples++;
	/* the sample interrupted this thread's own walk (at a system call's
	 * end, on this CPU): a walk now would reuse the CPU's frame buffer
	 * under it, and the walk under way is the better stack anyway */
	if (s->walking) {
		count(RT_ASYNC_STAT_NESTED);
		return 0;
	}
	if (s->stack_source == RT_ASYNC_STACK_SYSCALL ||
	    (native_stacks && s->stack_source == RT_ASYNC_STACK_SAMPLE) ||
	    (bpf_ktime_get_ns() - s->start_ns) * 2 < threshold_ns)
		return 0;
	take_stack(id >> 32, tid, s, RT_ASYNC_STACK_SAMPLE);
	return 0;
}
