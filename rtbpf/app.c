/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The steps every rt-bpf subcommand takes: checking the machine, reading
 * --layout, loading the walker and attaching it to perf's events, tearing
 * down.  The subcommands (attach.c, record.c) decide when.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/walker.skel.h"
#include "layouts/layout.h"
#include "layouts/layoutfile.h"
#include "rtbpf/discovery_events.h"
#include "rtbpf/dsocache.h"
#include "rtbpf/events.h"
#include "rtbpf/kfeatures.h"
#include "rtbpf/offcpu.h"
#include "rtbpf/rtbpf.h"
#include "runtimes/runtime.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"

void rt_bpf__log_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "rt-bpf: %s\n", msg);
}

/* 0 when @path is a regular file we may execute, else -errno as execve()
 * would fail (a directory or another kind of file: EACCES). */
static int check_executable(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) ? -errno : 0;
}

/*
 * 0 when @name is an executable regular file, looked up on PATH the way
 * execvp() will run it, else -errno as execvp() would fail: EACCES when a
 * file of that name was found but cannot be run, ENOENT when none was.
 * $PERF is never handed to a shell: a name like "x'; touch F; '" is only
 * ever a file name that does not exist.
 */
static int find_executable(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];
	int err = -ENOENT;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/'))
		return check_executable(name);
	if (!path || !*path)
		path = "/bin:/usr/bin"; /* execvp's, when PATH is unset */
	while (*path) {
		size_t len = strcspn(path, ":");

		if (snprintf(buf, sizeof(buf), "%.*s/%s", len ? (int)len : 1, len ? path : ".",
			     name) < (int)sizeof(buf)) {
			int e = check_executable(buf);

			if (!e)
				return 0;
			if (e == -EACCES)
				err = e;
		}
		path += len + (path[len] == ':');
	}
	return err;
}

int rt_bpf__check_command(const char *file)
{
	int err = find_executable(file);

	if (err)
		fprintf(stderr, "rt-bpf: cannot run %s: %s\n", file, strerror(-err));
	return err;
}

int rt_bpf__command_status(int wstatus)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus)) {
		fprintf(stderr, "rt-bpf: the command exited with status %d\n", WEXITSTATUS(wstatus));
		return WEXITSTATUS(wstatus);
	}
	if (WIFSIGNALED(wstatus)) {
		fprintf(stderr, "rt-bpf: the command was killed by signal %d\n", WTERMSIG(wstatus));
		return 128 + WTERMSIG(wstatus);
	}
	return 0;
}

static uint64_t monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

void rt_bpf_stop__begin(struct rt_bpf_stop *s, pid_t pid, int sig, int wait_ms, int signals,
			bool from_terminal)
{
	s->pid = pid;
	s->sig = sig;
	s->signals = signals;
	s->due_ms = monotonic_ms() + (uint64_t)wait_ms;
	s->started = true;
	s->killed = false;
	if (!rt_bpf__signal_reached(pid, from_terminal))
		kill(pid, sig);
}

bool rt_bpf_stop__due(struct rt_bpf_stop *s, int signals, const char *who)
{
	if (!s->started || s->killed)
		return s->killed;
	if (signals == s->signals && monotonic_ms() < s->due_ms)
		return false;
	if (who)
		fprintf(stderr, "%s: pid %d did not end on signal %d: killing it\n", who, s->pid,
			s->sig);
	kill(s->pid, SIGKILL);
	s->killed = true;
	return true;
}

int rt_bpf__parse_number(const char *arg, unsigned long min, unsigned long max,
			 unsigned long *value)
{
	unsigned long v;
	char *end;

	/* strtoul takes a sign ("-5" is ULONG_MAX - 4) and leading space */
	if (*arg < '0' || *arg > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*value = v;
	return 0;
}

int rt_bpf__preflight(bool need_perf)
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
		if (find_executable(perf)) {
			fprintf(stderr, "rt-bpf: perf not found (%s); install it (Debian: apt-get install "
				"linux-perf) or set PERF to its path\n", perf);
			return -ENOENT;
		}
	}
	return 0;
}

const struct rt_layout *rt_bpf__read_layout(const char *path)
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

/* Links the off-CPU program (--off-cpu) and the event programs (-e) to
 * perf's tracepoint events. */
static int attach_extra(struct rt_bpf_app *app, struct rt_perf_session *s)
{
	unsigned long long skip = ~0ull;
	int err;

	if (app->off_cpu) {
		app->offcpu_link = rt_offcpu__attach(s, bpf_program__fd(app->skel->progs.rt_offcpu));
		if (app->offcpu_link < 0)
			return app->offcpu_link;
		err = rt_offcpu__switch_id(&skip);
		if (err)
			return err;
	}
	if (!app->nr_events)
		return 0;
	err = rt_events__attach(s, bpf_program__fd(app->skel->progs.rt_event_tp),
				bpf_program__fd(app->skel->progs.rt_event_probe), skip,
				app->event_links, RT_PERF_MAX_EXTRA_EVENTS);
	if (err < 0)
		return err;
	app->nr_event_links = err;
	return 0;
}

