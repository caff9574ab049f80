/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge internals shared by rtmerge/merge*.c: the merger's state and the
 * steps one file offers the others.  Users include rtmerge/merge.h.
 */
#ifndef RT_MERGE_INTERNAL_H
#define RT_MERGE_INTERNAL_H

#include "rtmerge/merge.h"

#include <pthread.h>

#include "bpf/record.h"
#include "runtimes/decode.h"
#include "perfglue/hash.h"
#include "perfglue/machine.h"
#include "perfglue/tidtable.h"
#include "rtmerge/chains.h"
#include "unwind/unwind.h"

#define MAX_STACK 8192
#define FRAME_TEXT_MAX 1024

/* Frame cache: (pid, address, kernel?) -> frame id, valid for one maps generation. */
struct frame_slot {
	uint64_t addr;
	uint64_t generation;
	uint32_t pid;
	uint32_t frame;     /* id + 1; 0 empty */
	uint8_t reason;     /* 0 resolved, an rt_symbol_status, or REASON_NO_MAP */
};

#define REASON_NO_MAP RT_SYMBOL_NR_STATUS
#define L1_SIZE 4096
#define BID_CACHE 256
#define ROOT_CACHE 256
#define INTERP_CACHE 4096 /* a power of two */
#define UNRESOLVED_CACHE 64 /* a power of two */
#define CHAIN_CACHE 2048     /* a power of two */
#define CHAIN_CACHE_DEPTH 32 /* longer callchains are folded each time */

/* A callchain folded before (rtmerge/merge_chaincache.c): its key, the
 * stack it became and what folding it added to the counters. */
struct chain_slot {
	uint64_t hash, generation;
	const char *comm;
	uint32_t pid, tid, nr_callchain, stack;
	uint32_t cpumode;
	bool used;
	uint32_t frames, collapsed, empty, unresolved_no_map;
	uint32_t unresolved[RT_SYMBOL_NR_STATUS];
	uint64_t callchain[CHAIN_CACHE_DEPTH];
};

/* The counters a fold adds to, as they were before it. */
struct chain_counts {
	uint64_t frames, collapsed, empty, unresolved_no_map;
	uint64_t unresolved[RT_SYMBOL_NR_STATUS];
};
/* A stack record follows its native sample by the walker's run time:
 * microseconds, but a walk of 4,096 frames takes up to a few hundred on a
 * loaded machine and milliseconds under emulation (1.3 ms median for 3,003
 * frames in the QEMU TCG guests): 10 ms, still within one thread's samples
 * on one CPU, which is all that is paired. */
#define PAIR_WINDOW_NS 10000000ull

/* The async task a sample was taken in (rt-bpf record --tasks). */
struct rt_merge_task {
	uint32_t kind;  /* RT_REC_TASK_ASYNCIO, RT_REC_TASK_TOKIO; 0: none */
	uint32_t frame; /* "[task] NAME" */
	/* the step function's return address and where it is on the stack
	 * (rt_task_tracker__return()); ret_sp 0 when unknown */
	uint64_t ret_sp, ret_addr;
};

