/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf: puts CPython and CRuby frames into an unmodified `perf record`.
 *   rt-bpf attach [--perf-pid PID] [-p PID...]
 *   rt-bpf record [-F HZ] [--call-graph fp|dwarf] [-o FILE] [-d SECONDS]
 *                 (-p PID | -a | [-a] -- CMD ARGS...)
 * Argument parsing and wiring only: the walker is bpf/walker.bpf.c, process
 * inspection bpf/pyproc.c and bpf/rbproc.c, perf's side bpf/perfattach.c.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/discovery_events.h"
#include "bpf/kfeatures.h"
#include "bpf/perfattach.h"
#include "bpf/pyproc.h"
#include "bpf/rbproc.h"
#include "bpf/dsocache.h"
#include "bpf/record.h"
#include "bpf/walker.h"
#include "bpf/walker.skel.h"
#include "layouts/layout.h"
#include "layouts/layoutfile.h"
#include "rtbpf/trace.h"

/* Processes are found from kernel events (bpf/discovery.bpf.c); a full
 * /proc scan runs at start, when events were lost, and every SAFETY_SCAN_MS
 * as a safety net; every RESCAN_MS when the kernel refuses the events. */
#define SAFETY_SCAN_MS 30000
#define RESCAN_MS 100
#define WAIT_MAX_MS 100 /* the longest discovery waits: the stop flag is seen */
#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define RT_BPF_VERSION "0.1"

struct app {
	struct walker_bpf *skel;
	struct rt_pyproc_tracker *tracker;
	enum rt_process_scope scope;
	pid_t pids[64];
	size_t nr_pids;
	pthread_t scanner;
	bool scanner_running;
	volatile bool stop;
	unsigned int nr_python;       /* interpreter processes configured (Python and Ruby) */
	unsigned int nr_ruby;         /* ... of which Ruby */
	struct rt_rbproc_tracker *rb_tracker; /* CRuby processes (bpf/rbproc.c) */
	struct rt_discovery *discovery;       /* process events; NULL: /proc polling */
	uint64_t lost;                        /* events lost so far */
	uint64_t next_scan_ms;                /* CLOCK_MONOTONIC of the next full scan */
	bool verbose;
	const struct rt_layout *layout; /* --layout FILE: used instead of layouts/' table */
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
		"       rt-bpf record [-F HZ] [--call-graph fp|dwarf] [-o FILE] [-d SECONDS]\n"
		"                     (-p PID | -a | [-a] -- CMD ARGS...)\n"
		"       rt-bpf --version\n"
		"\n"
		"attach  adds CPython (2.7, 3.6-3.15) and Ruby (2.7, 3.1, 3.3) frames to a running `perf record` that has a\n"
		"        bpf-output event (perf record -a -g -k mono -e cpu-clock\n"
		"        -e bpf-output/no-inherit,name=rt,call-graph=no/ ...) until perf exits or\n"
		"        Ctrl-C.  call-graph=no keeps perf's native samples for perf report.\n"
		"        -p limits it to the given processes (default: every Python and Ruby process).\n"
		"record  runs perf record -a with such an event and attaches to it.\n"
		"        -F HZ (default 99), --call-graph fp|dwarf (default fp; dwarf when\n"
		"        callchains break), -o FILE (default perf.data), -d SECONDS: stop after\n"
		"        that long.  What is recorded and when it ends:\n"
		"          -p PID    every thread of that process, present and future;\n"
		"                    ends when it exits, after -d, or at Ctrl-C\n"
		"          -a        every process; ends after -d or at Ctrl-C\n"
		"          -- CMD    runs CMD; it and its children; ends when CMD exits, after\n"
		"                    -d or at Ctrl-C (CMD is then stopped too)\n"
		"          -a -- CMD every process, for as long as CMD runs\n"
		"        -p and -- CMD name their target in the file, and rtmerge folds only it\n"
		"        (rtmerge --all-processes folds everything).\n"
		"--layout FILE  walk CPython processes of FILE's version with that layout file\n"
		"        (docs/layouts.md); 3.13+ checks it against the process's _Py_DebugOffsets.\n"
		"Read the result with rtmerge.  Needs root and kernel BTF.  Environment: PERF\n"
		"names the perf binary (run directly, never through a shell; found on PATH).\n");
}

