/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of `rt-bpf trace` share: the tracer's state, and the
 * functions of its target side (rtbpf/trace_target.c: finding the runtime,
 * starting and configuring the target, attaching the probes) and of its
 * record writer (rtbpf/trace_records.c: BPF records to CodeTracer's trace).
 * rtbpf/trace.c is the subcommand: its options and its run.
 */
#ifndef RTBPF_TRACE_INTERNAL_H
#define RTBPF_TRACE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/trace.h"
#include "layouts/layout.h"
#include "rtbpf/codetracer.h"
#include "runtimes/python/frames.h"

enum runtime {
	RUNTIME_NONE,
	RUNTIME_PYTHON,
	RUNTIME_RUBY,
};

/* What is known of a code object from its RT_TRACE_PY_CODE record. */
struct code_info {
	uint64_t code;
	int64_t path_id, function_id;
	uint32_t nr_args;
	int64_t arg_vars[RT_TRACE_MAX_ARGS];
	uint32_t firstlineno, firsttraceable;
	/* its first instruction after RESUME is on the def line, where the
	 * line probe (unlike sys.settrace) does not fire: see rt_tracer__py_call */
	bool starts_on_def_line;
	bool generator;       /* generator, coroutine or async generator code */
};

/* A type object's name (RT_TRACE_PY_TYPE). */
struct type_info {
	uint64_t type;
	char name[RT_TRACE_TYPE_NAME_MAX];
};

/* Arguments read for a thread's next event; the value its eval loop
 * returned, for its next EVAL_EXIT event. */
struct pending_args {
	uint32_t tid;
	bool valid;
	struct rt_trace_py_args rec;
	bool ret_valid;
	struct rt_trace_py_arg ret;
};

/* A Ruby method on a thread's shadow stack (for the return's check). */
struct rb_thread {
	uint32_t tid;
	size_t depth;
};

struct rt_rbtrace;
struct bpf_program;
struct bpf_link;

struct tracer {
	struct trace_bpf *skel;
	struct ring_buffer *ring;
	struct rt_ctrace *out;
	struct rt_pyframes *frames;
	enum runtime runtime;
	pid_t pid;
	bool child;           /* pid is our child (-- CMD) */
	int root_fd;          /* the target's root directory, kept past its exit */
	char cwd[PATH_MAX];   /* the target's working directory, as it sees it */
	const struct rt_layout *layout;
	struct rt_layout py_layout;
	/* code and type objects by address: open addressing, power-of-two sizes */
	struct code_info *codes;
	size_t codes_cap, nr_codes;
	struct type_info *types;
	size_t types_cap, nr_types;
	struct pending_args *pending;
	size_t nr_pending;
	struct rb_thread *rb_threads;
	size_t nr_rb_threads;
	uint32_t last_tid;
	/* CPython without USDT probes: uprobes on the eval loop (docs/trace.md) */
	bool py_fallback;
	bool py_old_frames;   /* <= 3.10: PyFrameObjects, one eval call per frame */
	int py_major, py_minor;
	/* at an EVAL_EXIT event: the value, for the frame returning to ret_caller */
	const struct rt_trace_py_arg *ret;
	uint64_t ret_caller;
	int py_yields;        /* uprobes on YIELD_VALUE's code (3.12+) */
	uint32_t probe;       /* the Python event being applied */
	int32_t line;
	int64_t unknown_type, noreturn_type;
	/* counts */
	uint64_t py_events, rb_events, writes, lost_marked, calls, returns, rb_unmatched;
	uint64_t rb_method_entries, rb_cmethod_entries;
	struct bpf_link **links; /* the probes attached, destroyed at the end */
	size_t nr_links;
	/* CRuby without USDT probes: a write breakpoint on ec->cfp (rtbpf/trace_ruby.c) */
	struct rt_rbtrace *rb;
	bool verbose;
};

/* ---- the target (rtbpf/trace_target.c) ---- */

/* Whether ELF file @path (a /proc link or a path in this root) has USDT
 * probe @provider:@name. */
bool rt_trace__elf_has_probe(const char *path, const char *provider, const char *name);

/* Starts @argv stopped right after its exec (ptrace), so that the probes
 * are attached before its first instruction.  Returns the pid or -errno. */
pid_t rt_trace__start_stopped(char **argv);

/* Lets child @pid, stopped at its exec, run to the entry point (as
 * rt_trace__run_to_entry) of the first executable that is a CPython or a
 * CRuby, following its execs (a wrapper such as chroot or env execs it):
 * 0, -ESRCH when it ended before (it is then reaped), -ELOOP after too
 * many execs, or another -errno. */
int rt_trace__run_to_interpreter(pid_t pid);

/* Lets child @pid, stopped under ptrace, run until its pc reaches @addr,
 * where it is left stopped: 0 or -errno. */
int rt_trace__run_to(pid_t pid, uint64_t addr);

/* Lets child @pid, stopped at its exec, run to its executable's entry
 * point, where its libraries are mapped and none of its code has run:
 * 0 or -errno. */
int rt_trace__run_to_entry(pid_t pid);

/* Which runtime process @pid runs and the ELF file with its probes, into
 * @probes. */
enum runtime rt_trace__find_runtime(pid_t pid, char *probes, size_t size);

/* The ELF file of the target's CPython eval loop (its executable or its
 * libpython, as mapped) for the fallback: 0 or -ENOENT. */
int rt_trace__find_eval_loop(pid_t pid, char *path, size_t size);

/* The shared library whose name starts with @prefix as process @pid maps
 * it (a /proc/PID/map_files link), or, before the dynamic loader ran, the
 * one its executable @exe needs, in its root: 0 or -ENOENT. */
int rt_trace__find_library(pid_t pid, const char *exe, const char *prefix, char *out, size_t size);

/* Keeps @link (NULL: returned as is, errno kept) for the end of the
 * trace, which destroys it: returns @link. */
struct bpf_link *rt_tracer__keep_link(struct tracer *t, struct bpf_link *link);

/* Attaches @prog as a uprobe (a uretprobe: @ret) to function @fn of ELF
 * file @path in @t's target: 0 or -errno (said on stderr). */
int rt_tracer__attach_function(struct tracer *t, struct bpf_program *prog, const char *path,
			       const char *fn, bool ret);

/* Configures the Python programs for @t's target: 0 or -errno (said on
 * stderr). */
int rt_tracer__configure_python(struct tracer *t);

/* Attaches @t's programs to the probes (or the fallback's uprobes) in ELF
 * file @path, and to the write tracepoint: 0 or -errno (said on stderr). */
int rt_tracer__attach(struct tracer *t, const char *path);

/* Sets @t->cwd: the target's working directory as it sees it. */
void rt_tracer__target_cwd(struct tracer *t);

/* ---- CRuby without USDT probes (rtbpf/trace_ruby.c) ---- */

/* Whether process @pid runs a CRuby that the ec->cfp breakpoint can trace
 * (a layout that names classes from the class itself, 3.3). */
bool rt_tracer__rb_fallback_fits(pid_t pid);

/* Sets up the fallback for @t's target (the skeleton loaded): the ec->cfp
 * write breakpoints of its threads with rb_cfp_write on them, the exit
 * probes and the write tracepoint: 0 or -errno (said on stderr). */
int rt_tracer__rb_fallback_attach(struct tracer *t);

/* Sets the breakpoints of the target's Ruby threads not watched yet
 * (found in the VM's thread list by their thread pointer), from run()'s
 * loop: a thread started later is traced from there on. */
void rt_tracer__rb_poll(struct tracer *t);

/* One RT_TRACE_RB_FRAME record into the trace. */
void rt_tracer__rb_frame(struct tracer *t, const struct rt_trace_rb_frame *rec);

/* The target is stopped (RT_TRACE_RB_HOLD: its script ended, or it calls
 * exit) until every earlier record is written, which they are now: lets
 * it go on. */
void rt_tracer__rb_hold(struct tracer *t, const struct rt_trace_header *hdr);

/* Returns the frames still open (the trace ends: before the writer is
 * closed), says what the fallback saw (on stderr) and frees it. */
void rt_tracer__rb_fallback_finish(struct tracer *t);

/* ---- the record writer (rtbpf/trace_records.c) ---- */

/* An open-addressing table of @size-byte entries that begin with their
 * non-zero uint64_t key: the entry of @key in *@slots (@cap slots, @nr
 * used), added when @add (doubled from @first_cap when half full); NULL
 * when absent or out of memory. */
void *rt_tracer__addr_find(void **slots, size_t *cap, size_t *nr, size_t size, size_t first_cap,
			   uint64_t key, bool add);

/* The path id of source @name as the target named it (relative: from its
 * working directory), its file copied into files/ the first time; -1 on
 * failure. */
int64_t rt_tracer__source_path(struct tracer *t, const char *name);

/* Attaches the programs that record the target's write and writev to fds
 * 1 and 2.  0 or -errno, said. */
int rt_tracer__attach_writes(struct tracer *t);

/* A TraceLogEvent when the records move to thread @tid. */
void rt_tracer__thread_mark(struct tracer *t, uint32_t tid);

/* An Error event for the records of @hdr's thread lost before it. */
void rt_tracer__lost_mark(struct tracer *t, const struct rt_trace_header *hdr);

/* A frame was called / returned (struct rt_pyframes_ops's call and ret,
 * @ctx the tracer). */
void rt_tracer__py_call(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e, int newest);
void rt_tracer__py_return(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e);

/* The trace ends (the target exited, or rt-bpf was stopped): a TraceLog
 * Event "end", then the Returns of the frames still running, each thread's
 * after its thread Event; before rt_ctrace__close. */
void rt_tracer__end(struct tracer *t);

/* One record from the ring buffer (ring_buffer_sample_fn, @ctx the
 * tracer): written into the trace. */
int rt_tracer__on_record(void *ctx, void *data, size_t size);

#endif
