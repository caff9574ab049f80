/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf attach [--perf-pid PID] [-p PID...]: adds interpreter frames to a
 * perf record that is already running, until perf exits or Ctrl-C.
 */
#include <errno.h>
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

	if (c != 'P')
		return -EINVAL;
	o->perf_pid = atoi(arg);
	return 0;
}

static int attach_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	if (argc > 0) {
		fprintf(stderr, "rt-bpf attach: unexpected argument (try rt-bpf --help)\n");
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
	fprintf(stderr, "rt-bpf: attached to perf record %d; %u Python process(es) so far; Ctrl-C or "
		"perf's exit detaches\n", rt_perf_session__pid(s), app->nr_python);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!interrupted && !rt_perf_session__perf_exited(s))
		rt_bpf_app__discover(app, RT_BPF_DISCOVER_MAX_MS);
	rt_perf_session__detach(s);
	rt_perf_session__prog_stats(s, &ps);
	rt_bpf_app__print_stats(app, &ps);
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
