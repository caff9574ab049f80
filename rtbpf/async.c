/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf async: attaches bpf/async.bpf.c to one asyncio process, collects
 * its blocking steps (naming their tasks and stacks while the process
 * lives) and, when the target exits or at Ctrl-C, prints the report and
 * writes the JSON of docs/async.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/async.h"
#include "bpf/async.skel.h"
#include "layouts/layout.h"
#include "perfglue/grow.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"
#include "rtbpf/nativestack.h"
#include "rtbpf/rtbpf.h"
#include "runtimes/decode.h"
#include "runtimes/python/inspect.h"
#include "runtimes/python/asyncio.h"
#include "runtimes/rust/tokio.h"
#include "rtbpf/asyncps.h"
#include "rtbpf/asynctarget.h"
#include "rtmerge/offcpu.h"

#define NAME_MAX_LEN 160
#define REPORT_WORST 10
#define REPORT_TASKS 15

struct task_name {
	uint64_t task; /* 0: empty slot */
	char name[NAME_MAX_LEN];
};

struct blocking {
	struct rt_async_blocking ev;
	char task[NAME_MAX_LEN];
	uint32_t delayed;   /* timers that came due while it ran */
	uint64_t added_ns;  /* delay it added to them */
	char **frames;      /* leaf first */
	size_t nr_frames;
	bool preempted;     /* over the threshold only by waiting for a CPU */
	bool attaching;     /* began before the probes were all in place */
};

/* A thread's latest native stack copy (tokio): a blocking step's stack when
 * it has that step's start; replaced by the thread's next copy (one per
 * thread seen, freed at the end). */
struct pending_ustack {
	uint32_t tid;
	struct rt_async_ustack *copy;
};

struct task_row {
	struct rt_async_task_key key;
	struct rt_async_task_stats st;
	const char *name;
	uint32_t blocking, preempted;
};

struct kind_row {
	char kind[NAME_MAX_LEN];
	uint64_t tasks, steps, step_ns, max_step_ns, sched_ns, delayed_steps, blocking, preempted;
	uint64_t pending_ns;
};

/* What the report shows: the blocking steps by duration, the steps slow
 * only for want of a CPU, the tasks by time in steps, their kinds. */
struct report {
	struct blocking **blocking, **preempted, **attaching;
	size_t nr_blocking, nr_preempted, nr_attaching;
	struct task_row *rows;
	size_t nr_rows;
	struct kind_row *kinds;
	size_t nr_kinds;
	uint64_t counters[RT_ASYNC_STAT_MAX]; /* the program's, summed over the CPUs */
};

struct async_app {
	unsigned int threshold_ms, sample_hz;
	const char *json;
	FILE *json_file; /* opened before tracing: a path it cannot write fails first */
	bool verbose;
	bool own_child;
	bool reaped;      /* own_child's exit status is in child_status */
	int child_status;

	struct rt_async_target t; /* pid, runtime, probes, walker configuration, links */

	struct async_bpf *skel;
	struct ring_buffer *rb;
	int *perf_fds;
	int nr_perf_fds;
	struct rt_interp_decoder *dec;

	struct task_name *names; /* open addressing, a power of two */
	size_t names_cap, nr_names;
	struct blocking *blocks;
	size_t nr_blocks, blocks_cap;
	uint64_t attach_ns, end_ns;

	struct rt_native_stack *native;   /* tokio: names the native stacks */
	struct pending_ustack *ustacks;   /* by thread */
	size_t nr_ustacks, cap_ustacks;
	uint64_t ustacks_named, ustacks_failed;
};

static volatile sig_atomic_t stop_requested, signals, from_terminal;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	stop_requested = sig;
	signals++;
	from_terminal = si && si->si_code == SI_KERNEL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- task names ---- */

static struct task_name *name_slot(struct async_app *app, uint64_t task)
{
	size_t mask = app->names_cap - 1, i = rt_hash64(task) & mask;

	while (app->names[i].task && app->names[i].task != task)
		i = (i + 1) & mask;
	return &app->names[i];
}

static int names_grow(struct async_app *app)
{
	size_t old_cap = app->names_cap, cap = old_cap ? old_cap * 2 : 1024;
	struct task_name *old = app->names;

	app->names = calloc(cap, sizeof(*app->names));
	if (!app->names) {
		app->names = old;
		return -ENOMEM;
	}
	app->names_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].task)
			*name_slot(app, old[i].task) = old[i];
	free(old);
	return 0;
}

/* The name of @task as first read; NULL when never read. */
static const char *task_name(struct async_app *app, uint64_t task)
{
	struct task_name *n;

	if (!app->names_cap)
		return NULL;
	n = name_slot(app, task);
	return n->task ? n->name : NULL;
}

/* Reads @task's name while it lives (a task's address can be reused by a
 * later task: the name is read again then, from its first step). */
static void remember_task(struct async_app *app, uint64_t task, uint32_t kind)
{
	struct task_name *n;

	if (app->nr_names * 2 >= app->names_cap && names_grow(app))
		return;
	n = name_slot(app, task);
	if (app->t.runtime == RT_ASYNC_TOKIO) {
		/* a tokio task is named by its future's type, the poll function's */
		snprintf(n->name, sizeof(n->name), "%s",
			 kind < app->t.tokio.nr_polls ? app->t.tokio.polls[kind].future : "?");
	} else if (rt_asyncio__task_name(app->t.pid, &app->t.cfg.off, &app->t.layout, task, n->name,
					 sizeof(n->name)))
		snprintf(n->name, sizeof(n->name), "task 0x%" PRIx64, task);
	/* the target's memory, for a terminal: no control characters */
	rt_safefile__sanitize(n->name);
	if (!n->task)
		app->nr_names++;
	n->task = task;
}

/* ---- blocking steps ---- */

/* Decodes the frames walked during @b's step, reading their code objects
 * from the process (it still lives: the step just ended). */
