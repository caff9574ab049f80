/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf: puts CPython and CRuby frames into an unmodified `perf record`.
 *   rt-bpf attach [--perf-pid PID] [-p PID...]
 *   rt-bpf record [-F HZ] [--call-graph fp|dwarf] [-o FILE] (-p PID | -a | -- CMD ARGS...)
 * Argument parsing and wiring only: the walker is bpf/walker.bpf.c, process
 * inspection bpf/pyproc.c and bpf/rbproc.c, perf's side bpf/perfattach.c.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/perfattach.h"
#include "bpf/pyproc.h"
#include "bpf/rbproc.h"
#include "bpf/dsocache.h"
#include "bpf/record.h"
#include "bpf/walker.h"
#include "bpf/walker.skel.h"
#include "layouts/layout.h"

#define RESCAN_MS 100
#define FAST_RESCAN_MS 5     /* for the first FAST_RESCANS scans */
#define FAST_RESCANS 200
#define BTF_PATH "/sys/kernel/btf/vmlinux"

struct app {
	struct walker_bpf *skel;
	struct rt_pyproc_tracker *tracker;
	enum rt_process_scope scope;
	pid_t pids[64];
	size_t nr_pids;
	pthread_t scanner;
	bool scanner_running;
	volatile bool stop;
	unsigned int nr_python;
	struct rt_rbproc_tracker *rb_tracker; /* CRuby processes (bpf/rbproc.c) */
	bool verbose;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void log_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "rt-bpf: %s\n", msg);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rt-bpf attach [--perf-pid PID] [-p PID...]\n"
		"       rt-bpf record [-F HZ] [--call-graph fp|dwarf] [-o FILE] (-p PID | -a | -- CMD ARGS...)\n"
		"\n"
		"attach  adds CPython (2.7, 3.6-3.13) and Ruby (2.7, 3.1, 3.3) frames to a running `perf record` that has a\n"
		"        bpf-output event (perf record -a -g -k mono -e cpu-clock\n"
		"        -e bpf-output/no-inherit,name=rt/ ...) until perf exits or Ctrl-C.\n"
		"        -p limits it to the given processes (default: every Python and Ruby process).\n"
		"record  runs perf record with such an event and attaches to it.\n"
		"        -F HZ (default 99), --call-graph fp|dwarf (default fp), -o FILE\n"
		"        (default perf.data); -p PID: that process, -a: every process,\n"
		"        -- CMD: run CMD and record it and its children.\n"
		"Read the result with rtmerge.  Needs root and kernel BTF.\n");
}

/* A container's files vanish with it: copy them into the build-id cache
 * while the process lives (bpf/dsocache.h); host files stay where perf saw
 * them. */
static void cache_container_files(pid_t pid)
{
	if (rt_dsocache__foreign_root(pid))
		rt_dsocache__add_process(NULL, pid);
}

/* A Python process appeared (proc != NULL) or went away. */
static void on_process(void *ctx, pid_t pid, const struct rt_pyproc *proc, uint32_t generation)
{
	struct app *app = ctx;
	int map_fd = bpf_map__fd(app->skel->maps.pids);
	__u32 key = (__u32)pid;
	struct rt_walker_config cfg;
	const struct rt_layout *layout;
	char msg[256];

	if (!proc) {
		bpf_map_delete_elem(map_fd, &key);
		return;
	}
	cache_container_files(pid);
	layout = rt_layout__find(RT_RUNTIME_CPYTHON, proc->major, proc->minor, proc->patch);
	if (!layout || rt_pyproc__walker_config(proc, layout, generation, &cfg)) {
		fprintf(stderr, "rt-bpf: pid %d runs CPython %d.%d%s%.0d (%s): version not supported "
			"(no layout for it, docs/layouts.md); its samples stay native-only\n", pid,
			proc->major, proc->minor, proc->patch >= 0 ? "." : "",
			proc->patch >= 0 ? proc->patch : 0, proc->elf);
		return;
	}
	if (rt_pyproc__check_layout(proc, layout, msg, sizeof(msg))) {
		fprintf(stderr, "rt-bpf: pid %d (CPython %d.%d.%d, %s): refusing to walk it: %s\n", pid,
			proc->major, proc->minor, proc->patch, proc->elf, msg);
		return;
	}
	if (bpf_map_update_elem(map_fd, &key, &cfg, BPF_ANY)) {
		fprintf(stderr, "rt-bpf: pid %d: cannot configure the walker: %s\n", pid,
			strerror(errno));
		return;
	}
	app->nr_python++;
	if (app->verbose)
		fprintf(stderr, "rt-bpf: walking pid %d: CPython %d.%d.%d, _PyRuntime at 0x%llx in %s\n",
			pid, proc->major, proc->minor, proc->patch,
			(unsigned long long)proc->runtime_addr, proc->elf);
}

