/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace` for a CRuby without USDT probes (Debian's stripped
 * libruby-3.3): a hardware write breakpoint (PERF_TYPE_BREAKPOINT) on each
 * thread's ec->cfp carries bpf/trace.bpf.c's rb_cfp_write (threads found
 * by their thread pointer in the VM's thread list).  Every
 * frame push and pop of the VM stores ec->cfp, so each trap reports the new
 * depth and, for a push, the new frame (struct rt_trace_rb_frame); the
 * shadow stack (runtimes/ruby/cfpstack.h) turns the depths into calls and
 * returns, and this file names the frames by reading the target's memory:
 * a method's class path and name from its method entry, a Ruby method's
 * file and first line from its iseq, a C method's place from its caller's
 * pc and line table.  docs/trace.md says what is and is not recorded.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf/trace.skel.h"
#include "layouts/layout.h"
#include "runtimes/process.h"
#include "runtimes/ruby/cfpstack.h"
#include "runtimes/ruby/decode.h"
#include "runtimes/ruby/inspect.h"
#include "rtbpf/trace_internal.h"
#include "bpf/record.h"

/* vm_core.h's frame types (ep[0] & VM_FRAME_MAGIC_MASK), the same from 2.x
 * to 3.4, and the flag of a block run as a method (define_method). */
#define FRAME_MAGIC_METHOD 0x11110001u
#define FRAME_MAGIC_BLOCK  0x22220001u
#define FRAME_FLAG_BMETHOD 0x0040u

#define NAME_MAX_LEN 256
/* line tables read per iseq at most (entries of 8 bytes in 3.3) */
#define INFO_MAX (1u << 20)

/* A method entry's "Class#method" (or "Class.method"), read once. */
struct rb_name {
	uint64_t me;
	char name[NAME_MAX_LEN];
};

/* An iseq's file and line table, read once. */
struct rb_iseq {
	uint64_t iseq;
	uint64_t encoded;    /* its first instruction: pc - encoded is the position */
	int64_t path_id;     /* -1: no path */
	int32_t first_lineno;
	unsigned int index_kind;
	size_t nr_info, index_len;
	uint8_t *info, *index;
};

/* A thread of the target: watched (its breakpoint set), or not found in
 * the VM yet. */
struct rb_task {
	pid_t tid;
	bool watched;
	unsigned int tries;
};

struct rt_rbtrace {
	struct rt_rbproc proc;
	struct rt_layout_ruby l;
	struct rb_task *tasks;
	size_t nr_tasks;
	struct rt_rbstack *stacks;
	size_t nr_stacks;
	struct rb_name *names;
	size_t names_cap, nr_names;
	struct rb_iseq *iseqs;
	size_t iseqs_cap, nr_iseqs;
	uint64_t pushes, pops, unnamed, holds;
	uint64_t last_poll; /* CLOCK_MONOTONIC ns of the last look for threads */
	bool exit_probes; /* rb_exit on libc's exit and _exit */
};

_Static_assert(offsetof(struct rb_name, me) == 0, "addr_find: the key comes first");
_Static_assert(offsetof(struct rb_iseq, iseq) == 0, "addr_find: the key comes first");

static const struct rt_layout *fallback_layout(pid_t pid, struct rt_rbproc *proc)
{
	const struct rt_layout *lv;

	memset(proc, 0, sizeof(*proc));
	if (rt_runtime__inspect(&rt_runtime_ruby, NULL, pid, &proc->base))
		return NULL;
	lv = rt_layout__find(RT_RUNTIME_RUBY, proc->base.major, proc->base.minor, proc->base.patch);
	/* names come from the class itself (3.3), as rt_rbproc__class_path reads them */
	return lv && lv->ruby.classext_classpath != RT_RUBY_NONE ? lv : NULL;
}

bool rt_tracer__rb_fallback_fits(pid_t pid)
{
	struct rt_rbproc proc;

	return fallback_layout(pid, &proc) != NULL;
}

static int open_breakpoint(pid_t tid, uint64_t addr)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = addr,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Stops the target at libc's exit and _exit until its records are written
 * (rb_exit in bpf/trace.bpf.c, rt_tracer__rb_hold), for an end that does
 * not return to the first frame (exit!). */
static int attach_exit(struct tracer *t)
{
	static const char *const fns[] = { "exit", "_exit" };
	char exe[64], libc[PATH_MAX];
	int err = 0;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)t->pid);
	if (rt_trace__find_library(t->pid, exe, "libc.so", libc, sizeof(libc))) {
		fprintf(stderr, "rt-bpf: pid %d maps no libc.so: the methods first called just before "
			"an exit! may be unnamed\n", t->pid);
		return 0;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]) && !err; i++)
		err = rt_tracer__attach_function(t, t->skel->progs.rb_exit, libc, fns[i], false);
	if (!err)
		t->rb->exit_probes = true;
	return err;
}

/* Sets thread @tid's breakpoint on its ec->cfp (@ec its context). */
static int watch_thread(struct tracer *t, pid_t tid, uint64_t ec)
{
	const struct rt_layout_ruby *l = &t->rb->l;
	struct rt_trace_rb_thread th = {
		.ec = ec,
		.depth = RT_TRACE_RB_DEPTH_UNKNOWN,
		.ec_cfp = l->ec_cfp,
		.ec_vm_stack = l->ec_vm_stack,
		.ec_vm_stack_size = l->ec_vm_stack_size,
		.cfp_size = l->cfp_size,
		.cfp_pc = l->cfp_pc,
		.cfp_iseq = l->cfp_iseq,
		.cfp_ep = l->cfp_ep,
	};
	__u32 key = (__u32)tid;
	int fd, err;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.rb_cfp_threads), &key, &th, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot configure the Ruby fallback: %s\n", strerror(errno));
		return err;
	}
	fd = open_breakpoint(tid, ec + l->ec_cfp);
	if (fd < 0) {
		fprintf(stderr, "rt-bpf: cannot open a write breakpoint on ec->cfp (0x%" PRIx64 ") of "
			"thread %d: %s\n", ec + l->ec_cfp, tid, strerror(-fd));
		return fd;
	}
	/* the link owns the event's fd from here on */
	if (!rt_tracer__keep_link(t, bpf_program__attach_perf_event(t->skel->progs.rb_cfp_write, fd))) {
		err = -errno;
		close(fd);
		fprintf(stderr, "rt-bpf: cannot attach to the ec->cfp breakpoint: %s\n", strerror(errno));
		return err;
	}
	if (t->verbose)
		fprintf(stderr, "rt-bpf: watching ec->cfp of thread %d (0x%" PRIx64 ")\n", tid,
			ec + l->ec_cfp);
	return 0;
}

/* Thread @tid's thread pointer (fs_base: glibc's pthread_t), read by
 * stopping it for a moment (ptrace). */
static int task_fsbase(pid_t tid, uint64_t *fsbase)
{
	struct user_regs_struct regs;
	int status = 0, err = 0;
	long sig = 0;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) || waitpid(tid, &status, __WALL) != tid ||
	    !WIFSTOPPED(status) || ptrace(PTRACE_GETREGS, tid, NULL, &regs))
		err = -errno ? -errno : -ESRCH;
	else
		*fsbase = regs.fs_base;
	/* a signal that was being delivered (a hold's SIGSTOP) goes on */
	if (WIFSTOPPED(status) && !(status >> 16))
		sig = WSTOPSIG(status);
	ptrace(PTRACE_DETACH, tid, NULL, (void *)sig);
	return err;
}

static struct rb_task *task_for(struct rt_rbtrace *rb, pid_t tid)
{
	struct rb_task *k;

	for (size_t i = 0; i < rb->nr_tasks; i++)
		if (rb->tasks[i].tid == tid)
			return &rb->tasks[i];
	k = realloc(rb->tasks, (rb->nr_tasks + 1) * sizeof(*k));
	if (!k)
		return NULL;
	rb->tasks = k;
	k = &rb->tasks[rb->nr_tasks++];
	memset(k, 0, sizeof(*k));
	k->tid = tid;
	return k;
}

/* A thread that is no Ruby thread (the timer thread, a C library's) is
 * given up after this many looks. */
#define TASK_TRIES 20

void rt_tracer__rb_poll(struct tracer *t)
{
	struct rt_rbtrace *rb = t->rb;
	char dir[64];
	struct dirent *de;
	DIR *d = NULL;

	struct timespec now;
	uint64_t ns;

	if (!rb)
		return;
	/* run() turns once per ring round: look every 100 ms at most */
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	if (rb->last_poll && ns - rb->last_poll < 100000000u)
		return;
	rb->last_poll = ns;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)t->pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);
		struct rb_task *k;
		uint64_t fsbase = 0, ec = 0;

		if (tid <= 0 || !(k = task_for(rb, tid)) || k->watched || k->tries >= TASK_TRIES)
			continue;
		k->tries++;
		if (task_fsbase(tid, &fsbase) ||
		    rt_rbproc__thread_ec(&rb->proc, &rb->l, fsbase, &ec))
			continue;
		k->watched = !watch_thread(t, tid, ec);
	}
	if (d)
		closedir(d);
}

static bool has_run_node(const uint64_t *values)
{
	return values[0] != 0;
}

static int take_run_node(void *ctx, const struct rt_process_image *img)
{
	*(uint64_t *)ctx = img->bias + img->values[0];
	return 0;
}

/* Lets child @t->pid (-- CMD, stopped at its entry point) run to the entry
 * of ruby_run_node (exported by libruby, or by a static ruby): ruby_setup
 * has made the VM and its main thread, ruby_options has compiled the
 * script (and loaded rubygems), and no line of the script has run. */
static int run_to_run_node(struct tracer *t)
{
	static const struct rt_process_symbol sym = { "ruby_run_node", -1 };
	uint64_t addr = 0;
	struct rt_process_image_opts opts = {
		.lib_name = "libruby", .syms = &sym, .nr_syms = 1,
		.has_symbols = has_run_node, .take = take_run_node, .ctx = &addr,
	};
	int err = rt_process__find_image(t->pid, &opts);

	if (err) {
		fprintf(stderr, "rt-bpf: pid %d: no ruby_run_node in its CRuby: %s\n", t->pid,
			strerror(-err));
		return err;
	}
	err = rt_trace__run_to(t->pid, addr);
	if (err)
		fprintf(stderr, "rt-bpf: pid %d did not reach ruby_run_node (0x%" PRIx64 "): %s\n",
			t->pid, addr, strerror(-err));
	else if (t->verbose)
		fprintf(stderr, "rt-bpf: pid %d stopped at ruby_run_node (0x%" PRIx64 ")\n", t->pid,
			addr);
	return err;
}

int rt_tracer__rb_fallback_attach(struct tracer *t)
{
	struct rt_ruby_walker_config cfg;
	const struct rt_layout *lv;
	struct rt_rbtrace *rb;
	struct rb_task *main_task;
	uint64_t ec = 0;
	int err;

	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	t->rb = rb;
	lv = fallback_layout(t->pid, &rb->proc);
	if (!lv) {
		fprintf(stderr, "rt-bpf: pid %d: no CRuby layout for the breakpoint fallback\n", t->pid);
		return -ENOTSUP;
	}
	rb->l = lv->ruby;
	/* the offsets the walker's checks keep within what rb_cfp_write reads */
	err = rt_rbproc__walker_config(&rb->proc, &rb->l, 0, &cfg);
	if (err) {
		fprintf(stderr, "rt-bpf: pid %d: its CRuby layout does not fit the fallback\n", t->pid);
		return err;
	}
	/* -- CMD: the main thread exists from ruby_run_node on */
	if (t->child && (err = run_to_run_node(t)))
		return err;
	if (rt_rbproc__main_ec(&rb->proc, &rb->l, &ec)) {
		fprintf(stderr, "rt-bpf: pid %d: no main thread in its VM yet\n", t->pid);
		return -EAGAIN;
	}
	if (rt_rbproc__resolve_symbols(&rb->proc, &rb->l))
		fprintf(stderr, "rt-bpf: warning: pid %d: CRuby's symbol table not found: C methods "
			"are unnamed\n", t->pid);
	main_task = task_for(rb, t->pid);
	if (!main_task)
		return -ENOMEM;
	err = watch_thread(t, t->pid, ec);
	if (err)
		return err;
	main_task->watched = true;
	/* the other threads that run already */
	rt_tracer__rb_poll(t);
	err = attach_exit(t);
	if (err)
		return err;
	err = rt_tracer__attach_writes(t);
	if (err)
		return err;
	fprintf(stderr, "rt-bpf: pid %d runs a CRuby %d.%d without USDT probes: falling back to "
		"hardware write breakpoints on its threads' ec->cfp (the main thread's at "
		"0x%" PRIx64 "; threads started later are found within 100 ms): the trace has the "
		"calls and returns of Ruby and C methods; no lines, arguments or return values, no "
		"fibers (docs/trace.md)\n", t->pid, rb->proc.base.major, rb->proc.base.minor,
		ec + rb->l.ec_cfp);
	return 0;
}

/* ---- naming frames ---- */

static struct rt_rbstack *stack_for(struct rt_rbtrace *rb, uint32_t tid)
{
	struct rt_rbstack *s;

	for (size_t i = 0; i < rb->nr_stacks; i++)
		if (rb->stacks[i].tid == tid)
			return &rb->stacks[i];
	s = realloc(rb->stacks, (rb->nr_stacks + 1) * sizeof(*s));
	if (!s)
		return NULL;
	rb->stacks = s;
	s = &rb->stacks[rb->nr_stacks++];
	memset(s, 0, sizeof(*s));
	s->tid = tid;
	return s;
}

static int read_word(const struct rt_rbtrace *rb, uint64_t addr, uint64_t *v)
{
	return rt_process__read(rb->proc.base.pid, addr, v, sizeof(*v));
}

/* The bytes of a table of @n bytes at @addr, NULL when unreadable. */
static uint8_t *read_table(const struct rt_rbtrace *rb, uint64_t addr, size_t n)
{
	uint8_t *buf;

	if (!addr || !n || n > INFO_MAX)
		return NULL;
	buf = malloc(n);
	if (buf && rt_process__read(rb->proc.base.pid, addr, buf, n)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* @iseq's path, first line and line table (what decode.c reads from the
 * walker's code records, read here from the process). */
static const struct rb_iseq *iseq_info(struct tracer *t, struct rt_rbtrace *rb, uint64_t iseq)
{
	const struct rt_layout_ruby *l = &rb->l;
	struct rb_iseq *e = rt_tracer__addr_find((void **)&rb->iseqs, &rb->iseqs_cap, &rb->nr_iseqs,
						 sizeof(*rb->iseqs), 256, iseq, false);
	uint64_t body = 0, pathobj = 0, flags = 0, fl = 0, info = 0, succ = 0, positions = 0;
	uint32_t iseq_size = 0, info_size = 0;
	char path[PATH_MAX];
	pid_t pid = rb->proc.base.pid;

	if (e || !iseq)
		return e;
	e = rt_tracer__addr_find((void **)&rb->iseqs, &rb->iseqs_cap, &rb->nr_iseqs, sizeof(*rb->iseqs),
				 256, iseq, true);
	if (!e)
		return NULL;
	e->path_id = -1;
	if (read_word(rb, iseq + l->iseq_body, &body) || !body ||
	    read_word(rb, body + l->body_iseq_encoded, &e->encoded) ||
	    read_word(rb, body + l->body_location_pathobj, &pathobj) ||
	    read_word(rb, body + l->body_location_first_lineno, &fl) ||
	    read_word(rb, body + l->body_insns_info_body, &info) ||
	    read_word(rb, body + l->body_insns_info_positions, &positions) ||
	    read_word(rb, body + l->body_insns_info_succ_index_table, &succ) ||
	    rt_process__read(pid, body + l->body_iseq_size, &iseq_size, sizeof(iseq_size)) ||
	    rt_process__read(pid, body + l->body_insns_info_size, &info_size, sizeof(info_size)))
		return e;
	e->first_lineno = l->first_lineno_fixnum ? (int32_t)((int64_t)fl >> 1) : (int32_t)fl;
	/* a String, or [path, realpath] */
	if (pathobj && !(pathobj & 7) && !read_word(rb, pathobj, &flags) &&
	    (flags & l->t_mask) == l->t_array) {
		uint64_t ptr = pathobj + l->rarray_embed;

		if (!(flags & l->rarray_embed_flag))
			read_word(rb, pathobj + l->rarray_ptr, &ptr);
		if (read_word(rb, ptr, &pathobj))
			pathobj = 0;
	}
	if (!rt_rbproc__read_string(pid, l, pathobj, path, sizeof(path)))
		e->path_id = rt_tracer__source_path(t, path);
	e->info = read_table(rb, info, (size_t)info_size * l->insn_info_entry_size);
	e->nr_info = e->info ? info_size : 0;
	if (info_size > 1 && positions) {
		e->index_kind = RT_REC_RUBY_INDEX_POSITIONS;
		e->index_len = (size_t)info_size * 4;
		e->index = read_table(rb, positions, e->index_len);
	} else if (info_size > 1 && succ) {
		/* the succinct bit vector over iseq_size positions */
		size_t imm = l->succ_immediate_size, blocks = 0;

		if (iseq_size > imm && l->succ_block_size)
			blocks = (iseq_size - imm + 511) / 512;
		e->index_kind = RT_REC_RUBY_INDEX_SUCCINCT;
		e->index_len = (imm / 9) * 8 + blocks * l->succ_block_size;
		e->index = read_table(rb, succ, e->index_len);
	} else {
		e->index_kind = RT_REC_RUBY_INDEX_NONE;
	}
	if (!e->index)
		e->index_len = 0;
	return e;
}

/* The line @pc of @e is on: its first line when the table does not say. */
static int32_t iseq_line(const struct rt_rbtrace *rb, const struct rb_iseq *e, uint64_t pc)
{
	uint64_t pos = pc > e->encoded ? (pc - e->encoded) / 8 : 0;
	int line;

	if (!e->info || (e->index_kind != RT_REC_RUBY_INDEX_NONE && !e->index) || pos > UINT32_MAX)
		return e->first_lineno;
	/* pc points past the instruction being run */
	line = rt_ruby_linetable__line(e->info, e->nr_info, rb->l.insn_info_entry_size,
				       rb->l.insn_info_line_no, e->index_kind, e->index, e->index_len,
				       rb->l.succ_immediate_size, rb->l.succ_block_size,
				       (uint32_t)(pos ? pos - 1 : 0));
	return line > 0 ? line : e->first_lineno;
}

/* "Class#method" of method entry @me ("Class.method" for a singleton
 * class's), its original name as TracePoint's method_id gives it. */
static const char *method_name(struct rt_rbtrace *rb, uint64_t me)
{
	const struct rt_layout_ruby *l = &rb->l;
	struct rb_name *e = rt_tracer__addr_find((void **)&rb->names, &rb->names_cap, &rb->nr_names,
						 sizeof(*rb->names), 256, me, false);
	char klass[NAME_MAX_LEN / 2] = "?", method[NAME_MAX_LEN / 2] = "?";
	uint64_t owner = 0, def = 0, id = 0;
	bool singleton = false;

	if (e)
		return e->name;
	e = rt_tracer__addr_find((void **)&rb->names, &rb->names_cap, &rb->nr_names, sizeof(*rb->names),
				 256, me, true);
	if (!e)
		return "?";
	if (!read_word(rb, me + l->me_owner, &owner) &&
	    rt_rbproc__class_path(&rb->proc, l, owner, klass, sizeof(klass), &singleton))
		snprintf(klass, sizeof(klass), "?");
	if (l->me_def != RT_RUBY_NONE && l->def_original_id != RT_RUBY_NONE &&
	    !read_word(rb, me + l->me_def, &def) && def)
		read_word(rb, def + l->def_original_id, &id);
	if (!id)
		read_word(rb, me + l->me_called_id, &id);
	if (rt_rbproc__id_name(&rb->proc, l, id, method, sizeof(method))) {
		snprintf(method, sizeof(method), "?");
		rb->unnamed++;
	}
	snprintf(e->name, sizeof(e->name), "%s%s%s", klass, singleton ? "." : "#", method);
	return e->name;
}

/* Describes the frame @rec pushed, with its function when it is a method's;
 * @below: the frame under it on the shadow stack (NULL: none known). */
static void describe(struct tracer *t, struct rt_rbtrace *rb, const struct rt_trace_rb_frame *rec,
		     const struct rt_rbstack_frame *below, struct rt_rbstack_frame *top)
{
	const struct rt_layout_ruby *l = &rb->l;
	uint32_t magic = (uint32_t)rec->flags & l->frame_magic_mask;
	const struct rb_iseq *own = rec->iseq ? iseq_info(t, rb, rec->iseq) : NULL;
	/* copied: the next iseq_info may move the table */
	int64_t own_path = own ? own->path_id : -1;
	int32_t own_line = own ? own->first_lineno : 0;

	top->function_id = RT_RBSTACK_NOT_CALL;
	top->path_id = below ? below->path_id : -1;
	top->line = below ? below->line : 0;
	if (magic == l->frame_magic_cfunc && rec->me) {
		/* a C method is where its caller is: the caller's line */
		const struct rb_iseq *caller = rec->caller_iseq ? iseq_info(t, rb, rec->caller_iseq) : NULL;

		if (caller && caller->path_id >= 0) {
			top->path_id = caller->path_id;
			top->line = iseq_line(rb, caller, rec->caller_pc);
		}
		if (top->path_id < 0)
			top->path_id = rt_tracer__source_path(t, "<C>");
	} else if ((magic == FRAME_MAGIC_METHOD ||
		    (magic == FRAME_MAGIC_BLOCK && (rec->flags & FRAME_FLAG_BMETHOD))) && rec->me && own) {
		top->path_id = own_path;
		top->line = own_line;
	} else {
		if (own_path >= 0) {
			top->path_id = own_path;
			top->line = own_line;
		}
		return;
	}
	if (top->path_id >= 0)
		top->function_id = rt_ctrace__function(t->out, (uint32_t)top->path_id, top->line,
						       method_name(rb, rec->me));
	if (top->function_id < 0)
		top->function_id = RT_RBSTACK_NOT_CALL;
}

static void on_call(void *ctx, uint32_t tid, const struct rt_rbstack_frame *f)
{
	struct tracer *t = ctx;

	(void)tid;
	t->calls++;
	rt_ctrace__call(t->out, (uint32_t)f->function_id, NULL, 0);
	rt_ctrace__step(t->out, (uint32_t)f->path_id, f->line);
}

static void on_return(void *ctx, uint32_t tid, const struct rt_rbstack_frame *f)
{
	struct tracer *t = ctx;
	struct rt_ctrace_value v = { .kind = RT_CTRACE_VALUE_NONE };

	(void)tid;
	(void)f;
	v.type_id = (uint32_t)t->noreturn_type;
	t->returns++;
	rt_ctrace__return(t->out, &v);
}

void rt_tracer__rb_frame(struct tracer *t, const struct rt_trace_rb_frame *rec)
{
	struct rt_rbtrace *rb = t->rb;
	struct rt_rbstack_ops ops = { .call = on_call, .ret = on_return, .ctx = t };
	struct rt_rbstack_frame top = { .function_id = RT_RBSTACK_NOT_CALL, .path_id = -1 };
	struct rt_rbstack *s;

	if (!rb || !(s = stack_for(rb, rec->hdr.tid)))
		return;
	t->rb_events++;
	rt_tracer__thread_mark(t, rec->hdr.tid);
	rt_tracer__lost_mark(t, &rec->hdr);
	if (rec->prev_depth != RT_TRACE_RB_DEPTH_UNKNOWN && rec->depth > rec->prev_depth) {
		rb->pushes++;
		describe(t, rb, rec, rt_rbstack__at(s, rec->depth - 1), &top);
	} else {
		rb->pops++;
	}
	rt_rbstack__move(s, rec->prev_depth, rec->depth, &top, &ops);
}

/* Whether thread @tid of process @pid is stopped (state T in its stat). */
static bool stopped(pid_t pid, pid_t tid)
{
	char path[96], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'T';
}

void rt_tracer__rb_hold(struct tracer *t, const struct rt_trace_header *hdr)
{
	struct timespec pause = { .tv_nsec = 1000000 };

	if (t->rb)
		t->rb->holds++;
	/* the SIGSTOP may still be on its way (rb_hold): a SIGCONT before it
	 * would leave the target stopped for good */
	for (int i = 0; i < 200 && !stopped(t->pid, (pid_t)hdr->tid); i++)
		nanosleep(&pause, NULL);
	kill(t->pid, SIGCONT);
}

void rt_tracer__rb_fallback_finish(struct tracer *t)
{
	/* before rt_ctrace__close: it writes the returns of open frames */
	struct rt_rbtrace *rb = t->rb;
	uint64_t unmatched = 0, resyncs = 0;

	if (!rb)
		return;
	for (size_t i = 0; i < rb->nr_stacks; i++) {
		struct rt_rbstack_ops ops = { .call = on_call, .ret = on_return, .ctx = t };

		/* frames still running when the trace ends (Ctrl-C on -p) */
		if (rb->stacks[i].depth) {
			rt_tracer__thread_mark(t, rb->stacks[i].tid);
			rt_rbstack__finish(&rb->stacks[i], &ops);
		}
		unmatched += rb->stacks[i].unmatched;
		resyncs += rb->stacks[i].resyncs;
		rt_rbstack__release(&rb->stacks[i]);
	}
	if (rb->pushes || rb->pops)
		fprintf(stderr, "rt-bpf: Ruby fallback: %" PRIu64 " frame pushes, %" PRIu64 " pops; %"
			PRIu64 " returns of frames entered before tracing began%s; stopped %" PRIu64
			" times until read\n", rb->pushes, rb->pops, unmatched,
			resyncs ? " (and records lost: see above)" : "", rb->holds);
	if (rb->unnamed)
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " Ruby methods without a name (\"?\")\n",
			rb->unnamed);
	/* stopped after the last record was read (interrupted) */
	if (rb->exit_probes && stopped(t->pid, t->pid))
		kill(t->pid, SIGCONT);
	for (size_t i = 0; i < rb->iseqs_cap; i++) {
		free(rb->iseqs[i].info);
		free(rb->iseqs[i].index);
	}
	free(rb->iseqs);
	free(rb->names);
	free(rb->stacks);
	free(rb->tasks);
	free(rb);
	t->rb = NULL;
}