static void blocking_stack(struct async_app *app, struct blocking *b)
{
	const struct rt_async_step *s = &b->ev.step;
	struct {
		struct rt_rec_stack st;
		struct rt_rec_frame fr[RT_ASYNC_MAX_FRAMES];
	} rec;
	struct rt_rec_code code;
	struct rt_interp_stack out;
	uint32_t n = s->nr_frames < RT_ASYNC_MAX_FRAMES ? s->nr_frames : RT_ASYNC_MAX_FRAMES;

	memset(&rec, 0, sizeof(rec));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t tag = 0;

		if (s->frames[i].code &&
		    !rt_asyncio__code_record(app->t.pid, &app->t.cfg.off, app->t.version, s->frames[i].code,
					     &code) &&
		    rt_interp_decoder__feed(app->dec, &code, sizeof(code), UINT32_MAX, UINT32_MAX,
					    &out) == 0)
			tag = code.tag;
		rec.fr[i].code = s->frames[i].code;
		rec.fr[i].lasti = s->frames[i].lasti;
		rec.fr[i].flags = s->frames[i].flags | tag << RT_REC_FRAME_TAG_SHIFT;
	}
	rec.st.hdr.magic = RT_REC_MAGIC;
	rec.st.hdr.version = RT_REC_VERSION;
	rec.st.hdr.type = RT_REC_STACK;
	rec.st.hdr.size = (uint32_t)(sizeof(rec.st) + n * sizeof(rec.fr[0]));
	rec.st.pid = b->ev.pid;
	rec.st.tid = b->ev.tid;
	rec.st.runtime = RT_REC_RUNTIME_CPYTHON;
	rec.st.version = app->t.version;
	rec.st.nr_frames = n;
	rec.st.flags = s->stack_flags;
	if (!n || rt_interp_decoder__feed(app->dec, &rec, rec.st.hdr.size, UINT32_MAX, UINT32_MAX,
					  &out) != 1)
		return;
	b->frames = calloc(out.nr_frames ? out.nr_frames : 1, sizeof(*b->frames));
	if (!b->frames)
		return;
	for (size_t i = 0; i < out.nr_frames; i++) {
		const struct rt_interp_frame *f = &out.frames[out.nr_frames - 1 - i];
		char *line = NULL;

		if (asprintf(&line, "%s (%s:%d)", f->function, f->file, f->line) < 0)
			break;
		rt_safefile__sanitize(line);
		b->frames[b->nr_frames++] = line;
	}
}

/* Keeps the native stack copy @ev of its thread's running step: the last
 * one taken before the step ends is its stack. */
static void keep_ustack(struct async_app *app, const struct rt_async_ustack *ev)
{
	struct pending_ustack *p = NULL;

	if (ev->size > RT_ASYNC_USTACK_MAX)
		return;
	for (size_t i = 0; i < app->nr_ustacks && !p; i++)
		if (app->ustacks[i].tid == ev->tid)
			p = &app->ustacks[i];
	if (!p) {
		if (RT_ARRAY_GROW(app->ustacks, app->cap_ustacks, app->nr_ustacks + 1, 16))
			return;
		p = &app->ustacks[app->nr_ustacks++];
		p->tid = ev->tid;
		p->copy = malloc(sizeof(*p->copy));
		if (!p->copy) {
			app->nr_ustacks--;
			return;
		}
	}
	memcpy(p->copy, ev, offsetof(struct rt_async_ustack, data) + ev->size);
}

/* Unwinds and names the native stack taken during @b's step, while the
 * process lives (its step just ended). */
static void blocking_native_stack(struct async_app *app, struct blocking *b)
{
	const struct rt_async_ustack *u = NULL;
	struct rt_native_stack_copy copy;
	int err;

	for (size_t i = 0; i < app->nr_ustacks && !u; i++)
		if (app->ustacks[i].tid == b->ev.tid &&
		    app->ustacks[i].copy->start_ns == b->ev.step.start_ns)
			u = app->ustacks[i].copy;
	if (!u || !app->native)
		return;
	copy = (struct rt_native_stack_copy){ .regs = (const uint64_t *)u->regs, .regs_mask = RT_ASYNC_UREGS_MASK,
					      .stack = u->data, .size = u->size,
					      .ret_stack = (const uint64_t *)u->ret_stack,
					      .ret_addr = (const uint64_t *)u->ret_addr,
					      .nr_returns = u->nr_returns < RT_ASYNC_MAX_RETURNS ?
							    u->nr_returns : RT_ASYNC_MAX_RETURNS };
	err = rt_native_stack__frames(app->native, &copy, &b->frames, &b->nr_frames);
	if (err) {
		app->ustacks_failed++;
		if (app->verbose)
			fprintf(stderr, "rt-bpf async: cannot unwind the stack of a blocking poll of "
				"thread %u: %s\n", b->ev.tid, strerror(-err));
	} else {
		app->ustacks_named++;
	}
}

static void add_blocking(struct async_app *app, const struct rt_async_blocking *ev)
{
	struct blocking *b;
	const char *name;

	if (app->nr_blocks == app->blocks_cap) {
		size_t cap = app->blocks_cap ? app->blocks_cap * 2 : 64;
		struct blocking *grown = realloc(app->blocks, cap * sizeof(*grown));

		if (!grown)
			return;
		app->blocks = grown;
		app->blocks_cap = cap;
	}
	b = &app->blocks[app->nr_blocks++];
	memset(b, 0, sizeof(*b));
	b->ev = *ev;
	b->preempted = ev->end_ns - ev->step.start_ns - ev->step.run_delay_ns <
		       (uint64_t)app->threshold_ms * 1000000ull;
	/* installing uprobes write-locks the target's address space while it
	 * runs: a step begun before the last one was in place may have waited
	 * on rt-bpf, so it is reported apart and not blamed on its task */
	b->attaching = app->attach_ns && ev->step.start_ns < app->attach_ns;
	name = task_name(app, ev->step.task);
	if (!name) {
		remember_task(app, ev->step.task, ev->step.kind);
		name = task_name(app, ev->step.task);
	}
	snprintf(b->task, sizeof(b->task), "%s", name ? name : "?");
	if (app->t.runtime == RT_ASYNC_ASYNCIO)
		blocking_stack(app, b);
	else
		blocking_native_stack(app, b);
}