/* A Ruby process appeared, was updated (proc != NULL) or went away. */
static void on_ruby_process(void *ctx, pid_t pid, const struct rt_rbproc *proc, uint32_t generation)
{
	struct app *app = ctx;
	int map_fd = bpf_map__fd(app->skel->maps.rb_pids);
	__u32 key = (__u32)pid;
	struct rt_ruby_walker_config cfg;
	const struct rt_layout *layout;

	if (!proc) {
		bpf_map_delete_elem(map_fd, &key);
		return;
	}
	cache_container_files(pid);
	layout = rt_layout__find(RT_RUNTIME_RUBY, proc->major, proc->minor, proc->patch);
	if (!layout || rt_rbproc__walker_config(proc, &layout->ruby, generation, &cfg)) {
		fprintf(stderr, "rt-bpf: pid %d runs Ruby %d.%d.%d (%s): no layout for it (have: %s); its "
			"samples stay native-only; docs/ruby.md says how to add one\n", pid, proc->major,
			proc->minor, proc->patch, proc->elf, rt_layout_ruby__supported());
		return;
	}
	if (bpf_map_update_elem(map_fd, &key, &cfg, BPF_ANY)) {
		fprintf(stderr, "rt-bpf: pid %d: cannot configure the Ruby walker: %s\n", pid,
			strerror(errno));
		return;
	}
	app->nr_python++;
	if (app->verbose)
		fprintf(stderr, "rt-bpf: walking pid %d: Ruby %d.%d.%d in %s, symbol table %s\n", pid,
			proc->major, proc->minor, proc->patch, proc->elf,
			proc->symbols_addr ? "found" : "not found yet");
}

static void *scanner_main(void *arg)
{
	struct app *app = arg;
	struct timespec fast = { 0, FAST_RESCAN_MS * 1000000L }, slow = { 0, RESCAN_MS * 1000000L };
	unsigned int scans = 0;

	/* A command started by `record` execs its interpreter right after
	 * perf is enabled: look often at first so its first samples already
	 * carry interpreter frames, then settle to the slower pace (at once
	 * when the command's interpreter is found: scans cost the machine). */
	while (!app->stop) {
		bool fast_pace;

		rt_pyproc_tracker__scan(app->tracker);
		rt_rbproc_tracker__scan(app->rb_tracker);
		fast_pace = scans++ < FAST_RESCANS &&
			    !(app->scope == RT_PROCESS_TREE && app->nr_python > 0);
		nanosleep(fast_pace ? &fast : &slow, NULL);
	}
	return NULL;
}

