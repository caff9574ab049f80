/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The records rt-bpf's walker writes into perf's bpf-output channel: the one
 * contract between the BPF program and user space (runtimes/).  Every record
 * starts with struct rt_rec_header; all integers are native-endian (the
 * records are read on the machine that wrote them or one of the same
 * byte order); only __u32/__u64 and fixed arrays, so the layout is the same
 * for clang -target bpf and the host compiler.  Described in
 * docs/record-format.md.  Bump RT_REC_VERSION on any change.
 */
#ifndef RT_BPF_RECORD_H
#define RT_BPF_RECORD_H

#ifdef __bpf__
/* vmlinux.h provides __u32/__u64/__u8 */
#else
#include <linux/types.h>
#endif

#define RT_REC_MAGIC   0x52545042u /* "BPTR" in memory on little-endian */
/* 2: adds CRuby (RT_REC_RUBY_CODE); records of version 1 are the same as
 * CPython's records of version 2, and are still read.  Version 2 also
 * carries the off-CPU record (RT_REC_OFFCPU) and the stack flags from
 * RT_REC_STACK_OFFCPU on: added kinds and bits, which a reader that does
 * not know them skips or ignores, so the version stays. */
/* 3: deep stacks (RT_REC_MAX_DEPTH frames): a stack deeper than
 * RT_REC_CHUNK_FRAMES keeps its leafmost frames inline and names the rest
 * through a chunk reference frame (RT_REC_FRAME_CHUNK) whose chunks come in
 * RT_REC_STACK_CHUNK records; up to 256 frames per record.  A reader of
 * version 2 refuses version 3 records (header version check). */
#define RT_REC_VERSION 3u
#define RT_REC_VERSION_MIN 1u

enum rt_rec_type {
	RT_REC_STACK = 1, /* struct rt_rec_stack + nr_frames * struct rt_rec_frame */
	RT_REC_CODE = 2,  /* struct rt_rec_code: symbol data of one code object */
	RT_REC_RUBY_CODE = 3, /* struct rt_rec_ruby_code: one CRuby iseq or C method */
	RT_REC_OFFCPU = 4,    /* struct rt_rec_offcpu: one interval a thread spent off the CPU */
	RT_REC_STACK_CHUNK = 5, /* struct rt_rec_chunk: RT_REC_CHUNK_FRAMES rootward frames (v3) */
	RT_REC_TASK = 6,      /* struct rt_rec_task: an async task's step begins or ends */
	RT_REC_TASK_NAME = 7, /* struct rt_rec_task_name: the name of an async task */
	RT_REC_CODE_PIECE = 8, /* struct rt_rec_code_piece: more of a code record's line table */
	RT_REC_OFFCPU_SUM = 9, /* struct rt_rec_offcpu_sum: intervals summed on a remembered stack */
};

/* Runtime kinds, the same numbers as enum rt_runtime in layouts/layout.h. */
#define RT_REC_RUNTIME_CPYTHON 1u
#define RT_REC_RUNTIME_RUBY    2u /* CRuby: bpf/ruby_walk.bpf.h, runtimes/ruby/decode.c */

struct rt_rec_header {
	__u32 magic;   /* RT_REC_MAGIC */
	__u32 version; /* RT_REC_VERSION */
	__u32 type;    /* enum rt_rec_type */
	__u32 size;    /* bytes of this record incl. header; RAW is padded past it */
};

/* rt_rec_stack.flags */
#define RT_REC_STACK_TRUNCATED  (1u << 0) /* more frames than RT_REC_MAX_DEPTH */
#define RT_REC_STACK_READ_FAULT (1u << 1) /* a read failed mid-walk: frames end early */
#define RT_REC_STACK_OFFCPU     (1u << 2) /* taken as the thread left the CPU (rt-bpf
					   * record --off-cpu): perf's sched_switch sample
					   * follows, an RT_REC_OFFCPU record when it runs again */