/* A timer that waited behind blocking step @ev->seq of its thread. */
static void add_late(struct async_app *app, const struct rt_async_late *ev)
{
	for (size_t i = app->nr_blocks; i-- > 0;) {
		struct blocking *b = &app->blocks[i];

		if (b->ev.tid == ev->tid && b->ev.seq == ev->seq) {
			b->delayed++;
			b->added_ns += ev->added_ns;
			return;
		}
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct async_app *app = ctx;
	uint32_t type;

	if (size < sizeof(type))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (type == RT_ASYNC_EVENT_TASK && size >= sizeof(struct rt_async_task))
		remember_task(app, ((const struct rt_async_task *)data)->task,
			      ((const struct rt_async_task *)data)->kind);
	else if (type == RT_ASYNC_EVENT_BLOCKING && size >= sizeof(struct rt_async_blocking))
		add_blocking(app, data);
	else if (type == RT_ASYNC_EVENT_LATE && size >= sizeof(struct rt_async_late))
		add_late(app, data);
	else if (type == RT_ASYNC_EVENT_USTACK && size >= sizeof(struct rt_async_ustack))
		keep_ustack(app, data);
	return 0;
}

/* ---- the target ---- */

static pid_t start_command(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int err = -rt_bpf__execvp(argv);

		fprintf(stderr, "rt-bpf async: cannot run %s: %s\n", argv[0], strerror(err));
		_exit(127);
	}
	return pid;
}

/* Whether the target has ended (reaping it when it is ours). */
static bool target_gone(struct async_app *app)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool gone = true;

	if (app->own_child) {
		/* once reaped its pid may be another process's */
		if (!app->reaped && waitpid(app->t.pid, &app->child_status, WNOHANG) == app->t.pid)
			app->reaped = true;
		return app->reaped;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", app->t.pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		gone = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return gone;
}

/* Waits until the target runs a runtime rt-bpf async knows. */
static bool app_stopped(void *ctx)
{
	return stop_requested != 0;
}

static int wait_for_runtime(struct async_app *app)
{
	int err;

	if (app->verbose)
		fprintf(stderr, "rt-bpf async: waiting for pid %d to import asyncio (or run tokio)\n",
			app->t.pid);
	err = rt_async_target__wait(&app->t, app_stopped, NULL);
	if (err == -ESRCH && stop_requested)
		fprintf(stderr, "rt-bpf async: stopped before pid %d ran asyncio's C accelerator "
			"(_asyncio) or tokio\n", app->t.pid);
	else if (err == -ESRCH)
		fprintf(stderr, "rt-bpf async: pid %d ended before it ran asyncio's C accelerator "
			"(_asyncio) or tokio%s\n", app->t.pid, app->own_child ? " (its children are "
			"not followed: give the interpreter itself as CMD, or exec it)" : "");
	else if (err == -ENOTSUP)
		fprintf(stderr, "rt-bpf async: pid %d runs neither a CPython nor tokio: rt-bpf async "
			"traces asyncio (CPython 3.11-3.13) and tokio programs\n", app->t.pid);
	else if (err)
		fprintf(stderr, "rt-bpf async: cannot inspect pid %d: %s\n", app->t.pid,
			strerror(-err));
	return err;
}

/* ---- BPF ---- */

/* The CPU-time sampler: one cpu-clock event per CPU. */
static int open_sampler(struct async_app *app)
{
	int nr = libbpf_num_possible_cpus();
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = app->sample_hz,
	};

	if (nr <= 0)
		return nr;
	app->perf_fds = calloc((size_t)nr, sizeof(int));
	if (!app->perf_fds)
		return -ENOMEM;
	for (int cpu = 0; cpu < nr; cpu++) {
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		struct bpf_link *link;

		if (fd < 0)
			continue; /* an offline CPU */
		app->perf_fds[app->nr_perf_fds++] = fd;
		link = bpf_program__attach_perf_event(app->skel->progs.async_sample, fd);
		if (rt_async_target__keep_link(&app->t, link, "the CPU-time sampler"))
			return -1;
	}
	return 0;
}

static int load_and_attach(struct async_app *app)
{
	struct async_bpf *skel = async_bpf__open();
	__u32 key = (__u32)app->t.pid;
	int err;

	if (!skel) {
		fprintf(stderr, "rt-bpf async: cannot open the BPF program: %s\n", strerror(errno));
		return -errno;
	}
	app->skel = skel;
	skel->rodata->threshold_ns = (uint64_t)app->threshold_ms * 1000000ull;
	skel->rodata->native_stacks = app->t.runtime == RT_ASYNC_TOKIO;
	memcpy((void *)&skel->rodata->aoff, &app->t.layout.bpf, sizeof(app->t.layout.bpf));
	err = async_bpf__load(skel);
	if (err) {
		fprintf(stderr, "rt-bpf async: cannot load the BPF program: %s\n", strerror(-err));
		return err;
	}
	if (app->t.runtime == RT_ASYNC_ASYNCIO &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.pids), &key, &app->t.cfg, BPF_ANY))
		return -errno;
	err = rt_async_target__attach(&app->t, skel, true);
	if (!err)
		err = rt_async_target__keep_link(&app->t, bpf_program__attach(skel->progs.async_sys_enter), "sys_enter");
	if (!err)
		err = rt_async_target__keep_link(&app->t, bpf_program__attach(skel->progs.async_sys_exit), "sys_exit");
	if (!err)
		err = open_sampler(app);
	if (err)
		return err;
	app->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, app, NULL);
	if (!app->rb)
		return -errno;
	app->attach_ns = now_ns();
	return 0;
}

static void detach(struct async_app *app)
{
	rt_async_target__detach(&app->t);
	for (int i = 0; i < app->nr_perf_fds; i++)
		close(app->perf_fds[i]);
	app->nr_perf_fds = 0;
}

/* ---- the report ---- */

static const char *runtime_name(const struct async_app *app)
{
	return app->t.runtime == RT_ASYNC_TOKIO ? "tokio" : "asyncio";
}

/* The name of x86_64 system call @nr (rtmerge's table, from the kernel's
 * headers), or NULL. */
static const char *syscall_name(uint32_t nr)
{
	char buf[16];
	const char *name = rt_offcpu__syscall_name(nr, buf, sizeof(buf));

	return name == buf ? NULL : name;
}

static bool sleep_syscall(uint32_t nr)
{
	return nr == 35 || nr == 230 || nr == 23 || nr == 270;
}

/* What blocking_advice() says, per runtime: printf formats for a sleep and
 * for a blocking system call (the call's name, its ms), for many system
 * calls (their ms), for CPU (the step's ms) and for waits outside system
 * calls (their ms, the step's ms). */
struct advice_text {
	const char *sleep, *syscall, *syscalls, *cpu, *wait;
};

