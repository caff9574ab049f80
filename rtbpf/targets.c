/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Finding interpreter processes and configuring the walker for each: the
 * -p checks, the trackers' callbacks that fill the walker's maps, and
 * discovery (kernel events, with /proc scans as a safety net).  What a
 * runtime looks like is runtimes/' business; this file wires it to the
 * walker's maps.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/walker.h"
#include "bpf/walker.skel.h"
#include "layouts/layout.h"
#include "rtbpf/discovery_events.h"
#include "rtbpf/dsocache.h"
#include "rtbpf/offcpu.h"
#include "rtbpf/rtbpf.h"
#include "runtimes/runtime.h"

/* Processes are found from kernel events (bpf/discovery.bpf.c); a full
 * /proc scan runs at start, when events were lost, and every SAFETY_SCAN_MS
 * as a safety net; every RESCAN_MS when the kernel refuses the events. */
#define SAFETY_SCAN_MS 30000
#define RESCAN_MS 100
#define DSOCACHE_RESCAN_MS 200

/* A container's files vanish with it: copy them into the build-id cache
 * while the process lives (rtbpf/dsocache.h), now and on every
 * DSOCACHE_RESCAN_MS until it exits, since it goes on mapping libraries
 * after it was found; host files stay where perf saw them. */
static void cache_container_files(struct rt_bpf_app *app, pid_t pid)
{
	if (!app->dsocache)
		app->dsocache = rt_dsocache__new(NULL);
	if (app->dsocache)
		rt_dsocache__watch(app->dsocache, pid);
}

/* The walker's map of @rt's processes, or -1. */
static int walker_map_fd(const struct rt_bpf_app *app, const struct rt_runtime_desc *rt)
{
	return bpf_object__find_map_fd_by_name(app->skel->obj, rt->walker_map);
}

/* Selects @proc's layout (rt_runtime_desc.select_layout with --layout's), and
 * says so when a notice came with it.  0, or -errno with the reason in
 * @msg. */
static int select_layout(const struct rt_bpf_app *app, const struct rt_runtime_desc *rt,
			 const struct rt_runtime_process *proc, struct rt_layout *layout, char *msg,
			 size_t msg_size)
{
	int err = rt->select_layout(proc, app->layout, layout, msg, msg_size);

	if (!err && msg[0])
		fprintf(stderr, "rt-bpf: pid %d (%s %d.%d.%d): %s\n", proc->pid, rt->name, proc->major,
			proc->minor, proc->patch, msg);
	return err;
}

/* Configures the walker for process @proc of runtime @rt.  0 or -errno,
 * after saying why its samples stay native-only. */
static int configure_walker(struct rt_bpf_app *app, const struct rt_runtime_desc *rt,
			    const struct rt_runtime_process *proc, uint32_t generation, void *cfg)
{
	__u32 key = (__u32)proc->pid;
	struct rt_layout layout;
	char msg[256];

	if (select_layout(app, rt, proc, &layout, msg, sizeof(msg))) {
		fprintf(stderr, "rt-bpf: pid %d (%s %d.%d.%d, %s): refusing to walk it: %s; its samples "
			"stay native-only\n", proc->pid, rt->name, proc->major, proc->minor, proc->patch,
			proc->elf, msg);
		return -ENOTSUP;
	}
	if (rt->walker_config(proc, &layout, generation, cfg)) {
		fprintf(stderr, "rt-bpf: pid %d runs %s %d.%d.%d (%s): its layout lacks what the "
			"walker needs (docs/layouts.md); its samples stay native-only\n", proc->pid,
			rt->name, proc->major, proc->minor, proc->patch, proc->elf);
		return -EINVAL;
	}
	if (bpf_map_update_elem(walker_map_fd(app, rt), &key, cfg, BPF_ANY)) {
		int err = -errno;

		fprintf(stderr, "rt-bpf: pid %d: cannot configure the %s walker: %s\n", proc->pid,
			rt->name, strerror(-err));
		return err;
	}
	return 0;
}

