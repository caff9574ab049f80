/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by the async-runtime tracer (async.bpf.c) and `rt-bpf async`
 * (rtbpf/async.c): the offsets it reads asyncio objects at, the per-task
 * statistics and the events it sends through its ring buffer.  Fixed-size
 * types only; documented in docs/async.md.
 */
#ifndef RT_BPF_ASYNC_H
#define RT_BPF_ASYNC_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "bpf/record.h"

/* Python frames kept for one blocking step (leaf first). */
#define RT_ASYNC_MAX_FRAMES 64

/* Offsets into asyncio's objects (runtimes/python/asyncio.c fills them per
 * CPython minor version). */
struct rt_async_offsets {
	__u32 step_wrapper_task;   /* TaskStepMethWrapper.sw_task */
	__u32 timer_when;          /* TimerHandle._when (a float) */
	__u32 handle_args;         /* Handle._args (a tuple) */
	__u32 tuple_item0;         /* PyTupleObject.ob_item[0] */
	__u32 var_size;            /* PyVarObject.ob_size */
	__u32 future_callback0;    /* FutureObj.fut_callback0 */
	__u32 cfunction_self;      /* PyCFunctionObject.m_self */
	__u32 type_name;           /* PyTypeObject.tp_name */
	__u32 float_value;         /* PyFloatObject.ob_fval */
	__u32 task_coro;           /* TaskObj.task_coro */
	__u32 task_name;           /* TaskObj.task_name (str; an int in 3.12+ until asked) */
	__u32 coro_qualname;       /* PyCoroObject.cr_qualname */
	__u32 long_digit;          /* PyLongObject's first digit */
	__u32 task_state;          /* TaskObj.task_state (fut_state: 0 pending, else done) */
};

/* Where a blocking step's stack was taken. */
enum rt_async_stack_source {
	RT_ASYNC_STACK_NONE = 0,
	RT_ASYNC_STACK_SYSCALL = 1, /* at the end of the step's longest system call */
	RT_ASYNC_STACK_SAMPLE = 2,  /* by the CPU-time sampler, inside the step */
};

/* Per-thread state while a step runs (map `steps`, key: tid). */
struct rt_async_step {
	__u64 task;           /* TaskObj address */
	__u64 sp;             /* stack pointer at entry: tells a nested step from a missed return */
	__u64 start_ns;       /* bpf_ktime_get_ns() at entry */
	__u64 sched_delay_ns; /* entry - due time of the timer that woke the task; 0 unknown */
	__u64 syscall_start_ns;
	__u64 syscall_ns;     /* time in system calls during the step */
	__u64 longest_syscall_ns;
	__u64 run_delay_ns;   /* waiting for a CPU: at entry the thread's total, at the end the step's */
	__u64 cpu_ns;         /* on a CPU: the same (the scheduler's run time, a tick stale) */
	__u32 longest_syscall_nr;
	__u32 syscall_nr;     /* the one in progress */
	__u32 samples;        /* CPU-time samples taken inside the step */
	__u32 depth;          /* nested step entries (a step that runs a nested loop) */
	__u32 stack_source;   /* enum rt_async_stack_source */
	__u32 nr_frames;
	__u32 stack_flags;    /* RT_REC_STACK_* */
	__u32 kind;           /* tokio: the poll function's index (its future type); asyncio: 0 */
	__u32 walking;        /* a walk of this step's stack is in progress (on its thread) */
	__u32 pad;
	struct {
		__u64 code;
		__u32 lasti;
		__u32 flags;  /* RT_REC_FRAME_* */
	} frames[RT_ASYNC_MAX_FRAMES];
};

/* Per-task statistics (map `tasks`). */
struct rt_async_task_key {
	__u32 pid;
	__u32 pad;
	__u64 task;
};

struct rt_async_task_stats {
	__u64 steps;
	__u64 step_ns;        /* total time in steps */
	__u64 max_step_ns;
	__u64 sched_delay_ns; /* total, over the steps whose wake-up time is known */
	__u64 delayed_steps;  /* steps with a known wake-up time */
	__u64 first_ns, last_ns;
	__u32 tid;            /* thread of its last step */
	__u32 kind;           /* as rt_async_step.kind */
};

enum rt_async_event_type {
	RT_ASYNC_EVENT_BLOCKING = 1, /* struct rt_async_blocking */
	RT_ASYNC_EVENT_LATE = 2,     /* struct rt_async_late */
	RT_ASYNC_EVENT_TASK = 3,     /* struct rt_async_task: a task's first step */
	RT_ASYNC_EVENT_USTACK = 4,   /* struct rt_async_ustack: a native stack copy */
};

/* A task seen for the first time, sent as its first step ends so that
 * user space reads its name while it lives. */
struct rt_async_task {
	__u32 type;      /* RT_ASYNC_EVENT_TASK */
	__u32 pid, tid;
	__u32 kind;      /* as rt_async_step.kind */
	__u64 task;
};