static const struct advice_text tokio_text = {
	.sleep = "a sleep (%s, %.1f ms) inside the poll: use "
		 "tokio::time::sleep().await, or move the blocking call to "
		 "tokio::task::spawn_blocking()",
	.syscall = "a blocking system call (%s, %.1f ms) inside the poll: move "
		   "it to tokio::task::spawn_blocking(), or use tokio's async version",
	.syscalls = "many system calls (%.1f ms of the poll): move the blocking I/O "
		    "to tokio::task::spawn_blocking()",
	.cpu = "CPU-bound poll (%.1f ms): split the work and yield between "
	       "pieces (tokio::task::yield_now().await), or run it on "
	       "tokio::task::spawn_blocking() or a compute pool",
	.wait = "off the CPU outside system calls (%.1f ms of the poll's %.1f ms): "
		"page faults that read from disk (mapped files, swap) or waits in the "
		"kernel the poll did not ask for",
};

static const struct advice_text asyncio_text = {
	.sleep = "a sleep (%s, %.1f ms) inside the step: await asyncio.sleep() "
		 "instead, or run the blocking call with loop.run_in_executor() / "
		 "asyncio.to_thread()",
	.syscall = "a blocking system call (%s, %.1f ms) inside the step: run it "
		   "with loop.run_in_executor() / asyncio.to_thread(), or use the asyncio "
		   "version of the API",
	.syscalls = "many system calls (%.1f ms of the step): move the I/O to "
		    "loop.run_in_executor() / asyncio.to_thread()",
	.cpu = "CPU-bound step (%.1f ms): split the work and yield between "
	       "pieces (await asyncio.sleep(0)), or run it in a process pool with "
	       "loop.run_in_executor()",
	.wait = "off the CPU outside system calls (%.1f ms of the step's %.1f ms): "
		"page faults that read from disk (mapped files, swap) or waits in the "
		"kernel the step did not ask for",
};

/* Why @b blocked, as a recommendation in one sentence. */
static void blocking_advice(const struct async_app *app, const struct blocking *b, char *buf,
			    size_t size, const char **cause)
{
	const struct advice_text *text = app->t.runtime == RT_ASYNC_TOKIO ? &tokio_text : &asyncio_text;
	const struct rt_async_step *s = &b->ev.step;
	uint64_t d = b->ev.end_ns - s->start_ns;
	/* neither running, nor waiting for a CPU, nor in a system call */
	uint64_t known = s->run_delay_ns + s->syscall_ns + s->cpu_ns;
	uint64_t wait = d > known ? d - known : 0;
	const char *name = syscall_name(s->longest_syscall_nr);
	char nr[32];

	if (!name) {
		snprintf(nr, sizeof(nr), "system call %u", s->longest_syscall_nr);
		name = nr;
	}
	if (s->longest_syscall_ns * 2 >= d) {
		*cause = "syscall";
		snprintf(buf, size, sleep_syscall(s->longest_syscall_nr) ? text->sleep : text->syscall,
			 name, s->longest_syscall_ns / 1e6);
	} else if (s->syscall_ns * 2 >= d) {
		*cause = "syscalls";
		snprintf(buf, size, text->syscalls, s->syscall_ns / 1e6);
	} else if (wait * 2 >= d) {
		*cause = "wait";
		snprintf(buf, size, text->wait, wait / 1e6, d / 1e6);
	} else {
		*cause = "cpu";
		snprintf(buf, size, text->cpu, d / 1e6);
	}
}

static int cmp_blocking_duration(const void *a, const void *b)
{
	const struct blocking *x = *(const struct blocking *const *)a;
	const struct blocking *y = *(const struct blocking *const *)b;
	uint64_t dx = x->ev.end_ns - x->ev.step.start_ns, dy = y->ev.end_ns - y->ev.step.start_ns;

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* @st's task's life as traced: from its first step's start to its last
 * step's end. */
static uint64_t task_life_ns(const struct rt_async_task_stats *st)
{
	return st->last_ns > st->first_ns ? st->last_ns - st->first_ns : 0;
}

/* How long @st's task waited between its first step and the end of its
 * last one seen: woken or not, it was not being run. */
static uint64_t task_pending_ns(const struct rt_async_task_stats *st)
{
	uint64_t life = task_life_ns(st);

	return life > st->step_ns ? life - st->step_ns : 0;
}

static int cmp_task_time(const void *a, const void *b)
{
	const struct task_row *x = a, *y = b;

	return x->st.step_ns < y->st.step_ns ? 1 : x->st.step_ns > y->st.step_ns ? -1 : 0;
}

/* The kind of a task: an asyncio task's coroutine name (what follows the
 * task's own name, or the whole name when there is no coroutine name; "?"
 * for a task whose name could not be read, "task 0x..."); a tokio task's
 * future type, its whole name. */
static const char *task_kind(const struct async_app *app, const char *name)
{
	const char *sp = strchr(name, ' ');

	if (app->t.runtime != RT_ASYNC_ASYNCIO)
		return name;
	if (!strncmp(name, "task 0x", 7))
		return "?";
	return sp ? sp + 1 : name;
}

/* Every task of the target from the BPF map, with names and blocking
 * counts; sorted by time in steps.  Returns the count (rows in *@out). */
static size_t collect_tasks(struct async_app *app, struct task_row **out)
{
	int fd = bpf_map__fd(app->skel->maps.tasks);
	struct rt_async_task_key key, next, *prev = NULL;
	struct task_row *rows = NULL;
	size_t n = 0, cap = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct task_row r = { .key = next };

		key = next;
		prev = &key;
		if (next.pid != (__u32)app->t.pid || bpf_map_lookup_elem(fd, &next, &r.st))
			continue;
		if (n == cap) {
			struct task_row *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(rows, cap * sizeof(*rows));
			if (!grown)
				break;
			rows = grown;
		}
		r.name = task_name(app, next.task);
		if (!r.name)
			r.name = "?";
		for (size_t i = 0; i < app->nr_blocks; i++) {
			if (app->blocks[i].ev.step.task != next.task || app->blocks[i].attaching)
				continue;
			if (app->blocks[i].preempted)
				r.preempted++;
			else
				r.blocking++;
		}
		rows[n++] = r;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_task_time);
	*out = rows;
	return n;
}

static size_t collect_kinds(const struct async_app *app, const struct task_row *rows, size_t n,
			    struct kind_row **out)
{
	struct kind_row *kinds = calloc(n ? n : 1, sizeof(*kinds));
	size_t nk = 0;