/* A process of runtime @rt appeared, was updated (proc != NULL) or went
 * away. */
static void on_process(void *ctx, const struct rt_runtime_desc *rt, pid_t pid,
		       const struct rt_runtime_process *proc, uint32_t generation)
{
	struct rt_bpf_app *app = ctx;
	__u32 key = (__u32)pid;
	char more[128] = "";
	void *cfg;

	if (!proc) {
		bpf_map_delete_elem(walker_map_fd(app, rt), &key);
		if (app->dsocache)
			rt_dsocache__forget(app->dsocache, pid);
		return;
	}
	cache_container_files(app, pid);
	cfg = calloc(1, rt->config_size);
	if (!cfg || configure_walker(app, rt, proc, generation, cfg)) {
		free(cfg);
		return;
	}
	free(cfg);
	app->nr_python++;
	app->nr_ruby += rt == &rt_runtime_ruby;
	if (app->verbose) {
		rt->describe(proc, more, sizeof(more));
		fprintf(stderr, "rt-bpf: walking pid %d: %s %d.%d.%d in %s%s\n", pid, rt->name,
			proc->major, proc->minor, proc->patch, proc->elf, more);
	}
}

int rt_bpf_app__new_trackers(struct rt_bpf_app *app)
{
	app->image_cache = rt_image_cache__new();
	if (!app->image_cache)
		return -errno;
	for (size_t i = 0; i < rt_nr_runtimes; i++) {
		struct rt_runtime_tracker *tr;

		if (app->nr_trackers == RT_BPF_MAX_RUNTIMES)
			return -E2BIG;
		tr = rt_runtime_tracker__new(rt_runtimes[i], app->image_cache, app->scope, app->pids,
					     app->nr_pids, on_process, app);
		if (!tr)
			return -errno;
		app->trackers[app->nr_trackers++] = tr;
	}
	return 0;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The process events' clock (their time_ns), in ns. */
static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A process event from the kernel: every tracker applies it. */
static void on_discovery(void *ctx, const struct rt_discovery_event *e)
{
	static const enum rt_process_event_type types[] = {
		[RT_DISCOVERY_EXEC] = RT_PROCESS_EXEC,
		[RT_DISCOVERY_FORK] = RT_PROCESS_FORK,
		[RT_DISCOVERY_EXIT] = RT_PROCESS_EXIT,
		[RT_DISCOVERY_MMAP] = RT_PROCESS_MAPPED,
	};
	struct rt_bpf_app *app = ctx;
	struct rt_process_event ev = {
		.pid = (pid_t)e->pid,
		.ppid = (pid_t)e->ppid,
		.time_ns = e->time_ns,
		.start_ns = e->start_ns,
	};

	if (e->type < RT_DISCOVERY_EXEC || e->type > RT_DISCOVERY_MMAP)
		return;
	ev.type = types[e->type];
	for (size_t i = 0; i < app->nr_trackers; i++)
		rt_process_tracker__event(rt_runtime_tracker__processes(app->trackers[i]), &ev);
}

/* Every process from the kernel's task list (one iterator run), as a
 * table for the trackers' scans; NULL when the iterator fails (the scan
 * then reads /proc). */
static struct rt_process_table *kernel_table(struct rt_discovery *d)
{
	struct rt_discovery_process *procs;
	struct rt_process_row *rows;
	struct rt_process_table *t = NULL;
	size_t n;

	if (rt_discovery__processes(d, &procs, &n))
		return NULL;
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (rows) {
		for (size_t i = 0; i < n; i++)
			rows[i] = (struct rt_process_row){ (pid_t)procs[i].pid, (pid_t)procs[i].ppid,
							   procs[i].start_ns, procs[i].exe };
		t = rt_process_table__from_rows(rows, n);
	}
	free(rows);
	free(procs);
	return t;
}

/* Scans /proc in full (every tracker) and sets the time of the next scan. */
static void full_scan(struct rt_bpf_app *app)
{
	struct rt_process_candidates c = { 0 }, *filter = NULL;
	pid_t *pids = NULL;

	/* the kernel lists the processes mapping a runtime library: the scan
	 * reads the maps of those, and of one process per other executable */
	if (app->discovery) {
		c.taken_ns = boottime_ns();
		if (!rt_discovery__candidates(app->discovery, &pids, &c.nr)) {
			c.pids = pids;
			filter = &c;
		}
	}
	/* every tracker scans the same processes: read them once (out of
	 * memory, each reads its own) */
	if (filter && !(c.table = kernel_table(app->discovery)))
		c.table = rt_process_table__read();
	for (size_t i = 0; i < app->nr_trackers; i++)
		rt_process_tracker__scan_candidates(rt_runtime_tracker__processes(app->trackers[i]),
						    filter);
	rt_process_table__free(c.table);
	free(pids);
	app->next_scan_ms = monotonic_ms() + (app->discovery ? SAFETY_SCAN_MS : RESCAN_MS);
}

void rt_bpf_app__open_discovery(struct rt_bpf_app *app)
{
	if (app->discovery_opened)
		return;
	app->discovery_opened = true;
	app->discovery = rt_discovery__new(on_discovery, app);
	if (!app->discovery)
		fprintf(stderr, "rt-bpf: no process events from the kernel (%s): rescanning /proc every "
			"%d ms instead\n", strerror(errno), RESCAN_MS);
	else if (app->verbose && !rt_discovery__sees_mmaps(app->discovery))
		fprintf(stderr, "rt-bpf: no mmap events (syscalls tracepoints need tracefs): libraries "
			"mapped after exec are found by retries\n");
}

/* Process events first, so that no process starting during the first full
 * scan goes unseen (events older than a check are dropped by the tracker),
 * then that scan. */
void rt_bpf_app__start_discovery(struct rt_bpf_app *app)
{
	rt_bpf_app__open_discovery(app);
	full_scan(app);
}

/* Waits for process events and applies them, runs the trackers' due
 * retries, and scans /proc in full when events were lost or the next scan
 * is due. */
void rt_bpf_app__discover(struct rt_bpf_app *app, int max_ms)
{
	int wait = max_ms;
	uint64_t now = monotonic_ms(), lost;

	for (size_t i = 0; i < app->nr_trackers; i++) {
		int due = rt_process_tracker__retry(rt_runtime_tracker__processes(app->trackers[i]));

		if (due >= 0 && due < wait)
			wait = due;
	}
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
	if (app->dsocache && monotonic_ms() >= app->next_dsocache_ms) {
		rt_dsocache__rescan(app->dsocache);
		app->next_dsocache_ms = monotonic_ms() + DSOCACHE_RESCAN_MS;
	}
}

static void *scanner_main(void *arg)
{
	struct rt_bpf_app *app = arg;

	while (!app->stop)
		rt_bpf_app__discover(app, RT_BPF_DISCOVER_MAX_MS);
	return NULL;
}

int rt_bpf_app__start_scanner(struct rt_bpf_app *app)
{
	int err = pthread_create(&app->scanner, NULL, scanner_main, app);

	if (err)
		return -err;
	app->scanner_running = true;
	return 0;
}

void rt_bpf_app__stop_scanner(struct rt_bpf_app *app)
{
	app->stop = true;
	if (app->scanner_running)
		pthread_join(app->scanner, NULL);
	app->scanner_running = false;
}

void rt_bpf__runtime_versions(char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < rt_nr_runtimes; i++)
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", i ? " and " : "",
				      rt_runtimes[i]->versions);
}

