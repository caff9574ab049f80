/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The records `rt-bpf trace`'s kernel programs (bpf/trace.bpf.c) send
 * through their ring buffer to user space (rtbpf/trace.c): the contract
 * between the two.  Fixed-size types only, native-endian, the same layout
 * for clang -target bpf and the host compiler.  Described in docs/trace.md.
 * Bump RT_TRACE_VERSION on any change.
 */
#ifndef RT_BPF_TRACE_H
#define RT_BPF_TRACE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "bpf/walker.h"

#define RT_TRACE_VERSION 4u

enum rt_trace_type {
	RT_TRACE_PY_EVENT = 1, /* struct rt_trace_py_event + nr_frames frames */
	RT_TRACE_PY_ARGS,      /* struct rt_trace_py_args: the current frame's arguments */
	RT_TRACE_PY_CODE,      /* struct rt_trace_py_code: names of one code object */
	RT_TRACE_PY_TYPE,      /* struct rt_trace_py_type: name of one type object */
	RT_TRACE_RB_EVENT,     /* struct rt_trace_rb_event */
	RT_TRACE_WRITE,        /* struct rt_trace_write */
	RT_TRACE_PY_RETVAL,    /* struct rt_trace_py_retval: what the eval loop returned */
	RT_TRACE_RB_FRAME,     /* struct rt_trace_rb_frame: a thread's ec->cfp moved */
	RT_TRACE_RB_HOLD,      /* struct rt_trace_header: the target is stopped until it is read */
};

/* rt_trace_py_event.probe and rt_trace_rb_event.probe */
enum rt_trace_probe {
	RT_TRACE_PROBE_LINE = 1,       /* python:line */
	RT_TRACE_PROBE_PY_ENTRY,       /* python:function__entry */
	RT_TRACE_PROBE_PY_RETURN,      /* python:function__return */
	RT_TRACE_PROBE_RB_ENTRY,       /* ruby:method__entry */
	RT_TRACE_PROBE_RB_RETURN,      /* ruby:method__return */
	RT_TRACE_PROBE_RB_CENTRY,      /* ruby:cmethod__entry */
	RT_TRACE_PROBE_RB_CRETURN,     /* ruby:cmethod__return */
	/* the fallback for CPython builds without USDT probes (uprobes) */
	RT_TRACE_PROBE_PY_EVAL_ENTER,  /* _PyEval_EvalFrameDefault: a frame entered from C */
	RT_TRACE_PROBE_PY_EVAL_EXIT,   /* its return: back in the C caller */
	RT_TRACE_PROBE_PY_FRAME_POP,   /* a frame's clear or pop at its return (current: it) */
	RT_TRACE_PROBE_PY_YIELD,       /* the eval loop's YIELD_VALUE: the current frame suspends */
};

struct rt_trace_header {
	__u32 type;   /* enum rt_trace_type */
	__u32 size;   /* bytes of this record incl. header */
	__u32 pid;    /* host tgid */
	__u32 tid;    /* host tid */
	__u64 time;   /* bpf_ktime_get_ns */
	__u32 lost;   /* records of this thread lost just before this one */
	__u32 pad;
};

/* Frames the walk sends at most per event: a chain stops at a frame user
 * space knows (a few frames), but an attach's or a loss's first chain goes
 * down to the thread's first frame, which is as deep as CPython's default
 * recursion limit allows.  The event is built in a per-CPU map's value,
 * which the kernel bounds to 32 KiB. */
#define RT_TRACE_MAX_CHAIN 1000

/* rt_trace_py_frame.flags */
#define RT_TRACE_FRAME_ENTRY     (1u << 0) /* is_entry: entered from C */
#define RT_TRACE_FRAME_GENERATOR (1u << 1) /* owned by a generator/coroutine */
#define RT_TRACE_FRAME_SHIM      (1u << 2) /* not Python code (3.12+ C entry shim) */

struct rt_trace_py_frame {
	__u64 frame; /* _PyInterpreterFrame address */
	__u64 code;  /* its code object */
	__u64 instr; /* its prev_instr: in a caller, the call instruction */
	__u32 flags; /* RT_TRACE_FRAME_* */
	__u32 pad;
};