	*out = kinds;
	if (!kinds)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *kind = task_kind(app, rows[i].name);
		struct kind_row *k = NULL;

		for (size_t j = 0; j < nk && !k; j++)
			if (!strcmp(kinds[j].kind, kind))
				k = &kinds[j];
		if (!k) {
			k = &kinds[nk++];
			snprintf(k->kind, sizeof(k->kind), "%s", kind);
		}
		k->tasks++;
		k->steps += rows[i].st.steps;
		k->step_ns += rows[i].st.step_ns;
		if (rows[i].st.max_step_ns > k->max_step_ns)
			k->max_step_ns = rows[i].st.max_step_ns;
		k->sched_ns += rows[i].st.sched_delay_ns;
		k->delayed_steps += rows[i].st.delayed_steps;
		k->blocking += rows[i].blocking;
		k->preempted += rows[i].preempted;
		k->pending_ns += task_pending_ns(&rows[i].st);
	}
	return nk;
}

/* One blocking step of the report, with its cause and stack. */
static void print_blocking(const struct async_app *app, size_t rank, const struct blocking *b)
{
	uint64_t d = b->ev.end_ns - b->ev.step.start_ns;
	const char *cause;
	char advice[512];

	blocking_advice(app, b, advice, sizeof(advice), &cause);
	fprintf(stderr, "  %2zu. %s: %.1f ms on thread %u at +%.3f s; %u %s waited behind it, "
		"%.1f ms of added delay\n", rank, b->task, d / 1e6, b->ev.tid,
		((int64_t)b->ev.step.start_ns - (int64_t)app->attach_ns) / 1e9, b->delayed,
		app->t.runtime == RT_ASYNC_TOKIO ? "woken tasks" : "timers", b->added_ns / 1e6);
	fprintf(stderr, "      cause: %s\n", advice);
	for (size_t f = 0; f < b->nr_frames; f++)
		fprintf(stderr, "      %s %s\n", f ? "  " : "at", b->frames[f]);
}

static void print_recommendations(const struct async_app *app, const struct report *r)
{
	const char *cause;
	char advice[512];

	fprintf(stderr, "\nRecommendations:\n");
	for (size_t k = 0; k < r->nr_kinds; k++) {
		const struct blocking *worst = NULL;

		for (size_t i = 0; i < r->nr_blocking && !worst; i++)
			if (!strcmp(task_kind(app, r->blocking[i]->task), r->kinds[k].kind))
				worst = r->blocking[i];
		if (!worst)
			continue;
		blocking_advice(app, worst, advice, sizeof(advice), &cause);
		fprintf(stderr, "  - %s (%" PRIu64 " blocking steps, worst %.1f ms): %s\n",
			r->kinds[k].kind, r->kinds[k].blocking,
			(worst->ev.end_ns - worst->ev.step.start_ns) / 1e6, advice);
	}
}

static void print_report(const struct async_app *app, const struct report *r)
{
	uint64_t steps = 0;

	for (size_t i = 0; i < r->nr_rows; i++)
		steps += r->rows[i].st.steps;
	fprintf(stderr, "\nrt-bpf async: %s, pid %d (%s), %.1f s traced, threshold %u ms\n",
		runtime_name(app), app->t.pid, app->t.version_text, (app->end_ns - app->attach_ns) / 1e9,
		app->threshold_ms);
	fprintf(stderr, "%" PRIu64 " steps of %zu tasks; %zu blocking steps; %zu more steps over the "
		"threshold only while their thread waited for a CPU\n", steps, r->nr_rows,
		r->nr_blocking, r->nr_preempted);
	if (r->nr_blocking)
		fprintf(stderr, "\nWorst blocking steps:\n");
	for (size_t i = 0; i < r->nr_blocking && i < REPORT_WORST; i++)
		print_blocking(app, i + 1, r->blocking[i]);
	fprintf(stderr, "\nTasks by kind (%s):\n  %-32s %7s %9s %10s %9s %9s %9s %14s\n",
		app->t.runtime == RT_ASYNC_TOKIO ? "future" : "coroutine", "kind", "tasks", "steps",
		"step ms", "max ms", "blocking", "preempted", "sched delay ms");
	for (size_t i = 0; i < r->nr_kinds; i++) {
		const struct kind_row *k = &r->kinds[i];

		fprintf(stderr, "  %-32.32s %7" PRIu64 " %9" PRIu64 " %10.1f %9.2f %9" PRIu64 " %9" PRIu64
			" %14.2f\n", k->kind, k->tasks, k->steps, k->step_ns / 1e6, k->max_step_ns / 1e6,
			k->blocking, k->preempted,
			k->delayed_steps ? k->sched_ns / 1e6 / k->delayed_steps : 0.0);
	}
	fprintf(stderr, "\nBusiest tasks:\n  %-40s %9s %10s %9s %11s %9s\n", "task", "steps", "step ms",
		"max ms", "pending ms", "blocking");
	for (size_t i = 0; i < r->nr_rows && i < REPORT_TASKS; i++)
		fprintf(stderr, "  %-40.40s %9" PRIu64 " %10.1f %9.2f %11.1f %9u\n", r->rows[i].name,
			(uint64_t)r->rows[i].st.steps, r->rows[i].st.step_ns / 1e6,
			r->rows[i].st.max_step_ns / 1e6, task_pending_ns(&r->rows[i].st) / 1e6,
			r->rows[i].blocking);
	if (r->nr_blocking)
		print_recommendations(app, r);
	if (r->nr_attaching)
		fprintf(stderr, "\n%zu steps over the threshold began while rt-bpf was still attaching "
			"its probes (which stalls the target; worst: %s, %.1f ms): not counted as "
			"blocking\n", r->nr_attaching, r->attaching[0]->task,
			(r->attaching[0]->ev.end_ns - r->attaching[0]->ev.step.start_ns) / 1e6);
	if (r->nr_preempted)
		fprintf(stderr, "\n%zu steps ran past the threshold only because their thread waited for "
			"a CPU (worst: %s, %.1f ms of which %.1f ms waiting): the machine is overloaded, "
			"the tasks are not to blame\n", r->nr_preempted, r->preempted[0]->task,
			(r->preempted[0]->ev.end_ns - r->preempted[0]->ev.step.start_ns) / 1e6,
			r->preempted[0]->ev.step.run_delay_ns / 1e6);
	fprintf(stderr, "\ncounters: %" PRIu64 " steps, %" PRIu64 " over the threshold, %" PRIu64 " timers (%" PRIu64
		" late behind a slow step), %" PRIu64 " stacks walked (%" PRIu64 " stopped by a "
		"fault), %" PRIu64 " events lost, %" PRIu64 " unpaired entries or returns\n",
		r->counters[RT_ASYNC_STAT_STEPS], r->counters[RT_ASYNC_STAT_BLOCKING],
		r->counters[RT_ASYNC_STAT_TIMERS], r->counters[RT_ASYNC_STAT_LATE],
		r->counters[RT_ASYNC_STAT_WALKS], r->counters[RT_ASYNC_STAT_WALK_FAULTS],
		r->counters[RT_ASYNC_STAT_EVENTS_LOST], r->counters[RT_ASYNC_STAT_UNPAIRED]);
	if (app->t.runtime == RT_ASYNC_TOKIO)
		fprintf(stderr, "native stacks: %" PRIu64 " copied, %" PRIu64 " of blocking polls "
			"unwound, %" PRIu64 " could not be\n", r->counters[RT_ASYNC_STAT_USTACKS],
			app->ustacks_named, app->ustacks_failed);
	if (app->verbose)
		fprintf(stderr, "%" PRIu64 " CPU-time samples came during their thread's own stack "
			"walk (not walked again)\n", r->counters[RT_ASYNC_STAT_NESTED]);
}