/* Says that process @pid runs none of the runtimes, and which they are. */
static void say_no_runtime(pid_t pid)
{
	char absent[512] = "", versions[256];
	size_t a = 0;

	for (size_t i = 0; i < rt_nr_runtimes; i++)
		a += (size_t)snprintf(absent + a, a < sizeof(absent) ? sizeof(absent) - a : 0, "%s%s",
				      i ? " nor " : "", rt_runtimes[i]->absent);
	rt_bpf__runtime_versions(versions, sizeof(versions));
	fprintf(stderr, "rt-bpf: process %d is not %s; rt-bpf walks %s\n", pid, absent, versions);
}

/* The process of thread @tid (Tgid), its state letter (State) and its
 * number of threads (Threads) from /proc/TID/status.  -ESRCH when there is
 * no such thread. */
static int proc_status(pid_t tid, pid_t *tgid, char *state, int *threads)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	*tgid = tid;
	*state = '?';
	*threads = 1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "State: %c", state) == 1 || sscanf(line, "Tgid: %d", tgid) == 1)
			continue;
		if (sscanf(line, "Threads: %d", threads) == 1)
			break; /* after State and Tgid */
	}
	fclose(f);
	if (*tgid <= 0)
		*tgid = tid;
	return 0;
}

/* A kernel thread has no executable (and PF_KTHREAD in its flags). */
static bool is_kernel_thread(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long flags = 0;
	FILE *f;
	int field = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	/* the fields after the command's ")": state is 3, flags 9 */
	if (!p || !(p = strrchr(line, ')')))
		return false;
	for (p++; *p && field < 9;) {
		while (*p == ' ')
			p++;
		field++;
		if (field == 7) {
			flags = strtoul(p, NULL, 10);
			break;
		}
		while (*p && *p != ' ')
			p++;
	}
	return flags & 0x00200000; /* PF_KTHREAD */
}