/* A step longer than the threshold, sent when it returns. */
struct rt_async_blocking {
	__u32 type;      /* RT_ASYNC_EVENT_BLOCKING */
	__u32 pid, tid;
	__u32 seq;       /* per-thread number of this blocking step */
	struct rt_async_step step;
	__u64 end_ns;
};

/* A callback that came due while a blocking step held its thread: an
 * asyncio timer, sent when the loop takes it from its heap; a tokio task
 * woken during the step, sent when it is polled. */
struct rt_async_late {
	__u32 type;      /* RT_ASYNC_EVENT_LATE */
	__u32 pid, tid;
	__u32 seq;       /* the blocking step's number on that thread */
	__u64 due_ns;    /* the timer's deadline, the task's wake-up */
	__u64 added_ns;  /* how long the blocking step held it past its deadline */
	__u64 popped_ns;
};

/* A native stack copy for a step without Python frames (tokio): at most
 * this many bytes from the stack pointer up, in page-sized reads that stop
 * at the first unmapped page. */
#define RT_ASYNC_USTACK_MAX 16384

/* The user registers sent with it, in the order of perf's register numbers
 * (bits of RT_ASYNC_UREGS_MASK): what DWARF CFI needs to unwind x86_64
 * code (the stack and frame pointers, the return address, the callee-saved
 * registers). */
enum rt_async_ureg {
	RT_ASYNC_UREG_BX, RT_ASYNC_UREG_BP, RT_ASYNC_UREG_SP, RT_ASYNC_UREG_IP,
	RT_ASYNC_UREG_R12, RT_ASYNC_UREG_R13, RT_ASYNC_UREG_R14, RT_ASYNC_UREG_R15,
	RT_ASYNC_NR_UREGS,
};
#define RT_ASYNC_UREGS_MASK ((1ull << 1) | (1ull << 6) | (1ull << 7) | (1ull << 8) | (0xfull << 20))

/* Return addresses that uretprobes (rt-bpf's own on the poll functions)
 * replaced with the kernel's trampoline, innermost first: at most this
 * many are sent with a stack copy. */
#define RT_ASYNC_MAX_RETURNS 8

/* A step's native stack, sent where its Python stack would be taken (at
 * the end of its longest system call, or by the CPU-time sampler): the
 * registers and a copy of the stack, which user space unwinds with the
 * files' CFI while the process lives.  A step may send several; the last
 * one before its blocking event is its stack. */
struct rt_async_ustack {
	__u32 type;      /* RT_ASYNC_EVENT_USTACK */
	__u32 pid, tid;
	__u32 source;    /* enum rt_async_stack_source */
	__u64 start_ns;  /* the step's start: names the step it belongs to */
	__u64 regs[RT_ASYNC_NR_UREGS];
	/* where each replaced return address is on the stack, and what it
	 * was: the unwind needs the real one (nr_returns pairs) */
	__u64 ret_stack[RT_ASYNC_MAX_RETURNS], ret_addr[RT_ASYNC_MAX_RETURNS];
	__u32 nr_returns;
	__u32 size;      /* valid bytes in data */
	/* one page more than the most copied: the last read of a page's rest
	 * is bounded by a page, not by what is left */
	__u8 data[RT_ASYNC_USTACK_MAX + 4096];
};

/* Per-thread blocking-step bookkeeping (map `blocks`, key: tid). */
struct rt_async_block {
	__u64 start_ns, end_ns;
	__u32 seq;
	__u32 pad;
};

/* The name of a future type (tokio), as `rt-bpf record --tasks` writes
 * it into task name records: map `kind_names`, key the poll function's
 * index. */
struct rt_async_kind_name {
	char name[RT_REC_TASK_CORO_MAX];
};

/* Per-CPU counters (array map `stats`). */
enum rt_async_stat {
	RT_ASYNC_STAT_STEPS,        /* steps seen */
	RT_ASYNC_STAT_BLOCKING,     /* steps over the threshold */
	RT_ASYNC_STAT_EVENTS_LOST,  /* events the ring buffer had no room for */
	RT_ASYNC_STAT_TIMERS,       /* timers taken from a loop's heap */
	RT_ASYNC_STAT_LATE,         /* of them, due while a blocking step ran */
	RT_ASYNC_STAT_WALKS,        /* stacks walked */
	RT_ASYNC_STAT_WALK_FAULTS,  /* walks stopped by a failed read */
	RT_ASYNC_STAT_NO_TSTATE,    /* walks without a PyThreadState */
	RT_ASYNC_STAT_UNPAIRED,     /* step returns without an entry, entries without a return */
	RT_ASYNC_STAT_TASK_RECORDS, /* task records written to perf (rt-bpf record --tasks) */
	RT_ASYNC_STAT_TASK_LOST,    /* ... that perf had no room for */
	RT_ASYNC_STAT_TASK_UNWRITTEN, /* ... with perf's channel gone (its start or end) */
	RT_ASYNC_STAT_USTACKS,      /* native stacks copied (tokio) */
	RT_ASYNC_STAT_NESTED,       /* CPU-time samples that interrupted their thread's walk */
	RT_ASYNC_STAT_MAX,
};

#endif