#define RT_REC_STACK_GIL_HELD   (1u << 3) /* CPython: the thread held the GIL */
#define RT_REC_STACK_SAME_CHAIN (1u << 6) /* with RT_REC_STACK_OFFCPU: perf writes no
					   * sched_switch sample for this switch; the
					   * thread left from the same user registers,
					   * system call and interpreter stack as at an
					   * earlier switch out with a sample, whose native
					   * callchain stands: the one of chain slot
					   * RT_REC_STACK_CHAIN_SLOT */
/* With RT_REC_STACK_OFFCPU: which of the thread's RT_REC_STACK_CHAIN_SLOTS
 * remembered native chains this switch's perf sample goes to (with
 * RT_REC_STACK_CHAIN_KEEP) or is taken from (with RT_REC_STACK_SAME_CHAIN). */
#define RT_REC_STACK_CHAIN_SLOTS 4u
#define RT_REC_STACK_CHAIN_SHIFT 7
#define RT_REC_STACK_CHAIN_MASK  (3u << RT_REC_STACK_CHAIN_SHIFT)
#define RT_REC_STACK_CHAIN_KEEP  (1u << 9)
#define RT_REC_STACK_CHAIN_SLOT(flags) (((flags) & RT_REC_STACK_CHAIN_MASK) >> RT_REC_STACK_CHAIN_SHIFT)

/* rt_rec_frame.flags: low 8 bits flags, high 24 bits the code identity tag */
#define RT_REC_FRAME_ENTRY      (1u << 0) /* _PyInterpreterFrame.is_entry */
#define RT_REC_FRAME_GENERATOR  (1u << 1) /* owner == FRAME_OWNED_BY_GENERATOR */
#define RT_REC_FRAME_RUBY_CFUNC (1u << 2) /* CRuby: code is a method entry of a C method */
#define RT_REC_FRAME_SHIM       (1u << 3) /* CPython 3.12+: a C entry shim (owner
					   * FRAME_OWNED_BY_CSTACK) or no code object: not
					   * a Python frame; the frame leafward of it is
					   * the first of an eval loop */
#define RT_REC_FRAME_CHUNK      (1u << 4) /* v3: not a frame but the rest of the stack,
					   * rootward: code is the id of its leafmost
					   * chunk (struct rt_rec_chunk), lasti the
					   * number of chunks; always the last frame */
#define RT_REC_FRAME_FLAGS_MASK 0xffu
#define RT_REC_FRAME_TAG_SHIFT  8

/* Frames one stack record carries (the last may be a chunk reference);
 * version 1 and 2 records carry up to 250. */
#define RT_REC_MAX_FRAMES 256
/* Frames kept per sample; deeper stacks lose their rootmost frames
 * (RT_REC_STACK_TRUNCATED). */
#define RT_REC_MAX_DEPTH 4096
/* Frames per chunk.  Chunks are counted from the root, so frames pushed or
 * popped at the leaf leave every whole chunk rootward of them unchanged:
 * the walker sends each distinct chunk once (per process, as code records)
 * and a stack record then costs at most RT_REC_MAX_FRAMES frames whatever
 * its depth. */
#define RT_REC_CHUNK_FRAMES 256
#define RT_REC_MAX_CHUNKS (RT_REC_MAX_DEPTH / RT_REC_CHUNK_FRAMES)

struct rt_rec_frame {
	__u64 code;  /* address of the code object in the target */
	__u32 lasti; /* index of the last executed code unit (prev_instr - first) */
	__u32 flags; /* RT_REC_FRAME_* | tag << RT_REC_FRAME_TAG_SHIFT */
};

struct rt_rec_stack {
	struct rt_rec_header hdr; /* type RT_REC_STACK */
	__u32 pid;
	__u32 tid;
	__u32 runtime;   /* RT_REC_RUNTIME_* */
	__u32 version;   /* runtime version: major << 16 | minor << 8 | patch */
	__u32 nr_frames; /* frames that follow, leaf first */
	__u32 flags;     /* RT_REC_STACK_* */
	__u64 time;      /* bpf_ktime_get_ns() */
	/* struct rt_rec_frame frames[nr_frames]; */
};

