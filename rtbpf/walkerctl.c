/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtbpf/walkerctl.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpf/discovery_events.h"
#include "bpf/dsocache.h"
#include "bpf/kfeatures.h"
#include "bpf/perfattach.h"
#include "bpf/pyproc.h"
#include "bpf/rbproc.h"
#include "bpf/walker.skel.h"

/* Processes are found from kernel events (bpf/discovery.bpf.c); a full
 * /proc scan runs at start, when events were lost, and every SAFETY_SCAN_MS
 * as a safety net; every RESCAN_MS when the kernel refuses the events. */
#define SAFETY_SCAN_MS 30000
#define RESCAN_MS 100
#define WAIT_MAX_MS 100 /* the longest discovery waits: the stop flag is seen */
#define BTF_PATH "/sys/kernel/btf/vmlinux"

struct rt_walkerctl {
	struct walker_bpf *skel;
	struct rt_pyproc_tracker *tracker;
	struct rt_rbproc_tracker *rb_tracker; /* CRuby processes (bpf/rbproc.c) */
	struct rt_discovery *discovery;       /* process events; NULL: /proc polling */
	enum rt_process_scope scope;
	const struct rt_layout *layout;
	bool verbose;
	pthread_t scanner;
	bool scanner_running;
	volatile bool stop;
	unsigned int nr_python;       /* interpreter processes configured (Python and Ruby) */
	unsigned int nr_ruby;         /* ... of which Ruby */
	uint64_t lost;                /* events lost so far */
	uint64_t next_scan_ms;        /* CLOCK_MONOTONIC of the next full scan */
};

/* The layout to walk CPython process @proc with (rt_pyproc__layout with
 * --layout's or layouts/' table for its version); a table that contradicts
 * the process's own _Py_DebugOffsets is refused here, in one line. */
static int py_layout(const struct rt_layout *given, const struct rt_pyproc *proc,
		     struct rt_layout *out, char *msg, size_t msg_size)
{
	const struct rt_layout *table = given;
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
	struct rt_walkerctl *ctl = ctx;
	int map_fd = bpf_map__fd(ctl->skel->maps.pids);
	__u32 key = (__u32)pid;
	struct rt_walker_config cfg;
	struct rt_layout layout;
	char msg[256];

