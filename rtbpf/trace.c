/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace -o DIR (-p PID | -- CMD ARGS...)`: attaches bpf/trace.bpf.c
 * to the target's USDT probes (CPython: line, function__entry,
 * function__return; CRuby: method__entry/return, cmethod__entry/return),
 * or for a CPython without them to uprobes on its eval loop (entry and
 * return, the frame clear, 3.12+ YIELD_VALUE's code: calls and returns
 * without lines), for a CRuby 3.3 without them to a write breakpoint on
 * its threads' ec->cfp (rtbpf/trace_ruby.c), and its writes to fds 1
 * and 2, and turns the records into CodeTracer's
 * trace directory (rtbpf/codetracer.h).  Python calls and returns come
 * from the frame chains (runtimes/python/frames.h).  docs/trace.md has the whole
 * mapping.  This file is the subcommand (its options and its run); the
 * target side is rtbpf/trace_target.c, the record writer
 * rtbpf/trace_records.c (rtbpf/trace_internal.h between them).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/trace.skel.h"
#include "perfglue/safefile.h"
#include "rtbpf/rtbpf.h"
#include "rtbpf/trace_internal.h"

#define RING_MB_DEFAULT 64
#define POLL_MS 100

static volatile sig_atomic_t interrupted, signals, from_terminal;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	interrupted = sig;
	signals++;
	from_terminal = si && si->si_code == SI_KERNEL;
}

static uint64_t stat_sum(struct tracer *t, __u32 stat)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	__u64 *v;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stats), &stat, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* Runs until the target exits (or Ctrl-C), consuming the ring.  Returns
 * a child's wait status when it ended on its own, else (-p, or a signal
 * to rt-bpf passed on to it) 0. */
static int run(struct tracer *t)
{
	int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0), status = 0;
	struct rt_bpf_stop stop = { 0 };

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ring_buffer__epoll_fd(t->ring), .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};

		poll(pfd, pidfd >= 0 ? 2 : 1, POLL_MS);
		ring_buffer__consume(t->ring);
		rt_ctrace__flush(t->out);
		rt_tracer__rb_poll(t);
		if (interrupted && !t->child)
			break;
		if (interrupted && !stop.started)
			rt_bpf_stop__begin(&stop, t->pid, interrupted, RT_BPF_STOP_WAIT_MS, signals,
					   from_terminal);
		else
			rt_bpf_stop__due(&stop, signals, "rt-bpf trace");
		if (pidfd >= 0 ? (pfd[1].revents & (POLLIN | POLLHUP)) != 0 :
				 kill(t->pid, 0) && errno == ESRCH)
			break;
	}
	/* what the target sent before it ended */
	ring_buffer__consume(t->ring);
	if (t->child && waitpid(t->pid, &status, 0) != t->pid)
		status = 0;
	ring_buffer__consume(t->ring);
	if (pidfd >= 0)
		close(pidfd);
	return t->child && !stop.started ? status : 0;
}

/* The arguments of process @pid after its argv[0], from /proc/PID/cmdline:
 * one allocation holding the pointers and the strings (free() it), *@argc
 * of them; NULL with *@argc 0 when there are none or it cannot be read. */
static char **read_cmdline(pid_t pid, int *argc)
{
	char path[64], buf[8192], **args, *p;
	size_t n = 0, count = 0;
	FILE *f;

	*argc = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	for (size_t i = 0; i < n; i++)
		count += !buf[i];
	if (count < 2)
		return NULL;
	args = malloc(count * sizeof(*args) + n + 1);
	if (!args)
		return NULL;
	p = memcpy((char *)(args + count), buf, n + 1);
	p += strlen(p) + 1; /* argv[0]: the program, from its executable */
	for (size_t i = 1; i < count && p < (char *)(args + count) + n; i++) {
		args[(*argc)++] = p;
		p += strlen(p) + 1;
	}
	return args;
}

static void tracer_report(struct tracer *t)
{
	uint64_t sent = stat_sum(t, RT_TRACE_STAT_EVENTS), lost = stat_sum(t, RT_TRACE_STAT_LOST);

	/* losses no later record of the same thread reported */
	if (lost > t->lost_marked) {
		char text[128];

		snprintf(text, sizeof(text), "%" PRIu64 " records lost at the end: the ring buffer was full",
			 lost - t->lost_marked);
		rt_ctrace__event(t->out, RT_CTRACE_EVENT_ERROR, "lost", text, strlen(text));
	}
	fprintf(stderr, "rt-bpf: trace: %" PRIu64 " records (%" PRIu64 " Python events, %" PRIu64
		" Ruby events, %" PRIu64 " writes), %" PRIu64 " calls, %" PRIu64 " returns, %" PRIu64
		" trace.json entries\n", sent, t->py_events, t->rb_events, t->writes, t->calls,
		t->returns, rt_ctrace__records(t->out));
	if (lost)
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " records lost (the ring buffer was full; "
			"raise -b): marked in the trace as Error events\n", lost);
	if (stat_sum(t, RT_TRACE_STAT_NO_CONFIG))
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " Python events before the process was "
			"configured\n", stat_sum(t, RT_TRACE_STAT_NO_CONFIG));
	if (stat_sum(t, RT_TRACE_STAT_NO_TSTATE) || stat_sum(t, RT_TRACE_STAT_READ_FAULT))
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " Python events without a thread state, %"
			PRIu64 " frame walks cut by a read fault\n", stat_sum(t, RT_TRACE_STAT_NO_TSTATE),
			stat_sum(t, RT_TRACE_STAT_READ_FAULT));
	if (stat_sum(t, RT_TRACE_STAT_RB_FAULT))
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " writes of ec->cfp whose context or frame "
			"did not read\n", stat_sum(t, RT_TRACE_STAT_RB_FAULT));
	if (t->runtime == RUNTIME_RUBY && !t->rb_method_entries && t->rb_cmethod_entries)
		fprintf(stderr, "rt-bpf: warning: ruby:method__entry never fired: CRuby 2.5 and later "
			"fire it only while the VM's call events are on (a TracePoint enabled in the "
			"process); this trace has C methods only (docs/trace.md)\n");
	if (t->rb_unmatched)
		fprintf(stderr, "rt-bpf: %" PRIu64 " Ruby returns of methods entered before tracing "
			"began\n", t->rb_unmatched);
}

static void destroy_links(struct tracer *t)
{
	for (size_t i = 0; i < t->nr_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	t->links = NULL;
	t->nr_links = 0;
}

struct trace_opts {
	const char *dir;
	unsigned long ring_mb;
};

static const struct option trace_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "buffer", required_argument, NULL, 'b' },
	{ 0 },
};

static void trace_init(void *opts)
{
	struct trace_opts *o = opts;

	o->ring_mb = RING_MB_DEFAULT;
}

static int trace_option(void *opts, int c, const char *arg)
{
	struct trace_opts *o = opts;

	switch (c) {
	case 'o':
		o->dir = arg;
		return 0;
	case 'b':
		/* the ring's size in bytes is a 32-bit power of two */
		if (rt_bpf__parse_number(arg, 1, 2048, &o->ring_mb) || (o->ring_mb & (o->ring_mb - 1))) {
			fprintf(stderr, "rt-bpf trace: -b takes a power of two from 1 to 2048 (MB)\n");
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static int trace_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct trace_opts *o = opts;

	if (!o->dir || (argc > 0) + (app->nr_pids > 0) != 1 || app->nr_pids > 1) {
		fprintf(stderr, "rt-bpf trace: give -o DIR and exactly one of -p PID, -- CMD ARGS\n");
		return -EINVAL;
	}
	return 0;
}

static int trace_run(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct trace_opts *o = opts;
	struct tracer t = { .root_fd = -1, .verbose = app->verbose, .layout = app->layout };
	struct rt_pyframes_ops ops = { .call = rt_tracer__py_call, .ret = rt_tracer__py_return, .ctx = &t };
	const char *dir = o->dir;
	char probes[PATH_MAX], workdir[PATH_MAX] = "", program[PATH_MAX] = "";
	unsigned long ring_mb = o->ring_mb;
	char **cmd = argc > 0 ? argv : NULL, **pid_args = NULL;
	int err = 0, status = 0, cmd_argc = argc, pid_argc = 0;
	bool rb_fallback = false;

	t.pid = app->nr_pids ? app->pids[0] : 0;
	err = rt_bpf__preflight(false);
	if (!err && cmd)
		err = rt_bpf__check_command(cmd[0]);
	if (err)
		return err;
	/* probes and the walker's tables are per process */
	if (t.pid && (err = rt_bpf__target_process(&t.pid, "rt-bpf trace", "tracing")))
		return err;
	/* before the command starts */
	err = rt_ctrace__check_dir(dir);
	if (err == -ENOTEMPTY) {
		fprintf(stderr, "rt-bpf trace: %s holds other files than a trace's: give a new or "
			"empty directory, or an earlier trace's (it is replaced)\n", dir);
		return err;
	}
	if (err) {
		fprintf(stderr, "rt-bpf trace: cannot write a trace in %s: %s\n", dir, strerror(-err));
		return err;
	}
	if (cmd) {
		t.pid = rt_trace__start_stopped(cmd);
		if (t.pid < 0)
			return t.pid;
		t.child = true;
		/* its libraries mapped (the libpython or libruby whose probes and
		 * symbols count, found where the loader found it), none of its
		 * code run */
		err = rt_trace__run_to_interpreter(t.pid);
		if (err == -ESRCH || err == -ELOOP) {
			fprintf(stderr, "rt-bpf: pid %d %s: CMD must be the interpreter, or run it by "
				"exec in the same process (chroot, env, pyenv's shim; not unshare "
				"--fork)\n", t.pid, err == -ESRCH ? "ended without running a CPython or "
				"a CRuby" : "ran no CPython or CRuby in its first execs");
			t.child = err == -ELOOP; /* -ESRCH: reaped */
			goto out;
		} else if (err) {
			fprintf(stderr, "rt-bpf: cannot run pid %d to its entry point: %s\n", t.pid,
				strerror(-err));
			goto out;
		}
	}
	t.runtime = rt_trace__find_runtime(t.pid, probes, sizeof(probes));
	if (t.runtime == RUNTIME_NONE) {
		char exe[64];
		bool partial;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)t.pid);
		partial = rt_trace__elf_has_probe(exe, "python", "audit") || rt_trace__elf_has_probe(exe, "python", "gc__start");
		if (rt_tracer__rb_fallback_fits(t.pid)) {
			t.runtime = RUNTIME_RUBY;
			rb_fallback = true;
		} else if (!rt_trace__find_eval_loop(t.pid, probes, sizeof(probes))) {
			t.runtime = RUNTIME_PYTHON;
			t.py_fallback = true;
			fprintf(stderr, "rt-bpf: pid %d runs a CPython %s: falling back to uprobes on its "
				"eval loop\n", t.pid, partial ? "whose USDT probes lack python:line and the "
				"function probes (3.12 and later keep only audit, gc and import probes)" :
				"without USDT probes (built without --with-dtrace)");
		} else {
			fprintf(stderr, "rt-bpf: pid %d is neither CPython nor CRuby with USDT probes (no "
				"python:line or ruby:method__entry probe in its executable or its "
				"libpython/libruby), nor a CPython whose eval loop is a symbol "
				"(_PyEval_EvalFrameDefault), nor a CRuby 3.3 (the breakpoint fallback): a "
				"CRuby without --enable-dtrace of another version cannot be "
				"traced; rt-bpf record samples it instead\n", t.pid);
			err = -ENOTSUP;
		}
		if (err)
			goto out;
	}
	rt_tracer__target_cwd(&t);
	t.root_fd = rt_safefile__open_root(t.pid);
	t.skel = trace_bpf__open();
	if (!t.skel) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot open the trace program: %s\n", strerror(errno));
		goto out;
	}
	t.skel->rodata->target_pid = (__u32)t.pid;
	bpf_map__set_max_entries(t.skel->maps.events, (__u32)(ring_mb << 20));
	err = trace_bpf__load(t.skel);
	if (err) {
		fprintf(stderr, "rt-bpf: cannot load the trace program: %s (needs root, BTF, Linux "
			"5.17+)\n", strerror(-err));
		goto out;
	}
	if (t.runtime == RUNTIME_PYTHON) {
		err = rt_tracer__configure_python(&t);
		if (err)
			goto out;
	}
	err = rb_fallback ? rt_tracer__rb_fallback_attach(&t) : rt_tracer__attach(&t, probes);
	if (err)
		goto out;
	t.frames = rt_pyframes__new(&ops);
	t.ring = ring_buffer__new(bpf_map__fd(t.skel->maps.events), rt_tracer__on_record, &t, NULL);
	{
		char exe[64];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)t.pid);
		n = readlink(exe, program, sizeof(program) - 1);
		program[n > 0 ? n : 0] = 0;
		snprintf(workdir, sizeof(workdir), "%s", t.cwd);
	}
	if (!cmd)
		pid_args = read_cmdline(t.pid, &pid_argc);
	t.out = rt_ctrace__new(dir, cmd ? cmd[0] : program, cmd ? cmd_argc - 1 : pid_argc,
			       cmd ? cmd + 1 : pid_args, workdir);
	free(pid_args);
	if (!t.frames || !t.ring || !t.out) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot start the trace in %s: %s\n", dir, strerror(errno));
		goto out;
	}
	t.unknown_type = rt_ctrace__type(t.out, RT_CTRACE_TYPE_RAW, "<unknown>");
	t.noreturn_type = rt_ctrace__type(t.out, RT_CTRACE_TYPE_NONE, "<return value not recorded>");
	{
		struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	fprintf(stderr, "rt-bpf: tracing pid %d (%s) into %s\n", t.pid,
		t.runtime == RUNTIME_PYTHON ? "CPython" : "CRuby", dir);
	if (t.child) {
		ptrace(PTRACE_DETACH, t.pid, NULL, NULL);
		t.child = true;
	}
	status = run(&t);
	/* no probe may stop the target once nothing reads its records */
	destroy_links(&t);
	rt_tracer__end(&t);
	tracer_report(&t);
out:
	if (err && t.child && t.pid > 0) {
		/* still stopped under ptrace: the interpreter's own code never ran */
		kill(t.pid, SIGKILL);
		waitpid(t.pid, NULL, 0);
	}
	if (t.out && rt_ctrace__close(t.out) && !err) {
		fprintf(stderr, "rt-bpf: cannot write the trace into %s\n", dir);
		err = -EIO;
	}
	rt_tracer__rb_fallback_finish(&t);
	destroy_links(&t);
	ring_buffer__free(t.ring);
	trace_bpf__destroy(t.skel);
	rt_pyframes__free(t.frames);
	free(t.codes);
	free(t.types);
	free(t.pending);
	free(t.rb_threads);
	if (t.root_fd >= 0)
		close(t.root_fd);
	/* trace -- CMD passes on the command's exit status, as record does */
	return err ? err : rt_bpf__command_status(status);
}

const struct rt_bpf_cmd rt_bpf_cmd_trace = {
	.name = "trace",
	.synopsis = "trace -o DIR [-b MB] (-p PID | -- CMD ARGS...)\n",
	.help =
	"trace   records every call, return and line of a CPython 3.11 (from its USDT\n"
	"        probes) and the C-method calls and returns of a CRuby (its Ruby methods\n"
	"        only while a TracePoint is on), and its writes to stdout and stderr, into DIR in\n"
	"        CodeTracer's trace format (docs/trace.md); a CPython without probes (pyenv,\n"
	"        3.12+) and CPython 2.7, 3.6-3.10 by uprobes on its eval loop: calls and\n"
	"        returns, no lines; a CRuby 3.3 without probes (Debian's) by a write\n"
	"        breakpoint on each thread's ec->cfp: calls and returns.  -p: a running\n"
	"        process, whose running frames are called at its first event; -- CMD:\n"
	"        the interpreter, or a command that runs it by exec in the same process\n"
	"        (chroot, env); exits with its status.  -o: a new or empty directory, or an\n"
	"        earlier trace's, which is replaced.  -b: ring buffer MB, a power of two\n"
	"        up to 2048 (default 64); losses are counted and marked in the trace.\n",
	.shortopts = "o:b:",
	.longopts = trace_longopts,
	.opts_size = sizeof(struct trace_opts),
	.init = trace_init,
	.option = trace_option,
	.check = trace_check,
	.run = trace_run,
};