/*
 * RT_REC_CHUNK_FRAMES consecutive frames of a deep stack, leaf first, as
 * every frame of a stack record.  @id hashes the frames and @parent, the
 * id of the chunk rootward of this one (0 for the rootmost), so an id names
 * the whole rootward part of a stack, not only these frames.  A stack
 * record's chunk reference names its leafmost chunk; the decoder follows
 * @parent to the root.
 */
struct rt_rec_chunk {
	struct rt_rec_header hdr; /* type RT_REC_STACK_CHUNK */
	__u32 pid;
	__u32 runtime;   /* RT_REC_RUNTIME_* */
	__u64 id;        /* never 0 */
	__u64 parent;    /* 0: the rootmost chunk */
	__u32 nr_frames; /* RT_REC_CHUNK_FRAMES */
	__u32 pad;
	/* struct rt_rec_frame frames[nr_frames]; */
};

/*
 * One interval a walked thread spent off the CPU, written when it is
 * switched in again (so on the CPU and in the sample of the thread it
 * replaces).  Its stack is the RT_REC_STACK_OFFCPU record of the same tid
 * whose time is @start, with perf's sched:sched_switch sample after it.
 */
#define RT_REC_OFFCPU_PREEMPTED (1u << 0) /* switched out while runnable (preempted) */
#define RT_REC_OFFCPU_GIL_WAIT  (1u << 1) /* blocked on its interpreter's GIL (futex on it) */
#define RT_REC_OFFCPU_SYSCALL   (1u << 2) /* in system call @syscall */
#define RT_REC_OFFCPU_GVL_WAIT  (1u << 3) /* CRuby: blocked on its ractor's GVL (futex) */
#define RT_REC_OFFCPU_END_RUN   (1u << 4) /* no switch in was seen: @end is where the
					   * thread's run on the CPU that its next
					   * switch out ends began (by its CPU time) */

struct rt_rec_offcpu {
	struct rt_rec_header hdr; /* type RT_REC_OFFCPU */
	__u32 pid;
	__u32 tid;
	__u64 start;   /* bpf_ktime_get_ns() as it left the CPU */
	__u64 end;     /* ... as it was switched in again */
	__u32 syscall; /* x86_64 system call number, with RT_REC_OFFCPU_SYSCALL */
	__u32 state;   /* sched_switch's prev_state (1 S, 2 D ...) */
	__u32 flags;   /* RT_REC_OFFCPU_* */
	__u32 pad;
};

/*
 * Intervals of thread @tid summed instead of recorded one by one: each left
 * the CPU through the native chain of chain slot @slot (as a stack record
 * with RT_REC_STACK_SAME_CHAIN would say) with the interpreter stack of
 * that slot's last stack record (every frame's signature unchanged:
 * bpf/offcpu.bpf.h), for the reason @flags,
 * @syscall, @state.  No stack record was written for them.  The record
 * comes before the next stack record of that slot, so its stack is the
 * one the slot's last stack record (of the switch out that started at
 * @walked) had.  A reader that does not know the kind skips it.
 */
struct rt_rec_offcpu_sum {
	struct rt_rec_header hdr; /* type RT_REC_OFFCPU_SUM */
	__u32 pid;
	__u32 tid;
	__u64 walked;  /* start of the interval whose stack record stands for these */
	__u64 first;   /* start of the first interval summed */
	__u64 last;    /* end of the last */
	__u64 total;   /* nanoseconds off the CPU, all intervals */
	__u32 count;   /* intervals */
	__u32 slot;    /* chain slot, < RT_REC_STACK_CHAIN_SLOTS */
	__u32 syscall; /* as in struct rt_rec_offcpu, the same for every interval */
	__u32 state;
	__u32 flags;
	__u32 pad;
};

