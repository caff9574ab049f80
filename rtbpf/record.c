/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf record [-F HZ] [--call-graph fp|dwarf[,BYTES]] [-o FILE] [-d SECONDS]
 *               (-p PID | -a | [-a] -- CMD ARGS...):
 * starts perf record with a bpf-output channel and attaches the walker to
 * it before perf enables its events (rt_perf_record, rtbpf/perfrun.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <bpf/libbpf.h>

#include "bpf/walker.skel.h"
#include "perfglue/perfdata.h"
#include "rtbpf/events.h"
#include "rtbpf/offcpu.h"
#include "rtbpf/discovery_events.h"
#include "rtbpf/rtbpf.h"
#include "rtbpf/tasks.h"

/* The highest -F: perf's default kernel.perf_event_max_sample_rate. */
#define RECORD_MAX_FREQ 100000u

struct record_opts {
	struct rt_perf_record_opts ro;
	bool all;      /* -a */
	bool off_cpu;  /* --off-cpu */
	bool tasks;    /* --tasks */
	const char *events[RT_EVENTS_MAX]; /* -e */
	size_t nr_events;
};

static void record_init(void *opts)
{
	struct record_opts *o = opts;

	o->ro = (struct rt_perf_record_opts){
		.sz = sizeof(o->ro),
		.log = rt_bpf__log_line,
		.freq = 99,
		.call_graph = RT_PERF_CALL_GRAPH_FP,
	};
}

static int record_option(void *opts, int c, const char *arg)
{
	struct record_opts *o = opts;
	unsigned long v;

	switch (c) {
	case 'F':
		/* perf's own ceiling is kernel.perf_event_max_sample_rate, 100000
		 * by default */
		if (rt_bpf__parse_number(arg, 1, RECORD_MAX_FREQ, &v)) {
			fprintf(stderr, "rt-bpf: bad -F %s (1 to %u)\n", arg, RECORD_MAX_FREQ);
			return -EINVAL;
		}
		o->ro.freq = (unsigned int)v;
		return 0;
	case 'o':
		o->ro.output = arg;
		return 0;
	case 'd': {
		char *end;
		double sec = strtod(arg, &end);

		if (end == arg || *end || !(sec > 0) || sec > 86400 * 7) {
			fprintf(stderr, "rt-bpf: bad -d %s (seconds, more than 0 and at most 604800: "
				"7 days)\n", arg);
			return -EINVAL;
		}
		o->ro.duration_ms = (unsigned int)(sec * 1000 + 0.5);
		if (!o->ro.duration_ms)
			o->ro.duration_ms = 1;
		return 0;
	}
	case 'g':
		/* perf's -g, typed by habit: frame pointers, the default */
		o->ro.call_graph = RT_PERF_CALL_GRAPH_FP;
		return 0;
	case 'G':
		if (!strcmp(arg, "fp")) {
			o->ro.call_graph = RT_PERF_CALL_GRAPH_FP;
		} else if (!strncmp(arg, "dwarf", 5) && (!arg[5] || arg[5] == ',')) {
			o->ro.call_graph = RT_PERF_CALL_GRAPH_DWARF;
			if (arg[5]) {
				char *end;

				v = strtoul(arg + 6, &end, 0);
				if (end == arg + 6 || *end || v < 8 || v > RT_PERF_DWARF_STACK_MAX) {
					fprintf(stderr, "rt-bpf: bad --call-graph %s (dwarf,BYTES: 8 to "
						"%u)\n", arg, RT_PERF_DWARF_STACK_MAX);
					return -EINVAL;
				}
				/* perf rounds the size up to 8 itself, past its limit for 65,527 */
				o->ro.dwarf_stack_size = (unsigned int)(v & ~7ul);
			}
		} else {
			fprintf(stderr, "rt-bpf: --call-graph takes fp, dwarf or dwarf,BYTES\n");
			return -EINVAL;
		}
		return 0;
	case 'a':
		o->all = true;
		return 0;
	case 'O':
		o->off_cpu = true;
		return 0;
	case 'T':
		o->tasks = true;
		return 0;
	case 'e':
		if (o->nr_events == RT_EVENTS_MAX) {
			fprintf(stderr, "rt-bpf: at most %d -e\n", RT_EVENTS_MAX);
			return -EINVAL;
		}
		o->events[o->nr_events++] = arg;
		return 0;
	}
	return -EINVAL;
}

static int record_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct record_opts *o = opts;

	if ((argc > 0 && !o->all) + (app->nr_pids > 0) + o->all != 1 || app->nr_pids > 1) {
		fprintf(stderr, "rt-bpf record: give exactly one of -p PID, -a, -- CMD ARGS "
			"(or -a -- CMD ARGS)\n");
		return -EINVAL;
	}
	if (o->tasks && o->all) {
		fprintf(stderr, "rt-bpf record: --tasks follows one process: give -p PID or -- CMD "
			"ARGS, without -a\n");
		return -EINVAL;
	}
	return 0;
}