struct rt_merge {
	struct rt_machine_tool tool; /* first: callbacks get &merge->tool.tool */
	struct rt_merge_opts opts;
	struct rt_symbolizer *symbolizer;
	struct rt_stacks *stacks;
	struct rt_perf_reader *reader;
	const struct rt_perf_evsel *evsel;  /* chosen event */
	const struct rt_perf_evsel *switch_evsel; /* sched_switch of rt-bpf --off-cpu, if recorded */
	struct rt_offcpu *offcpu;           /* the view (rtmerge/offcpu.c) */
	struct rt_task_tracker *tasks;      /* async tasks by thread (rtmerge/tasks.c) */
	struct rt_trace_fields *fields;     /* tracepoint formats (rtmerge/tracefields.c) */
	bool fields_pending;                /* wanted, not looked for yet */
	bool evsel_chosen;
	uint64_t first_time, last_time; /* of the samples read (0: none yet) */
	struct frame_slot *cache;
	size_t cache_size, cache_used;
	struct frame_slot l1[L1_SIZE];
	uint32_t frames[MAX_STACK];
	uint64_t frame_hashes[MAX_STACK]; /* of a sample's callchain entries */
	/* "[dso]" frames by the address of their dso text (literals and
	 * interned map paths: stable for the run): a broken chain's addresses
	 * are not cached by address, and each would format its text again. */
	struct unresolved_slot {
		const char *dso;
		uint32_t id;
		bool sanitized;
	} unresolved_cache[UNRESOLVED_CACHE];
	struct chain_slot *chain_cache; /* CHAIN_CACHE slots, allocated on first use */
	FILE *spool;        /* --per-sample lines kept until placeholders are named */
	/* A stream read from a pipe (rt-bpf top, perf record -o -) cannot wait
	 * for its end: its kept lines go out once every pending line is known,
	 * or LIVE_LINES_WAIT_NS of sample time after the first was kept, each
	 * placeholder under the name known then (interim, by frame id). */
	bool live_lines;
	uint64_t spool_since;       /* the first kept line's sample time */
	size_t spool_lines;
	uint32_t *interim;          /* UINT32_MAX: still unnamed */
	size_t nr_interim;
	uint8_t reason;     /* why the last resolve_* failed, 0 when it did not */
	bool uncacheable;   /* the last resolve_* answer may change without a new generation */
	struct rt_interp_decoder *decoder;
	struct rt_unwinder *unwinder;       /* for --call-graph dwarf samples */
	struct rt_unwind_frame unwound[MAX_STACK];
	uint32_t unwind_pid;
	/* Kernel frames are named at the end, while kallsyms loads on a second
	 * thread: until then each kernel address gets a placeholder frame. */
	bool kernel_deferred;
	pthread_t kernel_loader;
	struct pending_kernel {
		uint64_t addr;
		uint32_t id;
	} *pending;
	size_t nr_pending, cap_pending;
	/* Interpreter frames whose line waits for pieces of their line table
	 * (a function's first sample comes before them): each gets a
	 * placeholder frame, named at the end like the kernel's. */
	struct pending_line {
		uint32_t id, pid;
		struct rt_interp_frame frame;
	} *pending_lines;
	size_t nr_pending_lines, cap_pending_lines;
	struct rt_chains chains;    /* --inline: an address's frames */
	uint8_t *is_eval;   /* per frame id: FRAME_EVAL, FRAME_PY_TRAMPOLINE bits */
	size_t is_eval_cap;
	uint32_t interp_ids[MAX_STACK];
	/* Interpreter frames named already, by the decoder's interned strings
	 * (one pointer per text for the decoder's life) and line: a deep stack
	 * repeats the same few frames thousands of times per sample. */
	struct interp_slot {
		const char *function, *file;
		int line;
		uint32_t id;        /* frame id + 1; 0 empty */
		bool sanitized;     /* its text had control characters */
	} *interp_cache;
	int32_t group_start[MAX_STACK];
	/* recorded build ids by interned map path, copied: build-id records
	 * later in the input grow (move) the reader's list and may add the
	 * one a path lacked, so an answer holds for one list length only */
	struct bid_slot {
		const char *path;
		size_t nr_listed;   /* the reader's nr_build_ids when looked up */
		uint8_t size;       /* 0: none recorded */
		uint8_t id[20];
	} bid_cache[BID_CACHE];
	/* root frames by thread: comm pointers are interned by the machine */
	struct root_slot {
		uint32_t tid, pid;
		const char *comm;
		uint32_t id;
		bool used;
	} root_cache[ROOT_CACHE];
	struct rt_merge_stats stats;
	/* Each CPU's last native sample, waiting for its stack record (see
	 * held_put); only when a channel carries no native stack. */
	struct held_sample {
		bool used;
		struct rt_perf_sample s;    /* pointers into the buffers below */
		uint64_t *callchain, *regs;
		uint8_t *stack, *raw;       /* raw: a tracepoint's fields */
		size_t cap_callchain, cap_regs, cap_stack, cap_raw;
		/* A stack record that came before its native sample (kernels
		 * that run the program before perf writes the sample). */
		bool early;
		uint64_t early_time;
		struct rt_interp_stack early_stack; /* frames: early_frames */
		struct rt_interp_frame *early_frames;
		size_t cap_early_frames;
		struct rt_merge_task task;          /* the thread's async task then */
		/* The CPU's last native sample of an event not folded: its
		 * stack record, which follows it, is left out with it. */
		bool skipped;
		struct skip_mark {
			const struct rt_perf_evsel *ev;
			uint64_t period, time;
			uint32_t pid, tid;
		} skip;
	} *held;
	size_t nr_held, cap_held;   /* slots in use (the highest + 1), allocated */
	/* Each thread's last sched_switch sample (rt-bpf record --off-cpu):
	 * the native chain of its later switches out whose stack records say
	 * RT_REC_STACK_SAME_CHAIN (see merge_pair.c). */
	struct rt_tid_table switches; /* struct switch_slot by tid */
	bool hold_native;           /* some channel's samples carry no native stack */
	/* The recorded target's processes, sorted (see target_find). */
	uint32_t *target;
	size_t nr_target, cap_target;
	size_t target_evsels_seen;  /* events looked at for the target's name */
	int (*machine_fork)(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
			    uint32_t ptid, uint64_t time);
	int (*machine_comm)(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid,
			    const char *comm, bool exec, const struct rt_perf_sample_id *sid);
	/* BPF programs and trampolines by the recording's KSYMBOL records, in
	 * their order: named as they were at each sample's moment, not as
	 * /proc/kallsyms has them today (unloaded, or another program since). */
	struct bpf_ksym {
		uint64_t addr;
		uint32_t len;
		bool live;
		char *name;
	} *ksyms;
	size_t nr_ksyms, cap_ksyms;
	bool ksyms_past;    /* naming placeholders at the end: not their moment */
};

