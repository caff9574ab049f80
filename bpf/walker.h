/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by the stack walker (walker.bpf.c) and its loaders (rtbpf/,
 * runtimes/python/inspect.c): the per-process configuration and the
 * statistics counters.
 * Fixed-size types only.
 */
#ifndef RT_BPF_WALKER_H
#define RT_BPF_WALKER_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* The walker reads up to this many bytes from the start of each
 * interpreter frame (rt_walker_offsets.frame_read); every frame field
 * offset must be below RT_WALKER_FRAME_OFF_MASK + 1 and end within the read
 * (rt_pyproc__walker_config checks). */
#define RT_WALKER_FRAME_READ     128
#define RT_WALKER_FRAME_OFF_MASK 0x7f
_Static_assert(RT_WALKER_FRAME_READ <= RT_WALKER_FRAME_OFF_MASK + 1, "masked offsets cover the read");

/* A member the target's CPython does not have (layouts' RT_LAYOUT_NONE). */
#define RT_WALKER_NONE 0xffffffffu

/* Offsets the walker reads at; filled from layouts/ (struct
 * rt_layout_cpython).  One program walks every frame model: PyFrameObject
 * chains (<= 3.10: int f_lasti, every frame its own eval loop) and
 * _PyInterpreterFrame chains (3.11+: instruction pointer, entry marks). */
struct rt_walker_offsets {
	__u32 runtime_interpreters_head; /* from the anchor (_PyRuntime or interp_head) */
	__u32 interp_threads_head;
	__u32 tstate_next;
	__u32 tstate_id;             /* native_thread_id, or thread_id when tstate_id_pthread */
	__u32 tstate_id_pthread;     /* 1: tstate_id holds pthread_self() (< 3.11) */
	__u32 tstate_frame;          /* ->cframe, or the frame pointer itself */
	__u32 cframe_current_frame;  /* RT_WALKER_NONE: tstate_frame is the frame */
	__u32 frame_read;            /* bytes read per frame (<= RT_WALKER_FRAME_READ) */
	__u32 frame_code;
	__u32 frame_previous;
	__u32 frame_instr_ptr;       /* RT_WALKER_NONE: int frame_lasti instead */
	__u32 frame_lasti;
	__u32 frame_is_entry;        /* RT_WALKER_NONE: no such byte */
	__u32 frame_owner;           /* RT_WALKER_NONE: no such byte */
	__u32 frame_owner_generator;
	__u32 frame_owner_cstack;    /* owners from this one up are not Python code (entry shims); RT_WALKER_NONE before 3.12 */
	__u32 code_firstlineno;
	__u32 code_name;
	__u32 code_qualname;         /* RT_WALKER_NONE on 2.7 */
	__u32 code_filename;
	__u32 code_linetable;
	__u32 code_firsttraceable;   /* RT_WALKER_NONE before 3.11 */
	__u32 code_code_adaptive;
	__u32 code_unit_size;
	__u32 object_type;
	__u32 unicode_length;        /* RT_WALKER_NONE: str is bytes-like (2.7) */
	__u32 unicode_state;
	__u32 unicode_ascii_data;
	__u32 unicode_compact_data;
	__u32 bytes_size;
	__u32 bytes_data;
	__u32 frame_code_tag;        /* low bits of f_executable that tag a _PyStackRef (3.14+), else 0 */
	__u64 code_type;             /* &PyCode_Type, 0: not checked */
};

/* Value of the walker's per-process map (key: tgid). */
struct rt_walker_config {
	__u64 runtime_addr; /* address of _PyRuntime in the process */
	__u32 runtime;      /* RT_REC_RUNTIME_* */
	__u32 version;      /* major << 16 | minor << 8 | patch */
	__u32 generation;   /* changes when the pid's process changes (exec, reuse) */
	__u32 pad;
	struct rt_walker_offsets off;
	/* The GIL (struct _gil_runtime_state; layouts' runtime_ceval_gil and
	 * friends), 0 in gil_addr: not located.  With gil_ptr_off
	 * RT_WALKER_NONE it is at gil_addr (_PyRuntime.ceval.gil, 3.7-3.11);
	 * else gil_addr is where the main interpreter's address is kept
	 * (_PyRuntime.interpreters.main) and the GIL where the pointer at
	 * gil_ptr_off in that interpreter points (its ceval.gil, 3.12+).  A
	 * thread holds it when the int at gil_locked is set and the pointer at
	 * gil_last_holder is its thread state; a futex wait inside the
	 * gil_size bytes is a wait for it. */
	__u64 gil_addr;
	__u32 gil_size;
	__u32 gil_last_holder;
	__u32 gil_locked;
	__u32 gil_ptr_off;
};