/* perf's events exist, not yet enabled: load the walker and attach it. */
static int record_attach(struct rt_perf_session *s, pid_t target_pid, void *ctx)
{
	struct rt_bpf_app *app = ctx;
	int err;

	if (target_pid > 0 && app->scope == RT_PROCESS_TREE && app->nr_pids &&
	    app->pids[0] == target_pid) {
		/* -p */
		fprintf(stderr, "rt-bpf: recording every thread of pid %d and the processes it "
			"starts\n", target_pid);
	} else if (target_pid > 0 && app->scope == RT_PROCESS_TREE) {
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
	err = rt_bpf_app__load_and_attach(app, s);
	if (!err && app->tasks)
		err = rt_task_tracer__start(target_pid > 0 ? target_pid : app->pids[0],
					    bpf_map__fd(app->skel->maps.channel), app->verbose,
					    &app->task_tracer);
	if (!err)
		err = rt_bpf_app__start_scanner(app);
	return err;
}

/* The recording is over, perf still runs: the -e events' programs are
 * detached, and the off-CPU program's sums go out (rt_offcpu__flush). */
static void record_before_stop(void *ctx)
{
	struct rt_bpf_app *app = ctx;

	/* perf takes a second or more to stop, its events disabled, while a
	 * tracepoint's or probe's program would go on walking each hit and
	 * fail to write into the channel perf no longer reads (counted as
	 * output errors: half the samples of a busy -e event) */
	while (app->nr_event_links > 0)
		close(app->event_links[--app->nr_event_links]);
	if (!app->off_cpu || !app->skel)
		return;
	rt_offcpu__flush(app->offcpu_link, bpf_program__fd(app->skel->progs.rt_offcpu_flush));
	app->offcpu_link = 0;
}

/*
 * The exit status of record -- CMD: the command's, as perf record passes
 * it on, so that a script sees its failure (killed by a signal:
 * 128+signal, as a shell says it); 0 when the recording's end (-d, or
 * Ctrl-C or SIGTERM passed on to it) stopped it, and for -p and -a.
 */
static int command_status(const struct rt_perf_record_opts *ro,
			  const struct rt_perf_record_result *res)
{
	int status = res->target_status;

	if (ro->target != RT_PERF_RECORD_COMMAND || status == -1 || res->target_stopped)
		return 0;
	return rt_bpf__command_status(status);
}

/* Whether perf finished file @path: its header's data size written and its
 * feature sections within the file.  A full disk ends the file early, and
 * perf, stopped by rt-bpf's SIGINT, exits as if all went well (it says
 * "failed to write perf data" and goes on).  0, or -EIO said. */
static int check_written(const char *path)
{
	char err[512];
	struct rt_perf_reader *rd;
	const struct rt_perf_cut *cut;
	struct stat st;
	int ret = 0;

	/* a regular file only: -o /dev/null is the user's to throw away */
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	rd = rt_perf_reader__open(path, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "rt-bpf: perf did not write a readable file: %s\n", err);
		return -EIO;
	}
	cut = rt_perf_reader__cut(rd);
	if (cut->no_data_size || cut->features_lost || cut->bytes_missing) {
		fprintf(stderr, "rt-bpf: perf did not finish %s (a full disk? see perf's messages "
			"above): rtmerge folds the records it holds, and says what was lost\n", path);
		ret = -EIO;
	}
	rt_perf_reader__close(rd);
	return ret;
}