	if (!proc) {
		bpf_map_delete_elem(map_fd, &key);
		return;
	}
	cache_container_files(pid);
	if (py_layout(ctl->layout, proc, &layout, msg, sizeof(msg))) {
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
	ctl->nr_python++;
	if (ctl->verbose)
		fprintf(stderr, "rt-bpf: walking pid %d: CPython %d.%d.%d, _PyRuntime at 0x%llx in %s\n",
			pid, proc->major, proc->minor, proc->patch,
			(unsigned long long)proc->runtime_addr, proc->elf);
}

/* A Ruby process appeared, was updated (proc != NULL) or went away. */
static void on_ruby_process(void *ctx, pid_t pid, const struct rt_rbproc *proc, uint32_t generation)
{
	struct rt_walkerctl *ctl = ctx;
	int map_fd = bpf_map__fd(ctl->skel->maps.rb_pids);
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
	ctl->nr_python++;
	ctl->nr_ruby++;
	if (ctl->verbose)
		fprintf(stderr, "rt-bpf: walking pid %d: Ruby %d.%d.%d in %s, symbol table %s\n", pid,
			proc->major, proc->minor, proc->patch, proc->elf,
			proc->symbols_addr ? "found" : "not found yet");
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
	struct rt_walkerctl *ctl = ctx;
	struct rt_process_event ev = {
		.pid = (pid_t)e->pid,
		.ppid = (pid_t)e->ppid,
		.time_ns = e->time_ns,
		.start_ns = e->start_ns,
	};

	if (e->type < RT_DISCOVERY_EXEC || e->type > RT_DISCOVERY_MMAP)
		return;
	ev.type = types[e->type];
	rt_process_tracker__event(rt_pyproc_tracker__processes(ctl->tracker), &ev);
	rt_process_tracker__event(rt_rbproc_tracker__processes(ctl->rb_tracker), &ev);
}

/* Scans /proc in full (both trackers) and sets the time of the next scan. */
static void full_scan(struct rt_walkerctl *ctl)
{
	rt_pyproc_tracker__scan(ctl->tracker);
	rt_rbproc_tracker__scan(ctl->rb_tracker);
	ctl->next_scan_ms = monotonic_ms() + (ctl->discovery ? SAFETY_SCAN_MS : RESCAN_MS);
}

/* Starts discovery: process events first, so that no process starting
 * during the first full scan goes unseen (events older than a check are
 * dropped by the tracker), then that scan. */
static void start_discovery(struct rt_walkerctl *ctl)
{
	ctl->discovery = rt_discovery__new(on_discovery, ctl);
	if (!ctl->discovery)
		fprintf(stderr, "rt-bpf: no process events from the kernel (%s): rescanning /proc every "
			"%d ms instead\n", strerror(errno), RESCAN_MS);
	else if (ctl->verbose && !rt_discovery__sees_mmaps(ctl->discovery))
		fprintf(stderr, "rt-bpf: no mmap events (syscalls tracepoints need tracefs): libraries "
			"mapped after exec are found by retries\n");
	full_scan(ctl);
}

void rt_walkerctl__discover(struct rt_walkerctl *ctl, int max_ms)
{
	int wait = max_ms, py, rb;
	uint64_t now = monotonic_ms(), lost;

	py = rt_process_tracker__retry(rt_pyproc_tracker__processes(ctl->tracker));
	rb = rt_process_tracker__retry(rt_rbproc_tracker__processes(ctl->rb_tracker));
	if (py >= 0 && py < wait)
		wait = py;
	if (rb >= 0 && rb < wait)
		wait = rb;
	if (ctl->next_scan_ms <= now)
		wait = 0;
	else if (ctl->next_scan_ms - now < (uint64_t)wait)
		wait = (int)(ctl->next_scan_ms - now);
	if (ctl->discovery) {
		rt_discovery__poll(ctl->discovery, wait);
	} else if (wait > 0) {
		struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	lost = ctl->discovery ? rt_discovery__lost(ctl->discovery) : 0;
	if (lost != ctl->lost || monotonic_ms() >= ctl->next_scan_ms) {
		ctl->lost = lost;
		full_scan(ctl);
	}
}

static void *scanner_main(void *arg)
{
	struct rt_walkerctl *ctl = arg;

	while (!ctl->stop)
		rt_walkerctl__discover(ctl, WAIT_MAX_MS);
	return NULL;
}

int rt_walkerctl__start_scanner(struct rt_walkerctl *ctl)
{
	int err = pthread_create(&ctl->scanner, NULL, scanner_main, ctl);

	if (err)
		return -err;
	ctl->scanner_running = true;
	return 0;
}

void rt_walkerctl__stop_scanner(struct rt_walkerctl *ctl)
{
	ctl->stop = true;
	if (ctl->scanner_running)
		pthread_join(ctl->scanner, NULL);
	ctl->scanner_running = false;
}

struct rt_walkerctl *rt_walkerctl__load(const struct rt_walkerctl_opts *opts)
{
	struct rt_walkerctl *ctl = calloc(1, sizeof(*ctl));
	int err;

	if (!ctl) {
		errno = ENOMEM;
		return NULL;
	}
	ctl->scope = opts->scope;
	ctl->layout = opts->layout;
	ctl->verbose = opts->verbose;
	ctl->skel = walker_bpf__open();
	if (!ctl->skel) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot open the walker: %s\n", strerror(-err));
		goto fail;
	}
	ctl->skel->rodata->per_thread_channels = opts->per_thread_channels;
	ctl->skel->rodata->keep_native = opts->keep_native;
	bpf_map__set_max_entries(ctl->skel->maps.channel,
				 opts->channel_slots ? opts->channel_slots : 1);
	bpf_map__set_max_entries(ctl->skel->maps.channel_slots,
				 opts->tid_slots ? opts->tid_slots : 1);
	err = walker_bpf__load(ctl->skel);
	if (err) {
		fprintf(stderr, "rt-bpf: the kernel refused the walker program: %s\n", strerror(-err));
		goto fail;
	}
	ctl->tracker = rt_pyproc_tracker__new(opts->scope, opts->pids, opts->nr_pids, on_process,
					      ctl);
	if (!ctl->tracker) {
		err = -errno;
		goto fail;
	}
	ctl->rb_tracker = rt_rbproc_tracker__new(opts->scope, opts->pids, opts->nr_pids,
						 on_ruby_process, ctl);
	if (!ctl->rb_tracker) {
		err = -errno;
		goto fail;
	}
	start_discovery(ctl);
	return ctl;
fail:
	rt_walkerctl__free(ctl);
	errno = -err;
	return NULL;
}

void rt_walkerctl__free(struct rt_walkerctl *ctl)
{
	if (!ctl)
		return;
	rt_walkerctl__stop_scanner(ctl);
	rt_discovery__free(ctl->discovery);
	rt_pyproc_tracker__free(ctl->tracker);
	rt_rbproc_tracker__free(ctl->rb_tracker);
	walker_bpf__destroy(ctl->skel);
	free(ctl);
}

struct bpf_program *rt_walkerctl__program(const struct rt_walkerctl *ctl)
{
	return ctl->skel->progs.rt_walker;
}

int rt_walkerctl__channel_fd(const struct rt_walkerctl *ctl)
{
	return bpf_map__fd(ctl->skel->maps.channel);
}

int rt_walkerctl__tid_slots_fd(const struct rt_walkerctl *ctl)
{
	return bpf_map__fd(ctl->skel->maps.channel_slots);
}

unsigned int rt_walkerctl__nr_interpreters(const struct rt_walkerctl *ctl)
{
	return ctl->nr_python;
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

int rt_walkerctl__stats(const struct rt_walkerctl *ctl, __u64 *stat)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(ctl->skel->maps.stats);

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	for (__u32 k = 0; k < RT_WALKER_STAT_MAX; k++) {
		int err = percpu_sum(fd, k, ncpu, &stat[k]);

		if (err)
			return err;
	}
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
static void print_run_time(const struct rt_walkerctl *ctl, int ncpu, FILE *out)
{
	__u64 hist[RT_WALKER_TIME_BUCKETS] = { 0 }, n = 0;
	int fd = bpf_map__fd(ctl->skel->maps.run_time);

	if (fd < 0)
		return;
	for (__u32 b = 0; b < RT_WALKER_TIME_BUCKETS; b++)
		if (!percpu_sum(fd, b, ncpu, &hist[b]))
			n += hist[b];
	if (!n)
		return;
	unsigned int med = quantile_bucket(hist, n, 0.5), p90 = quantile_bucket(hist, n, 0.9);
	const char *more = p90 == RT_WALKER_TIME_BUCKETS - 1 ? " or more" : "";

	fprintf(out, "rt-bpf: BPF run time on interpreter samples: %llu samples, median %u-%u us, "
		"90th percentile %u-%u us%s\n", (unsigned long long)n, med, med + 1, p90, p90 + 1,
		more);
}

/* The samples counter's name: what kind of interpreter was walked. */
static const char *samples_name(const struct rt_walkerctl *ctl)
{
	if (ctl->nr_ruby && ctl->nr_ruby == ctl->nr_python)
		return "ruby samples";
	if (ctl->nr_ruby)
		return "python and ruby samples";
	return "python samples";
}

/*
 * What to do about counters that mean part of the profile is missing: one
 * line per problem, each saying what to do.
 */
static void print_warnings(const struct rt_walkerctl *ctl, const __u64 *stat, FILE *out)
{
	if (stat[RT_WALKER_STAT_NO_TSTATE])
		fprintf(out, "rt-bpf: note: no thread state=%llu: samples of threads that had no "
			"interpreter state at that moment (threads started from C code, or not yet or "
			"no longer running the interpreter); they fold with their native frames\n",
			(unsigned long long)stat[RT_WALKER_STAT_NO_TSTATE]);
	if (stat[RT_WALKER_STAT_CODE_DEFERRED])
		fprintf(out, "rt-bpf: note: code records deferred=%llu: samples that met more new "
			"functions than one sample sends names for; the rest are sent with later "
			"samples, nothing is lost\n",
			(unsigned long long)stat[RT_WALKER_STAT_CODE_DEFERRED]);
	if (!ctl->nr_python)
		fprintf(out, "rt-bpf: warning: no Python or Ruby process was found%s; the file holds "
			"native stacks only.  rt-bpf walks CPython 2.7 and 3.6-3.13 and Ruby 3.1 (see "
			"-v for what it finds)\n", ctl->scope == RT_PROCESS_ALL ? "" : " in the target");
	if (stat[RT_WALKER_STAT_NO_CHANNEL])
		fprintf(out, "rt-bpf: warning: %llu samples came from threads perf opened no channel "
			"for (perf record -p only covers threads that existed when it started); their "
			"interpreter frames are missing: run perf with -a, or use rt-bpf record -p PID\n",
			(unsigned long long)stat[RT_WALKER_STAT_NO_CHANNEL]);
	if (stat[RT_WALKER_STAT_STACK_LOST] || stat[RT_WALKER_STAT_CODE_LOST])
		fprintf(out, "rt-bpf: warning: perf's buffer was full: %llu interpreter stacks and %llu "
			"code records lost (those samples fold without interpreter frames or names); "
			"lower -F or run fewer busy processes\n",
			(unsigned long long)stat[RT_WALKER_STAT_STACK_LOST],
			(unsigned long long)stat[RT_WALKER_STAT_CODE_LOST]);
	if (stat[RT_WALKER_STAT_OUTPUT_ERROR])
		fprintf(out, "rt-bpf: warning: %llu interpreter stacks could not be written (perf "
			"stopped or closed its channel first); they fold as native stacks\n",
			(unsigned long long)stat[RT_WALKER_STAT_OUTPUT_ERROR]);
}

void rt_walkerctl__print_stats(const struct rt_walkerctl *ctl, const struct rt_perf_prog_stats *ps,
			       FILE *out)
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

	if (!ctl || ncpu <= 0)
		return;
	fd = bpf_map__fd(ctl->skel->maps.stats);
	if (fd < 0)
		return;
	__u64 stat[RT_WALKER_STAT_MAX] = { 0 };

	fprintf(out, "rt-bpf:");
	for (__u32 k = 0; k < RT_WALKER_STAT_MAX; k++) {
		if (percpu_sum(fd, k, ncpu, &stat[k]))
			continue;
		fprintf(out, " %s=%llu%s", k == RT_WALKER_STAT_SAMPLES ? samples_name(ctl) : names[k],
			(unsigned long long)stat[k], k + 1 < RT_WALKER_STAT_MAX ? "," : "\n");
	}
	if (ps && ps->valid && ps->run_cnt)
		fprintf(out, "rt-bpf: BPF run time: %llu runs, mean %llu ns/sample\n",
			(unsigned long long)ps->run_cnt,
			(unsigned long long)(ps->run_time_ns / ps->run_cnt));
	else
		fprintf(out, "rt-bpf: BPF run time: not available\n");
	print_run_time(ctl, ncpu, out);
	print_warnings(ctl, stat, out);
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

int rt_walkerctl__preflight(bool need_perf)
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

int rt_walkerctl__check_targets(const pid_t *pids, size_t nr, const struct rt_layout *given)
{
	for (size_t i = 0; i < nr; i++) {
		struct rt_pyproc proc;
		struct rt_layout layout;
		char msg[256];
		int err = rt_pyproc__inspect(pids[i], &proc);

		if (err == -ESRCH) {
			fprintf(stderr, "rt-bpf: no process %d\n", pids[i]);
			return err;
		}
		if (err == -ENOENT) {
			struct rt_rbproc rb;

			if (!rt_rbproc__inspect(pids[i], &rb)) {
				if (rt_layout__find(RT_RUNTIME_RUBY, rb.major, rb.minor, rb.patch))
					continue;
				fprintf(stderr, "rt-bpf: process %d runs Ruby %d.%d.%d (%s): no layout for it "
					"(have: %s); docs/ruby.md says how to add one\n", pids[i],
					rb.major, rb.minor, rb.patch, rb.elf, rt_layout_ruby__supported());
				return -ENOTSUP;
			}
		}
		if (err) {
			fprintf(stderr, "rt-bpf: process %d is not CPython (no _PyRuntime in its executable or a "
				"libpython) nor CRuby (no ruby_current_vm_ptr); rt-bpf walks CPython 2.7 and 3.6-3.15 and Ruby 3.1\n", pids[i]);
			return err;
		}
		if (py_layout(given, &proc, &layout, msg, sizeof(msg))) {
			fprintf(stderr, "rt-bpf: process %d runs CPython %d.%d.%d: refusing to walk it: %s\n",
				pids[i], proc.major, proc.minor, proc.patch, msg);
			return -ENOTSUP;
		}
	}
	return 0;
}