/*
 * Async tasks (rt-bpf record --tasks, bpf/async.bpf.c): a step of a task
 * (asyncio: the loop resumes its coroutine; tokio: a poll of its future)
 * begins or ends on thread @tid.  Written from the thread itself, so in
 * time order with its samples: a sample of the thread between a begin and
 * its end was taken inside the step.  The task's name record comes before
 * the first begin that needs it (the first step of the task, or of a new
 * task at the address of a finished one).
 */
#define RT_REC_TASK_BEGIN 1u
#define RT_REC_TASK_END   2u
#define RT_REC_TASK_ASYNCIO 1u /* rt_rec_task.kind: CPython's asyncio (TaskObj address) */
#define RT_REC_TASK_TOKIO   2u /* tokio (task header address) */
#define RT_REC_TASK_LABEL_MAX 64
#define RT_REC_TASK_CORO_MAX  128

struct rt_rec_task {
	struct rt_rec_header hdr; /* type RT_REC_TASK */
	__u32 pid;
	__u32 tid;
	__u64 time;    /* bpf_ktime_get_ns() */
	__u64 task;    /* the task's address: its identity while it lives */
	__u32 event;   /* RT_REC_TASK_BEGIN, RT_REC_TASK_END */
	__u32 kind;    /* RT_REC_TASK_ASYNCIO, RT_REC_TASK_TOKIO */
	/* RT_REC_TASK_BEGIN: where the step function's return address is (the
	 * stack pointer at its entry) and what it is.  While the step runs,
	 * the uretprobe on that function has replaced it on the stack with the
	 * kernel's trampoline, which a stack copy's unwind cannot go through:
	 * rtmerge puts the real one back.  0, 0 when unknown (and in the
	 * 48-byte records of earlier versions, which end before them). */
	__u64 ret_sp;
	__u64 ret_addr;
};

struct rt_rec_task_name {
	struct rt_rec_header hdr; /* type RT_REC_TASK_NAME */
	__u32 pid;
	__u32 kind;    /* RT_REC_TASK_* */
	__u64 task;
	__u64 number;  /* asyncio 3.12+: the task's counter, its name is "Task-N"; 0: see label */
	char label[RT_REC_TASK_LABEL_MAX]; /* asyncio: the task's name (ASCII, NUL-padded) */
	char coro[RT_REC_TASK_CORO_MAX];   /* asyncio: its coroutine's __qualname__; tokio:
					    * the future type; ASCII, NUL-padded */
};

#define RT_REC_STR_MAX       256  /* bytes of string data kept per string */
#define RT_REC_LINETABLE_MAX 2048 /* bytes of co_linetable kept */

/* A str object's characters as stored by the runtime (not converted). */
struct rt_rec_string {
	__u32 length; /* characters in the object */
	__u32 kind;   /* bytes per character: 1 (ASCII/Latin-1), 2, 4; 0 = unreadable */
	__u32 nbytes; /* bytes of data[] filled (<= length * kind) */
	__u32 ascii;  /* 1: pure ASCII */
	__u8 data[RT_REC_STR_MAX];
};

struct rt_rec_code {
	struct rt_rec_header hdr; /* type RT_REC_CODE */
	__u32 pid;
	__u32 tag;      /* identity tag (rt_rec_code_tag), 24 bits */
	__u64 code;     /* code object address */
	__u32 runtime;  /* RT_REC_RUNTIME_* */
	__u32 version;  /* major << 16 | minor << 8 | patch */
	__u32 firstlineno;
	__u32 firsttraceable; /* code units before the first traceable instruction */
	__u32 linetable_length; /* bytes in the runtime's location table */
	__u32 linetable_nbytes; /* bytes of linetable[] filled */
	struct rt_rec_string name;
	struct rt_rec_string qualname;
	struct rt_rec_string filename;
	__u8 linetable[RT_REC_LINETABLE_MAX];
};