/* -o: a file (or - for standard output); a directory would be renamed to
 * DIR.old by perf, and the next run would delete files in it. */
static int check_output(const char *path)
{
	struct stat st;

	if (path && strcmp(path, "-") && !stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rt-bpf: -o %s is a directory: give a file name (%s/perf.data)\n",
			path, path);
		return -EISDIR;
	}
	return 0;
}

static int record_run(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	struct record_opts *o = opts;
	struct rt_perf_record_opts *ro = &o->ro;
	struct rt_perf_record_result res;
	sigset_t stop;
	int err;

	/* A Ctrl-C or SIGTERM from here on ends the recording, or its start
	 * (rt_perf_record reads it: "interrupted before the recording
	 * started"), with the USDT probes defined below removed, instead of
	 * killing rt-bpf and leaving them defined */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	err = check_output(ro->output);
	if (!err)
		err = rt_bpf__preflight(true);
	if (!err && argc > 0)
		err = rt_bpf__check_command(argv[0]);
	if (!err)
		err = rt_bpf_app__check_targets(app);
	if (err)
		return err;
	if (argc > 0) {
		/* -a -- CMD: every process, for as long as CMD runs. */
		ro->target = RT_PERF_RECORD_COMMAND;
		ro->argv = argv;
		ro->mark_target = !o->all;
		if (!o->all)
			app->scope = RT_PROCESS_TREE;
	} else if (app->nr_pids) {
		/* System-wide events with the walker's pid filter: perf's -p
		 * would open events only for the threads that exist now.  The
		 * processes it forks are walked too: rtmerge folds them as the
		 * target's (a prefork server's new workers). */
		app->scope = RT_PROCESS_TREE;
		ro->target = RT_PERF_RECORD_PROCESS;
		ro->pid = app->pids[0];
		ro->mark_target = true;
	} else {
		ro->target = RT_PERF_RECORD_SYSTEM;
	}
	/* -e events, then --off-cpu's, NULL-terminated: perf records them,
	 * rt_bpf_app__load_and_attach links the programs to them */
	for (size_t i = 0; i < o->nr_events; i++)
		app->events[app->nr_events++] = o->events[i];
	app->off_cpu = o->off_cpu;
	app->tasks = o->tasks;
	if (o->off_cpu)
		app->events[app->nr_events] = RT_OFFCPU_PERF_EVENT;
	if (o->nr_events || o->off_cpu) {
		err = rt_events__setup_usdt(app->events, argc > 0 ? (const char *const *)argv : NULL,
					    app->nr_pids ? app->pids[0] : 0);
		if (err)
			return err;
		ro->extra_events = app->events;
		ro->exclude_perf = true;
		/* 8x perf's default: event_counts.sh's 1,800 writes in a burst
		 * overflowed 516 KiB on a loaded machine */
		ro->mmap_kib = 4096;
	}
	/* The discovery object carries the perf fd iterator too: loaded now,
	 * finding perf's events loads no object of its own. */
	rt_bpf_app__open_discovery(app);
	if (app->discovery)
		ro->perf_files = rt_discovery__perf_files(app->discovery);
	ro->attach = record_attach;
	ro->attach_ctx = app;
	ro->before_stop = record_before_stop;
	err = rt_perf_record(ro, &res);
	rt_bpf_app__stop_scanner(app);
	rt_task_tracer__stop(app->task_tracer);
	app->task_tracer = NULL;
	if (app->skel && err != -EINTR)
		rt_bpf_app__print_stats(app, &res.stats,
					err || res.exec_errno ? RT_BPF_STATS_NO_TARGET : 0);
	if (err == -EINTR) {
		/* Ctrl-C or SIGTERM before the command ran or perf recorded */
		fprintf(stderr, "rt-bpf: interrupted before the recording started\n");
		return 130;
	}
	if (err)
		return err;
	/* the command said why it could not run; the file holds nothing of it */
	if (res.exec_errno)
		return 127;
	if (!(ro->output && !strcmp(ro->output, "-")) && check_written(res.output))
		return -EIO;
	fprintf(stderr, "rt-bpf: wrote %s\n", res.output);
	return command_status(ro, &res);
}

