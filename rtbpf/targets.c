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
#include <string.h>
#include <time.h>

#include "bpf/walker.h"
#include "bpf/walker.skel.h"
#include "layouts/layout.h"
#include "rtbpf/discovery_events.h"
#include "rtbpf/dsocache.h"
#include "rtbpf/rtbpf.h"
#include "runtimes/python/inspect.h"
#include "runtimes/ruby/inspect.h"

/* Processes are found from kernel events (bpf/discovery.bpf.c); a full
 * /proc scan runs at start, when events were lost, and every SAFETY_SCAN_MS
 * as a safety net; every RESCAN_MS when the kernel refuses the events. */
#define SAFETY_SCAN_MS 30000
#define RESCAN_MS 100

/* The layout to walk CPython process @proc with (rt_pyproc__layout with
 * --layout's or layouts/' table for its version); a table that contradicts
 * the process's own _Py_DebugOffsets is refused here, in one line. */
static int py_layout(const struct rt_bpf_app *app, const struct rt_pyproc *proc,
		     struct rt_layout *out, char *msg, size_t msg_size)
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
 * while the process lives (rtbpf/dsocache.h); host files stay where perf saw
 * them. */
static void cache_container_files(pid_t pid)
{
	if (rt_dsocache__foreign_root(pid))
		rt_dsocache__add_process(NULL, pid);
}

/* A Python process appeared (proc != NULL) or went away. */
static void on_process(void *ctx, pid_t pid, const struct rt_pyproc *proc, uint32_t generation)
{
	struct rt_bpf_app *app = ctx;
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
	struct rt_bpf_app *app = ctx;
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

int rt_bpf_app__new_trackers(struct rt_bpf_app *app)
{
	app->tracker = rt_pyproc_tracker__new(app->scope, app->pids, app->nr_pids, on_process, app);
	if (!app->tracker)
		return -errno;
	app->rb_tracker = rt_rbproc_tracker__new(app->scope, app->pids, app->nr_pids,
						 on_ruby_process, app);
	if (!app->rb_tracker)
		return -errno;
	return 0;
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
	rt_process_tracker__event(rt_pyproc_tracker__processes(app->tracker), &ev);
	rt_process_tracker__event(rt_rbproc_tracker__processes(app->rb_tracker), &ev);
}

/* Scans /proc in full (both trackers) and sets the time of the next scan. */
static void full_scan(struct rt_bpf_app *app)
{
	rt_pyproc_tracker__scan(app->tracker);
	rt_rbproc_tracker__scan(app->rb_tracker);
	app->next_scan_ms = monotonic_ms() + (app->discovery ? SAFETY_SCAN_MS : RESCAN_MS);
}

/* Process events first, so that no process starting during the first full
 * scan goes unseen (events older than a check are dropped by the tracker),
 * then that scan. */
void rt_bpf_app__start_discovery(struct rt_bpf_app *app)
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

/* Waits for process events and applies them, runs the trackers' due
 * retries, and scans /proc in full when events were lost or the next scan
 * is due. */
void rt_bpf_app__discover(struct rt_bpf_app *app, int max_ms)
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

int rt_bpf_app__check_targets(const struct rt_bpf_app *app)
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