/* A thread's entry in struct rt_merge's switches. */
struct switch_slot {
	struct rt_tid_key key; /* first: an entry of perfglue/tidtable.h */
	struct held_sample h[RT_REC_STACK_CHAIN_SLOTS];
};

static inline struct rt_merge *rt_merge__of(struct rt_perf_tool *tool)
{
	return (struct rt_merge *)tool;
}

static inline bool rt_merge__is_bpf_output(const struct rt_perf_evsel *ev)
{
	return ev->attr.type == PERF_TYPE_SOFTWARE && ev->attr.config == PERF_COUNT_SW_BPF_OUTPUT;
}

/* ---- naming frames (merge_frames.c) ---- */

/* Interns @text (control characters replaced and counted) as frame *id. */
int rt_merge__intern_text(struct rt_merge *m, const char *text, size_t len, uint32_t *id);

/* A frame's text made safe for folded lines, in place: ';' separates
 * frames, so a name's own becomes ':' (a thread named "a;b" is not two
 * frames). */
static inline void rt_merge__no_separators(char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] == ';')
			text[i] = ':';
}
/* The frame id of @addr in @pid at maps generation @user_gen (kernel
 * addresses: @kernel); counts why it stayed unresolved. */
int rt_merge__frame_of(struct rt_merge *m, uint32_t pid, uint64_t user_gen, uint64_t addr,
		       bool kernel, uint32_t *id);
/* Touches the frame-cache slots of @s's callchain so their misses overlap. */
/*
 * The frame caches' slot hash of (addr, pid; kernel addresses under
 * RT_MACHINE_KERNEL_PID), keyed since both come from the input: computed
 * once per callchain entry, for frame_of_hashed and prefetch_frame.
 */