static const struct option record_longopts[] = {
	{ "call-graph", required_argument, NULL, 'G' },
	{ "off-cpu", no_argument, NULL, 'O' },
	{ "tasks", no_argument, NULL, 'T' },
	{ 0 },
};

const struct rt_bpf_cmd rt_bpf_cmd_record = {
	.name = "record",
	.synopsis =
	"record [-F HZ] [-g | --call-graph fp|dwarf[,BYTES]] [-o FILE] [-d SECONDS] [--off-cpu]\n"
	"                     [--tasks] [-e EVENT]...\n"
	"                     (-p PID | -a | [-a] -- CMD ARGS...)\n",
	.help =
	"record  runs perf record -a with a bpf-output event and attaches to it.\n"
	"        -F HZ (default 99, at most 100000), --call-graph fp|dwarf (default fp,\n"
	"        also -g as perf takes it; dwarf when callchains break; dwarf,BYTES: user\n"
	"        stack bytes copied per sample, up to 65528, default 32768), -o FILE\n"
	"        (default perf.data; - for standard output, where the command's output\n"
	"        goes to standard error), -d SECONDS: stop after that long.  What is\n"
	"        recorded and when it ends:\n"
	"          -p PID    every thread of that process, present and future, and the\n"
	"                    processes it forks; ends when it exits, after -d, or at\n"
	"                    Ctrl-C\n"
	"          -a        every process; ends after -d or at Ctrl-C\n"
	"          -- CMD    runs CMD; it and its children; ends when CMD exits, after\n"
	"                    -d or at Ctrl-C (CMD is then stopped too)\n"
	"          -a -- CMD every process, for as long as CMD runs\n"
	"        -p and -- CMD name their target in the file, and rtmerge folds only it\n"
	"        (rtmerge --all-processes folds everything).\n"
	"        --off-cpu: also every interval a walked thread spends off the CPU, with\n"
	"        its stacks and why (rtmerge --off-cpu, --wall, --gil; perf records\n"
	"        sched:sched_switch).  -e EVENT (repeatable): interpreter stacks on every\n"
	"        sample of that perf event too: tracepoints (syscalls:sys_enter_write),\n"
	"        software events, probes, USDT (sdt_python:gc__start: rt-bpf defines the\n"
	"        probe and removes it afterwards); rtmerge --event EVENT.\n"
	"        --tasks (-p or -- CMD): the target's asyncio (CPython 3.11-3.13) or tokio\n"
	"        task steps too: rtmerge puts a [task] NAME frame into each sample taken\n"
	"        inside one (docs/async.md).\n"
	"        Exit status: with -- CMD the command's (killed by a signal: 128+signal;\n"
	"        0 when -d or Ctrl-C ended it), else 0; 1 when the recording failed or CMD\n"
	"        cannot be run, 2 for a usage error.\n",
	.shortopts = "F:o:d:ae:g",
	.longopts = record_longopts,
	.opts_size = sizeof(struct record_opts),
	.init = record_init,
	.option = record_option,
	.check = record_check,
	.run = record_run,
};