/* The layout to walk CPython process @proc with (rt_pyproc__layout with
 * --layout's or layouts/' table for its version); a table that contradicts
 * the process's own _Py_DebugOffsets is refused here, in one line. */
static int py_layout(const struct app *app, const struct rt_pyproc *proc, struct rt_layout *out,
		     char *msg, size_t msg_size)
{
	const struct rt_layout *table = app->layout;
	int err;

	if (!table)
		table = rt_layout__find(RT_RUNTIME_CPYTHON, proc->major, proc->minor, proc->patch);
	else if (table->major != proc->major || table->minor != proc->minor)
		table = NULL; /* checked against the version: never used for another */
	err = rt_pyproc__layout(proc, table, out, msg, msg_size);
	if (!err && msg[0])
		fprintf(stderr, "rt-bpf: pid %d (CPython %d.%d.%d): %s; walking it with its own "
			"_Py_DebugOffsets\n", proc->pid, proc->major, proc->minor, proc->patch, msg);
	return err;
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
	struct rt_layout layout;
	char msg[256];

	if (!proc) {
		bpf_map_delete_elem(map_fd, &key);
		return;
	}
	cache_container_files(pid);
	if (py_layout(app, proc, &layout, msg, sizeof(msg))) {
		fprintf(stderr, "rt-bpf: pid %d (CPython %d.%d.%d, %s): refusing to walk it: %s; its "
			"samples stay native-only\n", pid, proc->major, proc->minor, proc->patch,
			proc->elf, msg);
		return;
	}
	if (rt_pyproc__walker_config(proc, &layout, generation, &cfg)) {
		fprintf(stderr, "rt-bpf: pid %d runs CPython %d.%d.%d (%s): its layout lacks what the "
			"walker needs (docs/layouts.md); its samples stay native-only\n", pid,
			proc->major, proc->minor, proc->patch, proc->elf);
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
	app->nr_ruby++;
	if (app->verbose)
		fprintf(stderr, "rt-bpf: walking pid %d: Ruby %d.%d.%d in %s, symbol table %s\n", pid,
			proc->major, proc->minor, proc->patch, proc->elf,
			proc->symbols_addr ? "found" : "not found yet");
}

/* Reads --layout's file (docs/layouts.md).  Returns a pointer to static
 * storage, or NULL after saying why. */
static const struct rt_layout *read_layout(const char *path)
{
	static struct rt_layout_file file;
	static struct rt_layout layout;
	int line = 0, err = rt_layout_file__read(path, &file, &line);

	if (err) {
		fprintf(stderr, "rt-bpf: --layout %s: %s%.0d\n", path,
			err == -EINVAL ? "malformed at line " : strerror(-err), err == -EINVAL ? line : 0);
		return NULL;
	}
	layout = (struct rt_layout){
		.runtime = RT_RUNTIME_CPYTHON,
		.major = file.version.major,
		.minor = file.version.minor,
		.patch_min = file.version.patch,
		.patch_max = file.version.patch,
		.linetable_format = file.linetable_format,
		.cpython = file.cpython,
		.debug = file.debug,
	};
	return &layout;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A process event from the kernel: both trackers apply it. */
static void on_discovery(void *ctx, const struct rt_discovery_event *e)
{
	static const enum rt_process_event_type types[] = {
		[RT_DISCOVERY_EXEC] = RT_PROCESS_EXEC,
		[RT_DISCOVERY_FORK] = RT_PROCESS_FORK,
		[RT_DISCOVERY_EXIT] = RT_PROCESS_EXIT,
		[RT_DISCOVERY_MMAP] = RT_PROCESS_MAPPED,
	};
	struct app *app = ctx;
	struct rt_process_event ev = {
		.pid = (pid_t)e->pid,
		.ppid = (pid_t)e->ppid,
		.time_ns = e->time_ns,
		.start_ns = e->start_ns,
	};

	if (e->type < RT_DISCOVERY_EXEC || e->type > RT_DISCOVERY_MMAP)
		return;
	ev.type = types[e->type];
	rt_process_tracker__event(rt_pyproc_tracker__processes(app->tracker), &ev);
	rt_process_tracker__event(rt_rbproc_tracker__processes(app->rb_tracker), &ev);
}

/* Scans /proc in full (both trackers) and sets the time of the next scan. */
static void full_scan(struct app *app)
{
	rt_pyproc_tracker__scan(app->tracker);
	rt_rbproc_tracker__scan(app->rb_tracker);
	app->next_scan_ms = monotonic_ms() + (app->discovery ? SAFETY_SCAN_MS : RESCAN_MS);
}

/* Starts discovery: process events first, so that no process starting
 * during the first full scan goes unseen (events older than a check are
 * dropped by the tracker), then that scan. */
static void start_discovery(struct app *app)
{
	app->discovery = rt_discovery__new(on_discovery, app);
	if (!app->discovery)
		fprintf(stderr, "rt-bpf: no process events from the kernel (%s): rescanning /proc every "
			"%d ms instead\n", strerror(errno), RESCAN_MS);
	else if (app->verbose && !rt_discovery__sees_mmaps(app->discovery))
		fprintf(stderr, "rt-bpf: no mmap events (syscalls tracepoints need tracefs): libraries "
			"mapped after exec are found by retries\n");
	full_scan(app);
}

/* One round of discovery, at most @max_ms long: waits for process events
 * and applies them, runs the trackers' due retries, and scans /proc in
 * full when events were lost or the next scan is due. */
static void discover(struct app *app, int max_ms)
{
	int wait = max_ms, py, rb;
	uint64_t now = monotonic_ms(), lost;

	py = rt_process_tracker__retry(rt_pyproc_tracker__processes(app->tracker));
	rb = rt_process_tracker__retry(rt_rbproc_tracker__processes(app->rb_tracker));
	if (py >= 0 && py < wait)
		wait = py;
	if (rb >= 0 && rb < wait)
		wait = rb;
	if (app->next_scan_ms <= now)
		wait = 0;
	else if (app->next_scan_ms - now < (uint64_t)wait)
		wait = (int)(app->next_scan_ms - now);
	if (app->discovery) {
		rt_discovery__poll(app->discovery, wait);
	} else if (wait > 0) {
		struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	lost = app->discovery ? rt_discovery__lost(app->discovery) : 0;
	if (lost != app->lost || monotonic_ms() >= app->next_scan_ms) {
		app->lost = lost;
		full_scan(app);
	}
}

static void *scanner_main(void *arg)
{
	struct app *app = arg;

	while (!app->stop)
		discover(app, WAIT_MAX_MS);
	return NULL;
}

/* Checks the explicit -p targets up front: a wrong pid is a user error. */
static int check_targets(const struct app *app)
{
	for (size_t i = 0; i < app->nr_pids; i++) {
		struct rt_pyproc proc;
		struct rt_layout layout;
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
				"libpython) nor CRuby (no ruby_current_vm_ptr); rt-bpf walks CPython 2.7 and 3.6-3.15 and Ruby 3.1\n", app->pids[i]);
			return err;
		}
		if (py_layout(app, &proc, &layout, msg, sizeof(msg))) {
			fprintf(stderr, "rt-bpf: process %d runs CPython %d.%d.%d: refusing to walk it: %s\n",
				app->pids[i], proc.major, proc.minor, proc.patch, msg);
			return -ENOTSUP;
		}
	}
	return 0;
}

/*
 * true when @name is an executable regular file, looked up on PATH the way
 * execvp() will run it.  $PERF is never handed to a shell: a name like
 * "x'; touch F; '" is only ever a file name that does not exist.
 */
static bool executable_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];
	struct stat st;

	if (strchr(name, '/'))
		return !stat(name, &st) && S_ISREG(st.st_mode) && !access(name, X_OK);
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (snprintf(buf, sizeof(buf), "%.*s/%s", len ? (int)len : 1, len ? path : ".",
			     name) < (int)sizeof(buf) &&
		    !stat(buf, &st) && S_ISREG(st.st_mode) && !access(buf, X_OK))
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