static void json_blocking(FILE *f, const struct async_app *app, const struct blocking *b)
{
	const struct rt_async_step *s = &b->ev.step;
	const char *sc = syscall_name(s->longest_syscall_nr), *cause;
	char advice[512];

	blocking_advice(app, b, advice, sizeof(advice), &cause);
	fprintf(f, "{\"task\": ");
	rt_async__json_str(f, b->task);
	fprintf(f, ", \"kind\": ");
	rt_async__json_str(f, task_kind(app, b->task));
	fprintf(f, ", \"start_ns\": %" PRIu64 ", \"duration_ms\": %.3f, \"thread\": %u, "
		"\"delayed_tasks\": %u, \"added_delay_ms\": %.3f, \"cpu_ms\": %.3f, "
		"\"run_delay_ms\": %.3f, \"syscall_ms\": %.3f, \"longest_syscall\": ",
		(uint64_t)s->start_ns, (b->ev.end_ns - s->start_ns) / 1e6, b->ev.tid, b->delayed,
		b->added_ns / 1e6, s->cpu_ns / 1e6, s->run_delay_ns / 1e6, s->syscall_ns / 1e6);
	/* null when the step made no system call (nr 0 is read) */
	if (s->longest_syscall_ns) {
		fprintf(f, "{\"nr\": %u, \"name\": ", s->longest_syscall_nr);
		if (sc)
			rt_async__json_str(f, sc);
		else
			fputs("null", f);
		fprintf(f, ", \"ms\": %.3f}", s->longest_syscall_ns / 1e6);
	} else {
		fputs("null", f);
	}
	fprintf(f, ", \"cpu_samples\": %u, \"cause\": \"%s\", \"recommendation\": ",
		s->samples, b->preempted ? "preempted" : cause);
	rt_async__json_str(f, advice);
	fprintf(f, ", \"stack_from\": \"%s\", \"stack\": [",
		s->stack_source == RT_ASYNC_STACK_SYSCALL ? "syscall" :
		s->stack_source == RT_ASYNC_STACK_SAMPLE ? "sample" : "none");
	for (size_t k = 0; k < b->nr_frames; k++) {
		if (k)
			fputs(", ", f);
		rt_async__json_str(f, b->frames[k]);
	}
	fputs("]}", f);
}

static void json_tasks(FILE *f, const struct async_app *app, const struct report *r)
{
	fprintf(f, " \"tasks\": [");
	for (size_t i = 0; i < r->nr_rows; i++) {
		const struct rt_async_task_stats *st = &r->rows[i].st;

		fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
		rt_async__json_str(f, r->rows[i].name);
		fprintf(f, ", \"kind\": ");
		rt_async__json_str(f, task_kind(app, r->rows[i].name));
		fprintf(f, ", \"address\": \"0x%" PRIx64 "\", \"thread\": %u, \"polls\": %" PRIu64
			", \"poll_time_ms\": %.3f, \"max_poll_ms\": %.3f, \"sched_delay_ms\": %.3f, "
			"\"woken_by_timer\": %" PRIu64 ", \"life_ms\": %.3f, \"pending_ms\": %.3f, "
			"\"blocking_polls\": %u, \"preempted_polls\": %u}",
			(uint64_t)r->rows[i].key.task, st->tid, (uint64_t)st->steps, st->step_ns / 1e6,
			st->max_step_ns / 1e6, st->sched_delay_ns / 1e6, (uint64_t)st->delayed_steps,
			task_life_ns(st) / 1e6,
			task_pending_ns(st) / 1e6, r->rows[i].blocking, r->rows[i].preempted);
	}
	fprintf(f, "],\n \"kinds\": [");
	for (size_t i = 0; i < r->nr_kinds; i++) {
		const struct kind_row *k = &r->kinds[i];

		fprintf(f, "%s\n  {\"kind\": ", i ? "," : "");
		rt_async__json_str(f, k->kind);
		fprintf(f, ", \"tasks\": %" PRIu64 ", \"polls\": %" PRIu64 ", \"poll_time_ms\": %.3f, "
			"\"max_poll_ms\": %.3f, \"sched_delay_ms\": %.3f, \"pending_ms\": %.3f, "
			"\"blocking_polls\": %" PRIu64 ", \"preempted_polls\": %" PRIu64 "}", k->tasks,
			k->steps, k->step_ns / 1e6, k->max_step_ns / 1e6, k->sched_ns / 1e6,
			k->pending_ns / 1e6, k->blocking, k->preempted);
	}
	fprintf(f, "],\n");
}