static inline uint64_t rt_merge__frame_hash(uint64_t addr, uint32_t pid, bool kernel)
{
	if (kernel)
		pid = RT_MACHINE_KERNEL_PID;
	return rt_hash64_keyed(addr ^ ((uint64_t)pid << 47) ^ pid);
}

static inline size_t rt_merge__l1_index(uint64_t hash)
{
	return (size_t)(hash >> 40) & (L1_SIZE - 1);
}

/* rt_merge__frame_of with the frame's rt_merge__frame_hash computed already. */
int rt_merge__frame_of_hashed(struct rt_merge *m, uint32_t pid, uint64_t user_gen, uint64_t addr,
			      bool kernel, uint64_t hash, uint32_t *id);

/*
 * The callchain cache (merge_chaincache.c).  cacheable: sample s (not an
 * off-CPU switch sample: is_switch) qualifies by itself; the caller also
 * requires no interpreter stack, no task.  chain_hit: 1 when s was counted
 * from the cache, 0 when it must be folded, -errno.  chain_begin notes the
 * counters before the fold, chain_store keeps the fold's outcome (the
 * index of its stack in m->stacks); chain_forget drops all (stack indexes
 * change, or the merger is freed).
 */
bool rt_merge__chain_cacheable(const struct rt_merge *m, const struct rt_perf_sample *s,
			       bool is_switch);
int rt_merge__chain_hit(struct rt_merge *m, const struct rt_perf_sample *s, uint64_t gen);
void rt_merge__chain_begin(struct rt_merge *m, struct chain_counts *before);
int rt_merge__chain_store(struct rt_merge *m, const struct rt_perf_sample *s, uint64_t gen,
			  const struct chain_counts *before, size_t stack);
void rt_merge__chain_forget(struct rt_merge *m);

/*
 * --per-sample (merge_persample.c): the line of sample s, whose stack is
 * frames[0..n), written or, from the first stack with a placeholder frame
 * on, kept in order; per_sample_flush writes the kept lines, frame id i
 * named as final[i] where i < nr_final and final[i] != UINT32_MAX (the
 * placeholders' names), while m->stacks still holds the ids.  0 or -errno.
 */
int rt_merge__per_sample_line(struct rt_merge *m, const struct rt_perf_sample *s,
			      const uint32_t *frames, uint32_t n);
int rt_merge__per_sample_flush(struct rt_merge *m, const uint32_t *final, size_t nr_final);

/* Starts loading a frame's cache slots: the caches are bigger than the
 * CPU's, and prefetching a sample's frames first overlaps their misses. */
static inline void rt_merge__prefetch_frame(const struct rt_merge *m, uint64_t hash)
{
	__builtin_prefetch(&m->l1[rt_merge__l1_index(hash)]);
	if (m->cache_size)
		__builtin_prefetch(&m->cache[hash & (m->cache_size - 1)]);
}
/* Names kernel @addr now (sets m->reason when it stays unresolved). */
int rt_merge__resolve_kernel(struct rt_merge *m, uint64_t addr, uint32_t *id);
/* The frame of interpreter frame @f of process @pid: "func (file:line)";
 * a placeholder when its line is pending (see pending_lines). */
int rt_merge__interp_frame(struct rt_merge *m, uint32_t pid, const struct rt_interp_frame *f,
			   uint32_t *id);
/* Names pending_lines[@i] with the line the decoder knows now (none: the
 * frame without its line) into *@id; @final: the name at the end (counted
 * in late_lines when the line came late), not an interim one. */