static int preflight(bool need_perf)
{
	char msg[512];

	if (geteuid() != 0) {
		fprintf(stderr, "rt-bpf: needs root (BPF programs and perf's file descriptors); run it with sudo\n");
		return -EPERM;
	}
	if (access(BTF_PATH, R_OK)) {
		fprintf(stderr, "rt-bpf: no kernel BTF at %s; use a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
			BTF_PATH);
		return -ENOTSUP;
	}
	/* the kernel's side first: below the floor the walker would fail to
	 * load with a verifier log, or attach would fail half-way */
	if (rt_kfeatures__check(msg, sizeof(msg))) {
		fprintf(stderr, "rt-bpf: %s\n", msg);
		return -ENOTSUP;
	}
	if (need_perf) {
		const char *perf = getenv("PERF");

		if (!perf || !*perf)
			perf = "perf";
		if (!executable_on_path(perf)) {
			fprintf(stderr, "rt-bpf: perf not found (%s); install it (Debian: apt-get install "
				"linux-perf) or set PERF to its path\n", perf);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * true when perf's channel samples carry no native stack (rt-bpf record
 * opens it with call-graph=no): then the walker keeps every native sample
 * and a stack record only adds interpreter frames.  A channel with a
 * callchain (a user's perf record -g ... -e bpf-output/.../) stands for the
 * native sample, which is dropped instead.
 */
static bool channel_without_callchain(const struct rt_perf_session *s)
{
	for (size_t i = 0; i < rt_perf_session__nr_events(s); i++) {
		const struct rt_perf_event *ev = rt_perf_session__event(s, i);

		if (ev->role == RT_PERF_EVENT_CHANNEL)
			return !(ev->info.sample_type & (PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_STACK_USER));
	}
	return false;
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
	app->skel->rodata->keep_native = channel_without_callchain(s);
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
	app->rb_tracker = rt_rbproc_tracker__new(app->scope, app->pids, app->nr_pids,
						 on_ruby_process, app);
	if (!app->rb_tracker)
		return -errno;
	start_discovery(app);
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

/* The samples counter's name: what kind of interpreter was walked. */
static const char *samples_name(const struct app *app)
{
	if (app->nr_ruby && app->nr_ruby == app->nr_python)
		return "ruby samples";
	if (app->nr_ruby)
		return "python and ruby samples";
	return "python samples";
}

/*
 * What to do about counters that mean part of the profile is missing: one
 * line per problem, each saying what to do.
 */
static void print_warnings(const struct app *app, const __u64 *stat)
{
	if (stat[RT_WALKER_STAT_NO_TSTATE])
		fprintf(stderr, "rt-bpf: note: no thread state=%llu: samples of threads that had no "
			"interpreter state at that moment (threads started from C code, or not yet or "
			"no longer running the interpreter); they fold with their native frames\n",
			(unsigned long long)stat[RT_WALKER_STAT_NO_TSTATE]);
	if (stat[RT_WALKER_STAT_CODE_DEFERRED])
		fprintf(stderr, "rt-bpf: note: code records deferred=%llu: samples that met more new "
			"functions than one sample sends names for; the rest are sent with later "
			"samples, nothing is lost\n",
			(unsigned long long)stat[RT_WALKER_STAT_CODE_DEFERRED]);
	if (!app->nr_python)
		fprintf(stderr, "rt-bpf: warning: no Python or Ruby process was found%s; the file holds "
			"native stacks only.  rt-bpf walks CPython 2.7 and 3.6-3.13 and Ruby 3.1 (see "
			"-v for what it finds)\n", app->scope == RT_PROCESS_ALL ? "" : " in the target");
	if (stat[RT_WALKER_STAT_NO_CHANNEL])
		fprintf(stderr, "rt-bpf: warning: %llu samples came from threads perf opened no channel "
			"for (perf record -p only covers threads that existed when it started); their "
			"interpreter frames are missing: run perf with -a, or use rt-bpf record -p PID\n",
			(unsigned long long)stat[RT_WALKER_STAT_NO_CHANNEL]);
	if (stat[RT_WALKER_STAT_STACK_LOST] || stat[RT_WALKER_STAT_CODE_LOST])
		fprintf(stderr, "rt-bpf: warning: perf's buffer was full: %llu interpreter stacks and %llu "
			"code records lost (those samples fold without interpreter frames or names); "
			"lower -F or run fewer busy processes\n",
			(unsigned long long)stat[RT_WALKER_STAT_STACK_LOST],
			(unsigned long long)stat[RT_WALKER_STAT_CODE_LOST]);
	if (stat[RT_WALKER_STAT_OUTPUT_ERROR])
		fprintf(stderr, "rt-bpf: warning: %llu interpreter stacks could not be written (perf "
			"stopped or closed its channel first); they fold as native stacks\n",
			(unsigned long long)stat[RT_WALKER_STAT_OUTPUT_ERROR]);
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
	__u64 stat[RT_WALKER_STAT_MAX] = { 0 };

	fprintf(stderr, "rt-bpf:");
	for (__u32 k = 0; k < RT_WALKER_STAT_MAX; k++) {
		if (percpu_sum(fd, k, ncpu, &stat[k]))
			continue;
		fprintf(stderr, " %s=%llu%s", k == RT_WALKER_STAT_SAMPLES ? samples_name(app) : names[k],
			(unsigned long long)stat[k], k + 1 < RT_WALKER_STAT_MAX ? "," : "\n");
	}
	if (ps && ps->valid && ps->run_cnt)
		fprintf(stderr, "rt-bpf: BPF run time: %llu runs, mean %llu ns/sample\n",
			(unsigned long long)ps->run_cnt,
			(unsigned long long)(ps->run_time_ns / ps->run_cnt));
	else
		fprintf(stderr, "rt-bpf: BPF run time: not available\n");
	print_run_time(app, ncpu);
	print_warnings(app, stat);
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
	while (!interrupted && !rt_perf_session__perf_exited(s))
		discover(app, WAIT_MAX_MS);
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
		/* The command is held before exec: its pid is known now, and
		 * is the handle a user needs for rtmerge -p or attach. */
		fprintf(stderr, "rt-bpf: recording pid %d and its children\n", target_pid);
	} else if (target_pid > 0 && app->scope == RT_PROCESS_PID) {
		fprintf(stderr, "rt-bpf: recording every thread of pid %d\n", target_pid);
	} else if (target_pid > 0) {
		fprintf(stderr, "rt-bpf: recording every process while pid %d runs\n", target_pid);
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
	bool all = false, duration = false;
	const char *sub;
	int err = 0, c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("rt-bpf %s\n", RT_BPF_VERSION);
		return 0;
	}
	sub = argv[1];
	if (!strcmp(sub, "trace"))
		return rt_trace__main(argc - 1, argv + 1);
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
			{ "layout", required_argument, NULL, 'L' },
			{ 0 },
		};

		optind = 2;
		while ((c = getopt_long(argc, argv, "+p:F:o:d:avh", lopts, NULL)) != -1) {
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
			case 'd': {
				char *end;
				double sec = strtod(optarg, &end);

				if (end == optarg || *end || !(sec > 0) || sec > 86400 * 7) {
					fprintf(stderr, "rt-bpf: bad -d %s (seconds, more than 0)\n", optarg);
					return 2;
				}
				ro.duration_ms = (unsigned int)(sec * 1000 + 0.5);
				if (!ro.duration_ms)
					ro.duration_ms = 1;
				duration = true;
				break;
			}
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
			case 'L':
				app.layout = read_layout(optarg);
				if (!app.layout)
					return 2;
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
		if (optind < argc || all || duration) {
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
	if ((optind < argc && !all) + (app.nr_pids > 0) + all != 1 || app.nr_pids > 1) {
		fprintf(stderr, "rt-bpf record: give exactly one of -p PID, -a, -- CMD ARGS "
			"(or -a -- CMD ARGS)\n");
		return 2;
	}
	err = preflight(true);
	if (!err)
		err = check_targets(&app);
	if (err)
		goto out;
	if (optind < argc) {
		/* -a -- CMD: every process, for as long as CMD runs. */
		ro.target = RT_PERF_RECORD_COMMAND;
		ro.argv = &argv[optind];
		ro.mark_target = !all;
		if (!all)
			app.scope = RT_PROCESS_TREE;
	} else if (app.nr_pids) {
		/* System-wide events with the walker's pid filter: perf's -p
		 * would open events only for the threads that exist now. */
		ro.target = RT_PERF_RECORD_PROCESS;
		ro.pid = app.pids[0];
		ro.mark_target = true;
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
	rt_discovery__free(app.discovery);
	rt_pyproc_tracker__free(app.tracker);
	rt_rbproc_tracker__free(app.rb_tracker);
	walker_bpf__destroy(app.skel);
	return err ? 1 : 0;
}