/*
 * The rest of a line table that did not fit its code record (a long
 * function's), in pieces written right after that record, in order: the
 * piece at @offset continues the bytes the record and the pieces before it
 * carried.  Readers older than the kind count it as unusable and go on
 * (the line of a frame past the record's part is then unknown, as before).  At most
 * RT_REC_PIECES_MAX pieces per record.
 */
#define RT_REC_PIECE_MAX  16384
#define RT_REC_PIECES_MAX 15
#define RT_REC_PIECE_PY_LINETABLE 1u /* rt_rec_code.linetable */
#define RT_REC_PIECE_RUBY_INFO    2u /* rt_rec_ruby_code.info */
#define RT_REC_PIECE_RUBY_INDEX   3u /* rt_rec_ruby_code.index */

struct rt_rec_code_piece {
	struct rt_rec_header hdr; /* type RT_REC_CODE_PIECE */
	__u32 pid;
	__u32 tag;     /* the code record's tag */
	__u64 code;    /* the code record's address */
	__u32 runtime; /* RT_REC_RUNTIME_* */
	__u32 field;   /* RT_REC_PIECE_*: which table this continues */
	__u32 offset;  /* of data[0] in the whole table */
	__u32 nbytes;  /* bytes of data[] filled */
	__u8 data[RT_REC_PIECE_MAX];
};

/*
 * CRuby: names and line table of one iseq (kind RT_REC_RUBY_ISEQ; frames
 * give lasti = pc - iseq_encoded in VALUEs) or C method (RT_REC_RUBY_CFUNC;
 * frame code = method entry).  The line table is sent as the VM keeps it:
 * an index from bytecode position to entry (none when there is one entry,
 * the positions array, or the succinct bit vector of iseq.c) and the
 * iseq_insn_info_entry array; runtimes/ruby/decode.c reads both.
 */
#define RT_REC_RUBY_ISEQ  1u
#define RT_REC_RUBY_CFUNC 2u
#define RT_REC_RUBY_INDEX_NONE      0u
#define RT_REC_RUBY_INDEX_POSITIONS 1u
#define RT_REC_RUBY_INDEX_SUCCINCT  2u
#define RT_REC_RUBY_SINGLETON       1u /* class_flags: method of a singleton class */
#define RT_REC_RUBY_INDEX_MAX 1024
#define RT_REC_RUBY_INFO_MAX  2048

struct rt_rec_ruby_code {
	struct rt_rec_header hdr; /* type RT_REC_RUBY_CODE */
	__u32 pid;
	__u32 tag;           /* identity tag, 24 bits */
	__u64 addr;          /* iseq or method entry address */
	__u32 version;       /* major << 16 | minor << 8 | patch */
	__u32 kind;          /* RT_REC_RUBY_ISEQ, RT_REC_RUBY_CFUNC */
	__u32 first_lineno;
	__u32 iseq_size;     /* VALUEs of bytecode */
	__u32 info_size;     /* insn_info entries the VM has */
	__u32 index_kind;    /* RT_REC_RUBY_INDEX_* */
	__u32 index_nbytes;  /* bytes of index[] filled */
	__u32 info_nbytes;   /* bytes of info[] filled */
	__u32 info_entry_size;  /* bytes per insn_info entry */
	__u32 info_line_offset; /* offset of line_no (int) in an entry */
	__u32 succ_immediate;   /* positions the succinct immediate part covers */
	__u32 succ_block_size;  /* bytes per succinct block */
	__u32 class_flags;   /* RT_REC_RUBY_SINGLETON */
	__u32 pad;
	struct rt_rec_string label; /* iseq label / C method name; kind 1, UTF-8 bytes */
	struct rt_rec_string path;  /* iseq path / owner class path */
	__u8 index[RT_REC_RUBY_INDEX_MAX];
	__u8 info[RT_REC_RUBY_INFO_MAX];
};

