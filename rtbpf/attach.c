/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf attach [--perf-pid PID] [-p PID...]: adds interpreter frames to a
 * perf record that is already running, until perf exits or Ctrl-C.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "rtbpf/discovery_events.h"
#include "rtbpf/rtbpf.h"

struct attach_opts {
	pid_t perf_pid; /* --perf-pid; 0: the only perf record running */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int attach_option(void *opts, int c, const char *arg)
{
	struct attach_opts *o = opts;
	unsigned long pid;

	if (c != 'P')
		return -EINVAL;
	/* 0 would mean "the only perf running": a typo must not pick one */
	if (rt_bpf__parse_number(arg, 1, INT_MAX, &pid)) {
		fprintf(stderr, "rt-bpf: bad --perf-pid %s (a process id)\n", arg);
		return -EINVAL;
	}
	o->perf_pid = (pid_t)pid;
	return 0;
}

static int attach_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	if (argc > 0) {
		fprintf(stderr, "rt-bpf attach: unexpected argument '%s' (see 'rt-bpf attach --help')\n",
			argv[0]);
		return -EINVAL;
	}
	return 0;
}

static int attach_run(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct attach_opts *o = opts;
	struct rt_perf_find_opts fo = { .sz = sizeof(fo), .perf_pid = o->perf_pid,
					.log = rt_bpf__log_line };
	struct rt_perf_prog_stats ps = { 0 };
	struct rt_perf_session *s;
	int err;

	err = rt_bpf__preflight(false);
	if (!err)
		err = rt_bpf_app__check_targets(app);
	if (err)
		return err;
	/* its object carries the perf fd iterator: no other object to load */
	rt_bpf_app__open_discovery(app);
	if (app->discovery)
		fo.perf_files = rt_discovery__perf_files(app->discovery);
	s = rt_perf_session__find(&fo);
	if (!s)
		return -errno;
	err = rt_bpf_app__load_and_attach(app, s);
	if (err)
		goto out;
	fprintf(stderr, "rt-bpf: attached to perf record %d; %u Python and %u Ruby process(es) so "
		"far; Ctrl-C or perf's exit detaches\n", rt_perf_session__pid(s),
		app->nr_python - app->nr_ruby, app->nr_ruby);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!interrupted && !rt_perf_session__perf_exited(s))
		rt_bpf_app__discover(app, RT_BPF_DISCOVER_MAX_MS);
	rt_perf_session__detach(s);
	rt_perf_session__prog_stats(s, &ps);
	rt_bpf_app__print_stats(app, &ps, 0);
out:
	rt_perf_session__free(s);
	return err;
}

static const struct option attach_longopts[] = {
	{ "perf-pid", required_argument, NULL, 'P' },
	{ 0 },
};

const struct rt_bpf_cmd rt_bpf_cmd_attach = {
	.name = "attach",
	.synopsis = "attach [--perf-pid PID] [-p PID...]\n",
	.help =
	"attach  adds CPython (2.7, 3.6-3.15) and Ruby (2.7, 3.1, 3.3) frames to a running `perf record` that has a\n"
	"        bpf-output event (perf record -a -g -k mono -e cpu-clock\n"
	"        -e bpf-output/no-inherit,name=rt,call-graph=no/ ...) until perf exits or\n"
	"        Ctrl-C.  call-graph=no keeps perf's native samples for perf report.\n"
	"        -p limits it to the given processes (default: every Python and Ruby process).\n",
	.longopts = attach_longopts,
	.opts_size = sizeof(struct attach_opts),
	.option = attach_option,
	.check = attach_check,
	.run = attach_run,
};