int rt_bpf__target_process(pid_t *pid, const char *who, const char *verb)
{
	pid_t tgid, again;
	int threads;
	char state;

	if (*pid <= 0 || proc_status(*pid, &tgid, &state, &threads)) {
		fprintf(stderr, "%s: no process %d\n", who, *pid);
		return -ESRCH;
	}
	if (tgid != *pid) {
		fprintf(stderr, "rt-bpf: %d is a thread of process %d; %s the process\n", *pid, tgid,
			verb);
		*pid = tgid;
		if (proc_status(tgid, &again, &state, &threads)) {
			fprintf(stderr, "%s: no process %d\n", who, *pid);
			return -ESRCH;
		}
	}
	if (is_kernel_thread(*pid)) {
		fprintf(stderr, "%s: process %d is a kernel thread: there is no interpreter to %s\n",
			who, *pid, strncmp(verb, "trac", 4) ? "walk" : "trace");
		return -ESRCH;
	}
	/* its memory and threads are gone: nothing to walk, and no runtime to
	 * name (a main thread that called pthread_exit() is a zombie too, while
	 * the others run) */
	if ((state == 'Z' || state == 'X') && threads <= 1) {
		fprintf(stderr, "%s: process %d has exited (a zombie its parent has not reaped)\n",
			who, *pid);
		return -ESRCH;
	}
	return 0;
}

int rt_bpf_app__check_targets(struct rt_bpf_app *app)
{
	for (size_t i = 0; i < app->nr_pids; i++) {
		const struct rt_runtime_desc *rt;
		struct rt_runtime_process *proc;
		struct rt_layout layout;
		char msg[256];
		int err = rt_bpf__target_process(&app->pids[i], "rt-bpf", "recording");

		if (err)
			return err;
		err = rt_runtime__identify(NULL, app->pids[i], &rt, &proc);
		if (err == -ESRCH) {
			fprintf(stderr, "rt-bpf: no process %d\n", app->pids[i]);
			return err;
		}
		if (err) {
			say_no_runtime(app->pids[i]);
			return err;
		}
		err = select_layout(app, rt, proc, &layout, msg, sizeof(msg));
		if (err)
			fprintf(stderr, "rt-bpf: process %d runs %s %d.%d.%d: refusing to walk it: %s\n",
				app->pids[i], rt->name, proc->major, proc->minor, proc->patch, msg);
		free(proc);
		if (err)
			return -ENOTSUP;
	}
	return 0;
}