/* Checks the explicit -p targets up front: a wrong pid is a user error. */
static int check_targets(const struct app *app)
{
	for (size_t i = 0; i < app->nr_pids; i++) {
		struct rt_pyproc proc;
		const struct rt_layout *layout;
		char msg[256];
		int err = rt_pyproc__inspect(app->pids[i], &proc);

		if (err == -ESRCH) {
			fprintf(stderr, "rt-bpf: no process %d\n", app->pids[i]);
			return err;
		}
		if (err == -ENOENT) {
			struct rt_rbproc rb;

			if (!rt_rbproc__inspect(app->pids[i], &rb)) {
				if (rt_layout__find(RT_RUNTIME_RUBY, rb.major, rb.minor, rb.patch))
					continue;
				fprintf(stderr, "rt-bpf: process %d runs Ruby %d.%d.%d (%s): no layout for it "
					"(have: %s); docs/ruby.md says how to add one\n", app->pids[i],
					rb.major, rb.minor, rb.patch, rb.elf, rt_layout_ruby__supported());
				return -ENOTSUP;
			}
		}
		if (err) {
			fprintf(stderr, "rt-bpf: process %d is not CPython (no _PyRuntime in its executable or a "
				"libpython) nor CRuby (no ruby_current_vm_ptr); rt-bpf walks CPython 2.7 and 3.6-3.13 and Ruby 3.1\n", app->pids[i]);
			return err;
		}
		layout = rt_layout__find(RT_RUNTIME_CPYTHON, proc.major, proc.minor, proc.patch);
		if (!layout) {
			fprintf(stderr, "rt-bpf: process %d runs CPython %d.%d.%d: version not supported "
				"(no layout for it; docs/layouts.md says how to add one)\n", app->pids[i],
				proc.major, proc.minor, proc.patch);
			return -ENOTSUP;
		}
		if (rt_pyproc__check_layout(&proc, layout, msg, sizeof(msg))) {
			fprintf(stderr, "rt-bpf: process %d runs CPython %d.%d.%d: refusing to walk it: %s\n",
				app->pids[i], proc.major, proc.minor, proc.patch, msg);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int preflight(bool need_perf)
{
	if (geteuid() != 0) {
		fprintf(stderr, "rt-bpf: needs root (BPF programs and perf's file descriptors); run it with sudo\n");
		return -EPERM;
	}
	if (access(BTF_PATH, R_OK)) {
		fprintf(stderr, "rt-bpf: no kernel BTF at %s; use a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
			BTF_PATH);
		return -ENOTSUP;
	}
	if (need_perf) {
		const char *perf = getenv("PERF");
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", perf && *perf ? perf : "perf");
		if (system(cmd)) {
			fprintf(stderr, "rt-bpf: perf not found; install it (Debian: apt-get install linux-perf)\n");
			return -ENOENT;
		}
	}
	return 0;
}

/* Opens and loads the walker sized for session @s, and attaches it. */
static int load_and_attach(struct app *app, struct rt_perf_session *s)
{
	bool system_wide = rt_perf_session__system_wide(s);
	unsigned int slots = rt_perf_session__channel_slots(s);
	unsigned int tid_slots = rt_perf_session__tid_slot_entries(s);
	int err;

	if (!rt_perf_session__nr_role(s, RT_PERF_EVENT_CHANNEL)) {
		fprintf(stderr, "rt-bpf: perf record %d has no bpf-output channel; add "
			"-e bpf-output/no-inherit,name=rt/ to its command line\n", rt_perf_session__pid(s));
		return -ENOENT;
	}
	app->skel = walker_bpf__open();
	if (!app->skel) {
		fprintf(stderr, "rt-bpf: cannot open the walker: %s\n", strerror(errno));
		return -errno;
	}
	app->skel->rodata->per_thread_channels = !system_wide;
	bpf_map__set_max_entries(app->skel->maps.channel, slots ? slots : 1);
	bpf_map__set_max_entries(app->skel->maps.channel_slots, tid_slots ? tid_slots : 1);
	err = walker_bpf__load(app->skel);
	if (err) {
		fprintf(stderr, "rt-bpf: the kernel refused the walker program: %s\n", strerror(-err));
		return err;
	}
	app->tracker = rt_pyproc_tracker__new(app->scope, app->pids, app->nr_pids, on_process, app);
	if (!app->tracker)
		return -errno;
	rt_pyproc_tracker__scan(app->tracker);
	app->rb_tracker = rt_rbproc_tracker__new(app->scope, app->pids, app->nr_pids,
						 on_ruby_process, app);
	if (!app->rb_tracker)
		return -errno;
	rt_rbproc_tracker__scan(app->rb_tracker);
	err = rt_perf_session__attach(s, bpf_program__fd(app->skel->progs.rt_walker),
				      bpf_map__fd(app->skel->maps.channel),
				      system_wide ? -1 : bpf_map__fd(app->skel->maps.channel_slots));
	if (err) {
		fprintf(stderr, "rt-bpf: cannot attach to perf record %d: %s\n", rt_perf_session__pid(s),
			strerror(-err));
		return err;
	}
	return 0;
}

static int start_scanner(struct app *app)
{
	int err = pthread_create(&app->scanner, NULL, scanner_main, app);

	if (err)
		return -err;
	app->scanner_running = true;
	return 0;
}

static void stop_scanner(struct app *app)
{
	app->stop = true;
	if (app->scanner_running)
		pthread_join(app->scanner, NULL);
	app->scanner_running = false;
}

/* The sum over every CPU of entry @key of the per-CPU array @fd. */
static int percpu_sum(int fd, __u32 key, int ncpu, __u64 *sum)
{
	__u64 vals[ncpu];

	*sum = 0;
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (int c = 0; c < ncpu; c++)
		*sum += vals[c];
	return 0;
}

/* The us bucket holding the q-quantile of n samples (the last one: longer). */
static unsigned int quantile_bucket(const __u64 *hist, __u64 n, double q)
{
	__u64 rank = (__u64)(q * (double)(n - 1)), seen = 0;

	for (unsigned int b = 0; b < RT_WALKER_TIME_BUCKETS; b++) {
		seen += hist[b];
		if (seen > rank)
			return b;
	}
	return RT_WALKER_TIME_BUCKETS - 1;
}

/* Median and 90th percentile of the walker's run time on interpreter
 * samples, from the program's own 1 us histogram. */
static void print_run_time(const struct app *app, int ncpu)
{
	__u64 hist[RT_WALKER_TIME_BUCKETS] = { 0 }, n = 0;
	int fd = bpf_map__fd(app->skel->maps.run_time);

	if (fd < 0)
		return;
	for (__u32 b = 0; b < RT_WALKER_TIME_BUCKETS; b++)
		if (!percpu_sum(fd, b, ncpu, &hist[b]))
			n += hist[b];
	if (!n)
		return;
	unsigned int med = quantile_bucket(hist, n, 0.5), p90 = quantile_bucket(hist, n, 0.9);
	const char *more = p90 == RT_WALKER_TIME_BUCKETS - 1 ? " or more" : "";

	fprintf(stderr, "rt-bpf: BPF run time on interpreter samples: %llu samples, median %u-%u us, "
		"90th percentile %u-%u us%s\n", (unsigned long long)n, med, med + 1, p90, p90 + 1,
		more);
}

static void print_stats(const struct app *app, const struct rt_perf_prog_stats *ps)
{
	static const char *const names[RT_WALKER_STAT_MAX] = {
		[RT_WALKER_STAT_SAMPLES] = "python samples",
		[RT_WALKER_STAT_OTHER_PID] = "other samples",
		[RT_WALKER_STAT_NO_TSTATE] = "no thread state",
		[RT_WALKER_STAT_READ_FAULT] = "read faults",
		[RT_WALKER_STAT_TRUNCATED] = "truncated",
		[RT_WALKER_STAT_STACK_OK] = "stacks",
		[RT_WALKER_STAT_STACK_LOST] = "stacks lost",
		[RT_WALKER_STAT_OUTPUT_ERROR] = "output errors",
		[RT_WALKER_STAT_CODE_OK] = "code records",
		[RT_WALKER_STAT_CODE_LOST] = "code records lost",
		[RT_WALKER_STAT_CODE_DEFERRED] = "code records deferred",
		[RT_WALKER_STAT_FRAMES] = "frames",
		[RT_WALKER_STAT_NO_CHANNEL] = "no channel",
	};
	int ncpu = libbpf_num_possible_cpus();
	int fd;

	if (!app->skel || ncpu <= 0)
		return;
	fd = bpf_map__fd(app->skel->maps.stats);
	if (fd < 0)
		return;
	fprintf(stderr, "rt-bpf:");
	for (__u32 k = 0; k < RT_WALKER_STAT_MAX; k++) {
		__u64 sum;

		if (percpu_sum(fd, k, ncpu, &sum))
			continue;
		fprintf(stderr, " %s=%llu%s", names[k], (unsigned long long)sum,
			k + 1 < RT_WALKER_STAT_MAX ? "," : "\n");
	}
	if (ps && ps->valid && ps->run_cnt)
		fprintf(stderr, "rt-bpf: BPF run time: %llu runs, mean %llu ns/sample\n",
			(unsigned long long)ps->run_cnt,
			(unsigned long long)(ps->run_time_ns / ps->run_cnt));
	else
		fprintf(stderr, "rt-bpf: BPF run time: not available\n");
	print_run_time(app, ncpu);
}

static int cmd_attach(struct app *app, pid_t perf_pid)
{
	struct rt_perf_find_opts fo = { .sz = sizeof(fo), .perf_pid = perf_pid, .log = log_line };
	struct rt_perf_prog_stats ps = { 0 };
	struct rt_perf_session *s;
	int err;

	s = rt_perf_session__find(&fo);
	if (!s)
		return -errno;
	err = load_and_attach(app, s);
	if (err)
		goto out;
	fprintf(stderr, "rt-bpf: attached to perf record %d; %u Python process(es) so far; Ctrl-C or "
		"perf's exit detaches\n", rt_perf_session__pid(s), app->nr_python);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!interrupted && !rt_perf_session__perf_exited(s)) {
		struct pollfd p = { .fd = rt_perf_session__pidfd(s), .events = POLLIN };

		poll(&p, 1, RESCAN_MS);
		rt_pyproc_tracker__scan(app->tracker);
		rt_rbproc_tracker__scan(app->rb_tracker);
	}
	rt_perf_session__detach(s);
	rt_perf_session__prog_stats(s, &ps);
	print_stats(app, &ps);
out:
	rt_perf_session__free(s);
	return err;
}

static int record_attach(struct rt_perf_session *s, pid_t target_pid, void *ctx)
{
	struct app *app = ctx;
	int err;

	if (target_pid > 0 && app->scope == RT_PROCESS_TREE) {
		app->pids[0] = target_pid;
		app->nr_pids = 1;
	}
	err = load_and_attach(app, s);
	if (!err)
		err = start_scanner(app);
	return err;
}

int main(int argc, char **argv)
{
	struct app app = { .scope = RT_PROCESS_ALL };
	struct rt_perf_record_opts ro = { .sz = sizeof(ro), .log = log_line };
	struct rt_perf_record_result res;
	pid_t perf_pid = 0;
	bool all = false;
	const char *sub;
	int err = 0, c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "attach") && strcmp(sub, "record")) {
		fprintf(stderr, "rt-bpf: unknown command '%s' (try rt-bpf --help)\n", sub);
		return 2;
	}
	libbpf_set_print(libbpf_log);
	ro.freq = 99;
	ro.call_graph = RT_PERF_CALL_GRAPH_FP;
	{
		static const struct option lopts[] = {
			{ "perf-pid", required_argument, NULL, 'P' },
			{ "call-graph", required_argument, NULL, 'g' },
			{ "help", no_argument, NULL, 'h' },
			{ "verbose", no_argument, NULL, 'v' },
			{ 0 },
		};

		optind = 2;
		while ((c = getopt_long(argc, argv, "+p:F:o:avh", lopts, NULL)) != -1) {
			switch (c) {
			case 'P':
				perf_pid = atoi(optarg);
				break;
			case 'p':
				if (app.nr_pids == sizeof(app.pids) / sizeof(app.pids[0]) || atoi(optarg) <= 0) {
					fprintf(stderr, "rt-bpf: bad or too many -p: %s\n", optarg);
					return 2;
				}
				app.pids[app.nr_pids++] = atoi(optarg);
				break;
			case 'F':
				ro.freq = (unsigned int)atoi(optarg);
				if (!ro.freq) {
					fprintf(stderr, "rt-bpf: bad -F %s\n", optarg);
					return 2;
				}
				break;
			case 'o':
				ro.output = optarg;
				break;
			case 'g':
				if (!strcmp(optarg, "fp")) {
					ro.call_graph = RT_PERF_CALL_GRAPH_FP;
				} else if (!strcmp(optarg, "dwarf")) {
					ro.call_graph = RT_PERF_CALL_GRAPH_DWARF;
				} else {
					fprintf(stderr, "rt-bpf: --call-graph takes fp or dwarf\n");
					return 2;
				}
				break;
			case 'a':
				all = true;
				break;
			case 'v':
				app.verbose = true;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
			}
		}
	}
	if (app.nr_pids)
		app.scope = RT_PROCESS_PID;

	if (!strcmp(sub, "attach")) {
		if (optind < argc || all) {
			fprintf(stderr, "rt-bpf attach: unexpected argument (try rt-bpf --help)\n");
			return 2;
		}
		err = preflight(false);
		if (!err)
			err = check_targets(&app);
		if (!err)
			err = cmd_attach(&app, perf_pid);
		goto out;
	}

	/* record */
	if ((optind < argc) + (app.nr_pids > 0) + all != 1 || app.nr_pids > 1) {
		fprintf(stderr, "rt-bpf record: give exactly one of -p PID, -a, -- CMD ARGS\n");
		return 2;
	}
	err = preflight(true);
	if (!err)
		err = check_targets(&app);
	if (err)
		goto out;
	if (optind < argc) {
		ro.target = RT_PERF_RECORD_COMMAND;
		ro.argv = &argv[optind];
		app.scope = RT_PROCESS_TREE;
	} else if (app.nr_pids) {
		ro.target = RT_PERF_RECORD_PID;
		ro.pid = app.pids[0];
	} else {
		ro.target = RT_PERF_RECORD_SYSTEM;
	}
	ro.attach = record_attach;
	ro.attach_ctx = &app;
	err = rt_perf_record(&ro, &res);
	stop_scanner(&app);
	if (app.skel)
		print_stats(&app, &res.stats);
	if (!err)
		fprintf(stderr, "rt-bpf: wrote %s\n", res.output);
	if (!err && ro.target == RT_PERF_RECORD_COMMAND && res.target_status != -1 &&
	    WIFEXITED(res.target_status) && WEXITSTATUS(res.target_status))
		fprintf(stderr, "rt-bpf: the command exited with status %d\n", WEXITSTATUS(res.target_status));
out:
	stop_scanner(&app);
	rt_pyproc_tracker__free(app.tracker);
	rt_rbproc_tracker__free(app.rb_tracker);
	walker_bpf__destroy(app.skel);
	return err ? 1 : 0;
}