static int write_json(struct async_app *app, const struct report *r)
{
	FILE *f = app->json_file;

	app->json_file = NULL;
	fprintf(f, "{\"runtime\": \"%s\", \"pid\": %d, \"version\": \"%s\", "
		"\"threshold_ms\": %u, \"attached_ns\": %" PRIu64 ", \"duration_s\": %.3f,\n",
		runtime_name(app), app->t.pid, app->t.version_text, app->threshold_ms, app->attach_ns,
		(app->end_ns - app->attach_ns) / 1e9);
	json_tasks(f, app, r);
	fprintf(f, " \"blocking\": [");
	for (size_t i = 0; i < r->nr_blocking; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_blocking(f, app, r->blocking[i]);
	}
	fprintf(f, "],\n \"preempted\": [");
	for (size_t i = 0; i < r->nr_preempted; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_blocking(f, app, r->preempted[i]);
	}
	fprintf(f, "],\n \"during_attach\": [");
	for (size_t i = 0; i < r->nr_attaching; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_blocking(f, app, r->attaching[i]);
	}
	fprintf(f, "],\n \"counters\": {\"steps\": %" PRIu64 ", \"over_threshold\": %" PRIu64
		", \"timers\": %" PRIu64 ", \"late_timers\": %" PRIu64 ", \"walks\": %" PRIu64
		", \"walk_faults\": %" PRIu64 ", \"events_lost\": %" PRIu64 ", \"unpaired\": %" PRIu64
		", \"native_stacks\": %" PRIu64 ", \"native_unwound\": %" PRIu64
		", \"native_failed\": %" PRIu64 "}}\n",
		r->counters[RT_ASYNC_STAT_STEPS], r->counters[RT_ASYNC_STAT_BLOCKING],
		r->counters[RT_ASYNC_STAT_TIMERS], r->counters[RT_ASYNC_STAT_LATE],
		r->counters[RT_ASYNC_STAT_WALKS], r->counters[RT_ASYNC_STAT_WALK_FAULTS],
		r->counters[RT_ASYNC_STAT_EVENTS_LOST], r->counters[RT_ASYNC_STAT_UNPAIRED],
		r->counters[RT_ASYNC_STAT_USTACKS], app->ustacks_named, app->ustacks_failed);
	if (fclose(f)) {
		fprintf(stderr, "rt-bpf async: cannot write %s: %s\n", app->json, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int report(struct async_app *app)
{
	struct report r = { 0 };
	size_t n = app->nr_blocks ? app->nr_blocks : 1;
	int err = -ENOMEM;

	r.blocking = calloc(n, sizeof(*r.blocking));
	r.preempted = calloc(n, sizeof(*r.preempted));
	r.attaching = calloc(n, sizeof(*r.attaching));
	if (!r.blocking || !r.preempted || !r.attaching)
		goto out;
	for (size_t i = 0; i < app->nr_blocks; i++) {
		if (app->blocks[i].attaching)
			r.attaching[r.nr_attaching++] = &app->blocks[i];
		else if (app->blocks[i].preempted)
			r.preempted[r.nr_preempted++] = &app->blocks[i];
		else
			r.blocking[r.nr_blocking++] = &app->blocks[i];
	}
	qsort(r.blocking, r.nr_blocking, sizeof(*r.blocking), cmp_blocking_duration);
	qsort(r.preempted, r.nr_preempted, sizeof(*r.preempted), cmp_blocking_duration);
	qsort(r.attaching, r.nr_attaching, sizeof(*r.attaching), cmp_blocking_duration);
	for (int i = 0; i < RT_ASYNC_STAT_MAX; i++)
		r.counters[i] = rt_async_target__stat(app->skel, i);
	r.nr_rows = collect_tasks(app, &r.rows);
	r.nr_kinds = collect_kinds(app, r.rows, r.nr_rows, &r.kinds);
	print_report(app, &r);
	err = app->json ? write_json(app, &r) : 0;
out:
	free(r.kinds);
	free(r.rows);
	free(r.blocking);
	free(r.preempted);
	free(r.attaching);
	return err;
}

/* ---- main ---- */

/* Polls the events until the target ends or a signal asks to stop. */
static void trace(struct async_app *app)
{
	while (!stop_requested) {
		int n = ring_buffer__poll(app->rb, 100);

		if (n < 0 && n != -EINTR)
			break;
		if (target_gone(app))
			break;
	}
	/* what the program sent before its links went */
	ring_buffer__consume(app->rb);
}

static void app_free(struct async_app *app)
{
	detach(app);
	ring_buffer__free(app->rb);
	async_bpf__destroy(app->skel);
	rt_interp_decoder__free(app->dec);
	for (size_t i = 0; i < app->nr_blocks; i++) {
		for (size_t k = 0; k < app->blocks[i].nr_frames; k++)
			free(app->blocks[i].frames[k]);
		free(app->blocks[i].frames);
	}
	free(app->blocks);
	for (size_t i = 0; i < app->nr_ustacks; i++)
		free(app->ustacks[i].copy);
	free(app->ustacks);
	rt_native_stack__free(app->native);
	free(app->names);
	free(app->perf_fds);
	rt_async_target__exit(&app->t);
}

struct async_opts {
	unsigned int threshold_ms, sample_hz;
	const char *json;
	bool ps; /* --ps: list the tasks once (rtbpf/asyncps.c) */
};

static void async_init(void *opts)
{
	struct async_opts *o = opts;

	o->threshold_ms = 10;
	o->sample_hz = 250;
}

static int async_option(void *opts, int c, const char *arg)
{
	struct async_opts *o = opts;
	unsigned long v;

	if (c == 'j') {
		o->json = arg;
		return 0;
	}
	if (c == 'P') {
		o->ps = true;
		return 0;
	}
	if (rt_bpf__parse_number(arg, 1, 100000, &v)) {
		fprintf(stderr, "rt-bpf async: bad --%s %s\n", c == 't' ? "threshold-ms" : "sample-hz",
			arg);
		return -EINVAL;
	}
	if (c == 't')
		o->threshold_ms = (unsigned int)v;
	else
		o->sample_hz = (unsigned int)v;
	return 0;
}

static int async_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	if (((struct async_opts *)opts)->ps && (app->nr_pids != 1 || argc > 0)) {
		fprintf(stderr, "rt-bpf async: --ps lists the tasks of one running process: give -p PID\n");
		return -EINVAL;
	}
	if ((app->nr_pids > 0) + (argc > 0) != 1 || app->nr_pids > 1) {
		fprintf(stderr, "rt-bpf async: give exactly one of -p PID or -- CMD ARGS\n");
		return -EINVAL;
	}
	return 0;
}

static void print_tracing(const struct async_app *app)
{
	if (app->verbose && app->t.runtime == RT_ASYNC_ASYNCIO)
		fprintf(stderr, "rt-bpf async: tracing pid %d (%s): steps at %s+0x%" PRIx64
			" and +0x%" PRIx64 " (%s)\n", app->t.pid, app->t.version_text,
			app->t.probes.step_wrapper.path, app->t.probes.step_wrapper.offset,
			app->t.probes.task_wakeup.offset,
			app->t.probes.step_wrapper.by_symbol ? "symbols" : "type and method tables");
	else if (app->verbose) {
		for (size_t i = 0; i < app->t.tokio.nr_polls; i++)
			fprintf(stderr, "rt-bpf async: tracing pid %d: polls of %s at %s+0x%" PRIx64 "\n",
				app->t.pid, app->t.tokio.polls[i].future, app->t.tokio.path,
				app->t.tokio.polls[i].offset);
		if (app->t.tokio.wheel_poll)
			fprintf(stderr, "rt-bpf async: tracing pid %d: due timers at %s+0x%" PRIx64 "\n",
				app->t.pid, app->t.tokio.path, app->t.tokio.wheel_poll);
		else
			fprintf(stderr, "rt-bpf async: pid %d: no timer wheel found (timers due "
				"during a blocking poll are not counted)\n", app->t.pid);
	}
	else
		fprintf(stderr, "rt-bpf async: tracing pid %d; Ctrl-C to stop and report\n", app->t.pid);
}

/* Ends the command rt-bpf started: the signal that stopped rt-bpf (or
 * SIGTERM), then SIGKILL (struct rt_bpf_stop). */
static void stop_child(struct async_app *app)
{
	struct rt_bpf_stop stop;

	rt_bpf_stop__begin(&stop, app->t.pid, stop_requested ? stop_requested : SIGTERM,
			   RT_BPF_STOP_WAIT_MS, signals, stop_requested && from_terminal);
	while (!target_gone(app)) {
		if (rt_bpf_stop__due(&stop, signals, "rt-bpf async")) {
			while (waitpid(app->t.pid, &app->child_status, 0) < 0 && errno == EINTR)
				;
			app->reaped = true;
			return;
		}
		usleep(10000);
	}
}

static int async_run(struct rt_bpf_app *rt, void *opts, int argc, char **argv)
{
	const struct async_opts *o = opts;
	struct async_app app = {
		.threshold_ms = o->threshold_ms, .sample_hz = o->sample_hz, .json = o->json,
		.verbose = rt->verbose, .t = { .who = "rt-bpf async" },
	};
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	int err;

	/* said as record says it, not as a process that ended before asyncio;
	 * the probes and the task lists are the process's */
	if (rt->nr_pids && (err = rt_bpf__target_process(&rt->pids[0], "rt-bpf async", "tracing")))
		return err;
	if (o->ps)
		return rt_async_ps__run(rt->pids[0], o->json);
	err = rt_bpf__preflight(false);
	if (!err && argc > 0)
		err = rt_bpf__check_command(argv[0]);
	if (err)
		return err;
	if (o->json) {
		app.json_file = rt_safefile__create(o->json);
		if (!app.json_file) {
			fprintf(stderr, "rt-bpf async: cannot write %s: %s\n", o->json, strerror(errno));
			return -errno;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	app.dec = rt_interp_decoder__new();
	if (!app.dec)
		return -ENOMEM;
	if (argc > 0) {
		app.t.pid = start_command(argv);
		if (app.t.pid < 0) {
			fprintf(stderr, "rt-bpf async: fork: %s\n", strerror(errno));
			err = -errno;
			goto out;
		}
		app.own_child = true;
		fprintf(stderr, "rt-bpf async: started pid %d\n", app.t.pid);
	} else {
		app.t.pid = rt->pids[0];
		app.t.attached = true;
	}
	err = wait_for_runtime(&app);
	if (!err && app.t.runtime == RT_ASYNC_ASYNCIO)
		err = rt_async_target__configure(&app.t);
	if (!err && app.t.runtime == RT_ASYNC_TOKIO) {
		app.native = rt_native_stack__new(app.t.pid);
		if (!app.native)
			err = -errno;
	}
	if (!err)
		err = load_and_attach(&app);
	if (err)
		goto out;
	print_tracing(&app);
	trace(&app);
	app.end_ns = now_ns();
	detach(&app);
	err = report(&app);
out:
	if (app.own_child && !target_gone(&app))
		stop_child(&app);
	if (app.json_file) {
		/* no report: no file */
		fclose(app.json_file);
		unlink(o->json);
	}
	app_free(&app);
	/* -- CMD that ended on its own: its exit status, as record gives it */
	if (!err && app.own_child && app.reaped && !stop_requested)
		return rt_bpf__command_status(app.child_status);
	return err;
}

static const struct option async_longopts[] = {
	{ "threshold-ms", required_argument, NULL, 't' },
	{ "json", required_argument, NULL, 'j' },
	{ "sample-hz", required_argument, NULL, 'F' },
	{ "ps", no_argument, NULL, 'P' },
	{ 0 },
};

const struct rt_bpf_cmd rt_bpf_cmd_async = {
	.name = "async",
	.synopsis = "async [--threshold-ms N] [--json FILE] [--sample-hz HZ] (-p PID | -- CMD ARGS...)\n"
		    "       rt-bpf async --ps [--json FILE] -p PID\n",
	.help =
	"async   traces the task steps of an asyncio event loop (CPython 3.11-3.13) or\n"
	"        the task polls of a tokio program and, when the target exits or at\n"
	"        Ctrl-C, reports the ones longer than --threshold-ms (default 10) with\n"
	"        their task, cause, stack (asyncio: Python frames; tokio: native\n"
	"        frames) and what waited behind them,\n"
	"        per-task statistics and what to do; --json FILE writes the same data\n"
	"        (docs/async.md); --sample-hz (default 250) samples the CPU time of\n"
	"        steps to give CPU-bound ones a stack.  Both numbers 1-100000.  -- CMD:\n"
	"        the interpreter itself (its children are not followed); exits with its\n"
	"        status.  The report goes to stderr.  --ps lists every asyncio task\n"
	"        of a CPython 3.14+ process once: its coroutine chain and the tasks\n"
	"        awaiting it (the table and tree of python -m asyncio ps/pstree), read\n"
	"        from outside, on stdout.\n",
	.longopts = async_longopts,
	.opts_size = sizeof(struct async_opts),
	.init = async_init,
	.option = async_option,
	.check = async_check,
	.run = async_run,
};