/* rt_trace_py_event.flags */
#define RT_TRACE_CHAIN_ROOT  (1u << 0) /* the chain ends at the thread's first frame */
#define RT_TRACE_CHAIN_KNOWN (1u << 1) /* its last frame is one an earlier event sent */
#define RT_TRACE_NO_TSTATE   (1u << 2) /* no PyThreadState for the thread: no frames */
#define RT_TRACE_READ_FAULT  (1u << 3) /* a read failed: the chain ends early */

struct rt_trace_py_event {
	struct rt_trace_header hdr;
	__u32 probe;     /* enum rt_trace_probe */
	__s32 line;      /* the probe's line number */
	__u32 flags;     /* RT_TRACE_CHAIN_* ... */
	__u32 nr_frames; /* frames[0] is the current frame, then its callers */
	struct rt_trace_py_frame frames[RT_TRACE_MAX_CHAIN];
};

/* Arguments read per call: cheap values only (docs/trace.md). */
#define RT_TRACE_MAX_ARGS  6
/* Bytes of each argument object read from its offset 16 (after ob_refcnt
 * and ob_type): an int's size and first digits, a float's value, a
 * compact ASCII str's header and its first characters. */
#define RT_TRACE_ARG_BYTES 96

struct rt_trace_py_arg {
	__u64 object;
	__u64 type;
	__u8 data[RT_TRACE_ARG_BYTES];
};

struct rt_trace_py_args {
	struct rt_trace_header hdr;
	__u64 frame;   /* the frame they belong to */
	__u64 code;
	__u32 nr_args; /* read (at most RT_TRACE_MAX_ARGS) */
	__u32 pad;
	struct rt_trace_py_arg args[RT_TRACE_MAX_ARGS];
};

/* The object _PyEval_EvalFrameDefault (PyEval_EvalFrameEx on 2.7)
 * returned (the fallback's uretprobe), sent just before the thread's
 * RT_TRACE_PROBE_PY_EVAL_EXIT event: the returned or yielded value of the
 * frame that went back to C; value.object 0: it returned NULL (an
 * exception is propagating). */
struct rt_trace_py_retval {
	struct rt_trace_header hdr;
	struct rt_trace_py_arg value;
};

/* A string as read from a str object: its kind (1, 2, 4 bytes per
 * character; 0 unread) and the bytes read, possibly cut short. */
#define RT_TRACE_NAME_MAX 128
#define RT_TRACE_PATH_MAX 256
#define RT_TRACE_ARGNAME_MAX 32
#define RT_TRACE_LINETABLE_HEAD 64

struct rt_trace_str_info {
	__u32 kind;
	__u32 nbytes;
	__u32 length; /* characters in the whole string */
	__u32 pad;
};

struct rt_trace_py_code {
	struct rt_trace_header hdr;
	__u64 code;
	__u32 firstlineno;
	__u32 argcount;     /* positional (incl. positional-only) + keyword-only */
	__u32 firsttraceable; /* _co_firsttraceable: the RESUME instruction (3.11+) */
	__u32 co_flags;       /* CO_GENERATOR ... */
	__u32 pad;
	__u32 linetable_nbytes;
	__u8 linetable[RT_TRACE_LINETABLE_HEAD]; /* the start of co_linetable */
	struct rt_trace_str_info name_info, qualname_info, filename_info;
	struct rt_trace_str_info argname_info[RT_TRACE_MAX_ARGS];
	__u8 name[RT_TRACE_NAME_MAX];
	__u8 qualname[RT_TRACE_NAME_MAX];
	__u8 filename[RT_TRACE_PATH_MAX];
	__u8 argnames[RT_TRACE_MAX_ARGS][RT_TRACE_ARGNAME_MAX];
};

#define RT_TRACE_TYPE_NAME_MAX 64

struct rt_trace_py_type {
	struct rt_trace_header hdr;
	__u64 type;
	__u8 name[RT_TRACE_TYPE_NAME_MAX]; /* tp_name, NUL-terminated */
};