int rt_bpf_app__load(struct rt_bpf_app *app, const struct rt_bpf_walker_opts *wo)
{
	int err, ncpus;

	app->skel = walker_bpf__open();
	if (!app->skel) {
		fprintf(stderr, "rt-bpf: cannot open the walker: %s\n", strerror(errno));
		return -errno;
	}
	app->skel->rodata->per_thread_channels = wo->per_thread_channels;
	app->skel->rodata->keep_native = wo->keep_native;
	bpf_map__set_max_entries(app->skel->maps.channel, wo->channel_slots ? wo->channel_slots : 1);
	bpf_map__set_max_entries(app->skel->maps.channel_slots, wo->tid_slots ? wo->tid_slots : 1);
	/* one deep-stack buffer per CPU (too big for a per-CPU map) */
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1) {
		fprintf(stderr, "rt-bpf: cannot count the possible CPUs: %s\n", strerror(-ncpus));
		return ncpus < 0 ? ncpus : -EINVAL;
	}
	bpf_map__set_max_entries(app->skel->maps.deep_stacks, (__u32)ncpus);
	/* The off-CPU program's per-thread maps (LRU hashes of 16,384 threads,
	 * the chains alone 6 MB of kernel memory, all allocated when the map
	 * is made) serve --off-cpu only: placeholders otherwise. */
	if (!app->off_cpu) {
		bpf_map__set_max_entries(app->skel->maps.offcpu_slots, 1);
		bpf_map__set_max_entries(app->skel->maps.offcpu_starts, 64);
		bpf_map__set_max_entries(app->skel->maps.offcpu_chains, 64);
	}
	if (app->off_cpu && (err = rt_offcpu__prepare(app->skel->progs.rt_offcpu,
						       app->skel->progs.rt_offcpu_flush)))
		return err;
	if (app->nr_events && (err = rt_events__prepare(app->skel->progs.rt_event_tp,
							app->skel->progs.rt_event_probe)))
		return err;
	err = walker_bpf__load(app->skel);
	if (err) {
		fprintf(stderr, "rt-bpf: the kernel refused the walker program: %s\n", strerror(-err));
		return err;
	}
	err = rt_bpf_app__new_trackers(app);
	if (err)
		return err;
	rt_bpf_app__start_discovery(app);
	return 0;
}

int rt_bpf_app__load_and_attach(struct rt_bpf_app *app, struct rt_perf_session *s)
{
	bool system_wide = rt_perf_session__system_wide(s);
	struct rt_bpf_walker_opts wo = {
		.per_thread_channels = !system_wide,
		.keep_native = channel_without_callchain(s),
		.channel_slots = rt_perf_session__channel_slots(s),
		.tid_slots = rt_perf_session__tid_slot_entries(s),
	};
	int err;

	if (!rt_perf_session__nr_role(s, RT_PERF_EVENT_CHANNEL)) {
		fprintf(stderr, "rt-bpf: perf record %d has no bpf-output channel; add "
			"-e bpf-output/no-inherit,name=rt/ to its command line\n", rt_perf_session__pid(s));
		return -ENOENT;
	}
	err = rt_bpf_app__load(app, &wo);
	if (err)
		return err;
	err = rt_perf_session__attach(s, bpf_program__fd(app->skel->progs.rt_walker),
				      bpf_map__fd(app->skel->maps.channel),
				      system_wide ? -1 : bpf_map__fd(app->skel->maps.channel_slots));
	if (err) {
		fprintf(stderr, "rt-bpf: cannot attach to perf record %d: %s\n", rt_perf_session__pid(s),
			strerror(-err));
		return err;
	}
	return attach_extra(app, s);
}

void rt_bpf_app__free(struct rt_bpf_app *app)
{
	rt_bpf_app__stop_scanner(app);
	rt_discovery__free(app->discovery);
	app->discovery = NULL;
	for (size_t i = 0; i < app->nr_trackers; i++)
		rt_runtime_tracker__free(app->trackers[i]);
	app->nr_trackers = 0;
	rt_image_cache__free(app->image_cache);
	app->image_cache = NULL;
	rt_dsocache__free(app->dsocache);
	app->dsocache = NULL;
	while (app->nr_event_links > 0)
		close(app->event_links[--app->nr_event_links]);
	if (app->offcpu_link > 0)
		close(app->offcpu_link);
	app->offcpu_link = 0;
	walker_bpf__destroy(app->skel);
	app->skel = NULL;
	/* a probe with a program linked to it cannot be removed */
	rt_events__cleanup();
}