/*
 * A code object's identity tag: ties a frame to the symbol record of the
 * code object that was at that address when the frame was sampled, so a
 * code object freed and reallocated at the same address is not given the
 * old one's names.  @file (CPython's co_filename pointer; 0 where the
 * runtime has none to give) tells apart code that shares its name and first
 * line, such as every module's <module> at line 1.  Same function on both
 * sides.
 */
static inline __u32 rt_rec_code_tag(__u64 code, __u32 firstlineno, __u64 name, __u64 file)
{
	__u64 h = code * 0x9e3779b97f4a7c15ull;

	h ^= (__u64)firstlineno * 0xc2b2ae3d27d4eb4full;
	h ^= name * 0x165667b19e3779f9ull;
	h ^= (file << 17 | file >> 47) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (__u32)(h & 0xffffffu);
}

/* ---- how records reach perf ------------------------------------------------
 * Not part of the record format (no RT_REC_VERSION change): the channel the
 * walker writes through and the event that names the recorded target. */

/*
 * Per-thread channels (perf record -p PID / -- CMD): the key of the
 * tid->slot hash map the caller's program looks up, with value __u32 =
 * index into the channel BPF_MAP_TYPE_PERF_EVENT_ARRAY.  Every (tid, cpu)
 * pair is filled, so one lookup with the current cpu finds the channel;
 * the program then calls bpf_perf_event_output(ctx, &channel, index, ...).
 * For system-wide recording (-a) the channel index is the cpu: use
 * BPF_F_CURRENT_CPU and no slot map.
 */
struct rt_perf_channel_key {
	__u32 tid;
	__u32 cpu;
};
_Static_assert(sizeof(struct rt_perf_channel_key) == 8, "rt_perf_channel_key layout");

/* rt-bpf record -p PID and -- CMD add a dummy event named "rt-target-PID":
 * it never samples, and rtmerge takes the recorded target from its name. */
#define RT_PERF_TARGET_PREFIX "rt-target-"

_Static_assert(sizeof(struct rt_rec_header) == 16, "rt_rec_header size");
_Static_assert(sizeof(struct rt_rec_frame) == 16, "rt_rec_frame size");
_Static_assert(sizeof(struct rt_rec_stack) == 48, "rt_rec_stack size");
_Static_assert(sizeof(struct rt_rec_string) == 16 + RT_REC_STR_MAX, "rt_rec_string size");
_Static_assert(sizeof(struct rt_rec_offcpu) == 56, "rt_rec_offcpu size");
_Static_assert(sizeof(struct rt_rec_offcpu_sum) == 80, "rt_rec_offcpu_sum size");
_Static_assert(sizeof(struct rt_rec_task) == 64, "rt_rec_task size");
_Static_assert(sizeof(struct rt_rec_task_name) ==
	       40 + RT_REC_TASK_LABEL_MAX + RT_REC_TASK_CORO_MAX, "rt_rec_task_name size");
_Static_assert(sizeof(struct rt_rec_code_piece) == 48 + RT_REC_PIECE_MAX, "rt_rec_code_piece size");
_Static_assert(sizeof(struct rt_rec_code) == 56 + 3 * (16 + RT_REC_STR_MAX) + RT_REC_LINETABLE_MAX,
	       "rt_rec_code size");
_Static_assert(sizeof(struct rt_rec_ruby_code) ==
	       88 + 2 * (16 + RT_REC_STR_MAX) + RT_REC_RUBY_INDEX_MAX + RT_REC_RUBY_INFO_MAX,
	       "rt_rec_ruby_code size");
_Static_assert(sizeof(struct rt_rec_chunk) == 48, "rt_rec_chunk size");
_Static_assert(RT_REC_CHUNK_FRAMES <= RT_REC_MAX_FRAMES,
	       "the frames leafward of the chunks and the reference fit one record");
_Static_assert(RT_REC_MAX_DEPTH % RT_REC_CHUNK_FRAMES == 0, "whole chunks");

#endif