#define RT_TRACE_RB_CLASS_MAX 96
#define RT_TRACE_RB_METHOD_MAX 96
#define RT_TRACE_RB_FILE_MAX 256

struct rt_trace_rb_event {
	struct rt_trace_header hdr;
	__u32 probe; /* enum rt_trace_probe */
	__s32 line;
	__u8 klass[RT_TRACE_RB_CLASS_MAX];   /* NUL-terminated, possibly cut */
	__u8 method[RT_TRACE_RB_METHOD_MAX];
	__u8 file[RT_TRACE_RB_FILE_MAX];
};

/* The fallback for a CRuby without USDT probes (3.3: docs/trace.md): a
 * hardware write breakpoint on a thread's ec->cfp, which every frame push
 * and pop writes.  Sent when the number of control frames on the thread's
 * VM stack changed: depth > prev_depth is a push, whose new top frame is
 * described; depth < prev_depth pops that many frames. */
#define RT_TRACE_RB_DEPTH_UNKNOWN 0xffffffffu

struct rt_trace_rb_frame {
	struct rt_trace_header hdr;
	__u32 depth;      /* control frames after the write */
	__u32 prev_depth; /* before it; RT_TRACE_RB_DEPTH_UNKNOWN: the thread's first */
	__u64 cfp;        /* the new top frame */
	__u64 iseq;       /* its iseq (0: a C frame) */
	__u64 me;         /* its ep[-2]: method entry or cref */
	__u64 flags;      /* its ep[0]: frame magic and flags */
	__u64 pc;
	__u64 caller_iseq; /* the frame below it: the caller's iseq and pc */
	__u64 caller_pc;
};

/* What user space tells that program about one thread (map rb_cfp_threads,
 * key: host tid): its execution context and the layout's offsets. */
struct rt_trace_rb_thread {
	__u64 ec;
	__u32 depth;     /* control frames at the last write seen; RT_TRACE_RB_DEPTH_UNKNOWN */
	__u32 ec_cfp, ec_vm_stack, ec_vm_stack_size; /* below 24 (three words read) */
	__u32 cfp_size;  /* at most 64 */
	__u32 cfp_pc, cfp_iseq, cfp_ep;
};

#define RT_TRACE_WRITE_MAX 1024

struct rt_trace_write {
	struct rt_trace_header hdr;
	__u32 fd;
	__u32 nbytes;  /* bytes copied into data */
	__u64 count;   /* bytes the write asked for */
	__u8 data[RT_TRACE_WRITE_MAX];
};

/* What user space tells the Python programs about one process (map
 * py_procs, key: tgid).  Offsets are those of the walker's configuration
 * plus the code object's argument counts and names. */
struct rt_trace_py_config {
	struct rt_walker_config walker;
	__u32 code_argcount;
	__u32 code_kwonlyargcount;
	__u32 code_localsplusnames;
	__u32 frame_localsplus;
	__u32 tuple_items;
	__u32 type_name;  /* PyTypeObject.tp_name */
	__u32 code_flags; /* PyCodeObject.co_flags */
	__u32 pad;
};

/* Per-CPU counters (array map stats) */
enum rt_trace_stat {
	RT_TRACE_STAT_EVENTS,      /* records sent */
	RT_TRACE_STAT_LOST,        /* records lost: the ring buffer was full */
	RT_TRACE_STAT_NO_CONFIG,   /* Python events of a process not configured yet */
	RT_TRACE_STAT_NO_TSTATE,   /* Python events without a thread state */
	RT_TRACE_STAT_READ_FAULT,  /* frame walks cut by a failed read */
	RT_TRACE_STAT_POP_OTHER,   /* fallback: frame clears that are no return (generators freed ...) */
	RT_TRACE_STAT_RB_SAME,     /* Ruby fallback: writes of ec->cfp that kept the depth */
	RT_TRACE_STAT_RB_FAULT,    /* Ruby fallback: writes whose ec or frame did not read */
	RT_TRACE_STAT_MAX,
};

_Static_assert(sizeof(struct rt_trace_header) == 32, "header size");
_Static_assert(sizeof(struct rt_trace_py_frame) == 32, "frame size");

#endif