int rt_merge__pending_line_name(struct rt_merge *m, size_t i, bool final, uint32_t *id);
/* The line the decoder knows now for pending_lines[@i], 0: none yet. */
int rt_merge__pending_line_known(const struct rt_merge *m, size_t i);
/* The root frame of @s: "comm", "comm-PID" or "comm-PID/TID". */
int rt_merge__root_frame(struct rt_merge *m, const struct rt_perf_sample *s, uint32_t *id);
/* The build id perf listed for @map's file, NULL: none; valid until the next call. */
const struct bid_slot *rt_merge__recorded_build_id(struct rt_merge *m, const struct rt_map *map);
/* Frame @i of @native (root first) runs interpreter frames of its own. */
bool rt_merge__native_is_loop(const struct rt_merge *m, const uint32_t *native, uint32_t nr,
			      uint32_t i);
/* A CPython -X perf trampoline frame ("py::..."). */
bool rt_merge__frame_is_py_trampoline(const struct rt_merge *m, uint32_t id);
/* A user address that no mapping covered ("[unknown]"). */
bool rt_merge__frame_is_no_map(const struct rt_merge *m, uint32_t id);

/* ---- event and target (merge_target.c) ---- */

/* Picks the event to fold (opts.event, else the first that samples). */
void rt_merge__choose_event(struct rt_merge *m);
/* A KSYMBOL record: a BPF program or trampoline loaded or unloaded. */
int rt_merge__on_ksymbol(struct rt_perf_tool *tool, uint64_t addr, uint32_t len, uint16_t type,
			 bool unregister, const char *name);
/* A thread's comm changes (exec, prctl): its held samples (an exec's:
 * its process's) are folded first, under the comm and maps of their
 * moment. */
int rt_merge__on_comm(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		      bool exec, const struct rt_perf_sample_id *sid);
/* Loads the tracepoint formats wanted (--leaf-field, --per-sample) from the
 * recording, once; warns when --leaf-field cannot be shown. */
void rt_merge__load_fields(struct rt_merge *m);
/* Learns the recorded target from events not seen yet; 0 or -ENOMEM. */
int rt_merge__target_find(struct rt_merge *m);
bool rt_merge__target_has(const struct rt_merge *m, uint32_t pid);
/* The FORK callback: grows the target's tree, then the machine's. */
int rt_merge__on_fork(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		      uint32_t ptid, uint64_t time);

/* ---- samples and their stack records (merge_pair.c) ---- */

/* The SAMPLE callback. */
int rt_merge__on_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
			const struct rt_perf_sample *s);
/* With --off-cpu: keeps sched_switch sample @s, folded with the stack
 * record of flags @stack_flags, as its thread's chain in the slot the
 * record names when it says RT_REC_STACK_CHAIN_KEEP, for the thread's later
 * records that reuse it. */
int rt_merge__switch_keep(struct rt_merge *m, const struct rt_perf_sample *s,
			  unsigned int stack_flags);

/* Folds the native sample held in slot @idx alone, if there is one. */
int rt_merge__held_flush(struct rt_merge *m, size_t idx);

/* ---- one sample's stack (merge_splice.c) ---- */

/* Names and counts the stack of native sample @s, with the interpreter
 * frames of @interp spliced in (NULL: none) and the frame of @task, the
 * async task its thread ran when it was taken (NULL: none). */
int rt_merge__fold(struct rt_merge *m, const struct rt_perf_sample *s,
		   const struct rt_interp_stack *interp, const struct rt_merge_task *task);

/* ---- async tasks (merge_tasks.c) ---- */

/* The task the thread of sample @s runs at its moment into @out (kind 0:
 * none, or the step has returned by the sample's stack pointer).
 * Returns 0 or -ENOMEM. */
int rt_merge__task_now(struct rt_merge *m, const struct rt_perf_sample *s,
		       struct rt_merge_task *out);
/* Inserts @task's frame into m->frames[0..*@total): interp_ids[0..
 * @nr_interp) are @stack's frames (root first) from index @interp_first on
 * (a "[truncated]" marker may come first).  Returns 0. */
int rt_merge__task_insert(struct rt_merge *m, const struct rt_merge_task *task,
			  const struct rt_interp_stack *stack, uint32_t interp_first,
			  uint32_t nr_interp, uint32_t *total);
#endif