/* Per-CPU counters (array map index) */
enum rt_walker_stat {
	RT_WALKER_STAT_SAMPLES,       /* samples of configured (Python) processes */
	RT_WALKER_STAT_OTHER_PID,     /* samples of other processes: nothing written */
	RT_WALKER_STAT_NO_TSTATE,     /* thread without a PyThreadState */
	RT_WALKER_STAT_READ_FAULT,    /* walk stopped by a failed read */
	RT_WALKER_STAT_TRUNCATED,     /* deeper than RT_REC_MAX_DEPTH */
	RT_WALKER_STAT_STACK_OK,      /* stack records written */
	RT_WALKER_STAT_STACK_LOST,    /* stack record lost (-ENOSPC: buffer full) */
	RT_WALKER_STAT_OUTPUT_ERROR,  /* other output errors (no channel, perf stopped) */
	RT_WALKER_STAT_CODE_OK,       /* code (symbol) records written */
	RT_WALKER_STAT_CODE_LOST,     /* code records not written (retried later) */
	RT_WALKER_STAT_CODE_DEFERRED, /* new code objects beyond the per-sample budget */
	RT_WALKER_STAT_FRAMES,        /* frames written */
	RT_WALKER_STAT_NO_CHANNEL,    /* per-thread channels: thread has none */
	RT_WALKER_STAT_CHUNK_OK,      /* stack chunk records written (deep stacks) */
	RT_WALKER_STAT_CHUNK_LOST,    /* ... not written (sent again later) */
	RT_WALKER_STAT_MAX,
};

/*
 * Run time of the program on samples of interpreter processes, in 1 us
 * buckets (the last one holds everything longer): rt-bpf reports the
 * median and the 90th percentile from it.  The kernel's BPF statistics give
 * only the mean over every sample of every process.  2 ms: a walk of
 * RT_REC_MAX_DEPTH frames still lands in a bucket of its own.
 */
#define RT_WALKER_TIME_BUCKETS 2048

/* Per-CPU counters of the off-CPU program (bpf/offcpu.bpf.h, array index). */
enum rt_offcpu_stat {
	RT_OFFCPU_STAT_SWITCHES,   /* walked threads that left the CPU */
	RT_OFFCPU_STAT_INTERVALS,  /* off-CPU records written */
	RT_OFFCPU_STAT_LOST,       /* ... lost (-ENOSPC: buffer full) */
	RT_OFFCPU_STAT_ERRORS,     /* ... not written for another reason */
	RT_OFFCPU_STAT_NS,         /* nanoseconds off the CPU in the records written */
	RT_OFFCPU_STAT_SAME_CHAIN, /* switches out whose native chain is the previous one */
	RT_OFFCPU_STAT_SUMMED,     /* intervals summed on a remembered stack (no walk, no record) */
	RT_OFFCPU_STAT_SUMS,       /* RT_REC_OFFCPU_SUM records written */
	RT_OFFCPU_STAT_EVICTED,    /* threads whose chains and sums went for room (sums written) */
	RT_OFFCPU_STAT_UNSEEN,     /* intervals whose switch in ran no program, ended by the
				    * thread's next switch out (RT_REC_OFFCPU_END_RUN) */
	RT_OFFCPU_STAT_MAX,
};


/* Key of the walker's map of code objects already sent. */
struct rt_walker_seen_key {
	__u32 pid;
	__u32 generation;
	__u64 code;
};

/* Value of the walker's tid -> PyThreadState cache. */
struct rt_walker_tstate {
	__u64 tstate;
	__u32 pid;
	__u32 generation;
};

#endif
