/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driver for the attach e2e tests, independent of rt-bpf:
 *   attach_echo attach PERF_PID [TGID]   attach echo.bpf.c to a running perf record
 *   attach_echo record OUT HZ SECONDS    rt_perf_record -a for SECONDS
 *   attach_echo record OUT HZ -- CMD...  rt_perf_record of a command
 *   attach_echo record OUT HZ -p PID     rt_perf_record -p until PID exits
 * Prints "attached ..." once linked and "echo: ..." figures at the end.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "rtbpf/perfsession.h"
#include "tests/attach/echo.skel.h"

struct echo {
	struct echo_bpf *skel;
};

static void log_line(void *ctx, const char *msg)
{
	fprintf(stderr, "attach_echo: %s\n", msg);
}

static int echo_attach(struct rt_perf_session *s, pid_t target_pid, void *ctx)
{
	struct echo *e = ctx;
	unsigned int tid_entries = rt_perf_session__tid_slot_entries(s);
	int err;

	e->skel = echo_bpf__open();
	if (!e->skel)
		return -errno;
	e->skel->rodata->system_wide = rt_perf_session__system_wide(s);
	e->skel->rodata->filter_tgid = (__u32)target_pid;
	bpf_map__set_max_entries(e->skel->maps.channel, rt_perf_session__channel_slots(s));
	bpf_map__set_max_entries(e->skel->maps.channel_slots, tid_entries ? tid_entries : 1);
	err = echo_bpf__load(e->skel);
	if (err)
		return err;
	err = rt_perf_session__attach(s, bpf_program__fd(e->skel->progs.rt_echo),
				      bpf_map__fd(e->skel->maps.channel),
				      bpf_map__fd(e->skel->maps.channel_slots));
	if (err)
		return err;
	printf("attached perf=%d sampling=%zu channels=%zu system_wide=%d filter=%d\n",
	       (int)rt_perf_session__pid(s), rt_perf_session__nr_role(s, RT_PERF_EVENT_SAMPLING),
	       rt_perf_session__nr_role(s, RT_PERF_EVENT_CHANNEL), rt_perf_session__system_wide(s),
	       (int)target_pid);
	fflush(stdout);
	return 0;
}

static void print_counts(const struct echo *e, const struct rt_perf_prog_stats *st)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long sum[2] = { 0, 0 };

	if (e->skel && ncpu > 0) {
		__u64 vals[ncpu];

		for (__u32 k = 0; k < 2; k++) {
			if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.counts), &k, vals))
				continue;
			for (int c = 0; c < ncpu; c++)
				sum[k] += vals[c];
		}
	}
	printf("echo: written=%llu failed=%llu runs=%llu mean_ns=%.0f stats=%d\n", sum[0], sum[1],
	       (unsigned long long)st->run_cnt,
	       st->run_cnt ? (double)st->run_time_ns / (double)st->run_cnt : 0.0, st->valid);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int cmd_attach(pid_t perf_pid, pid_t filter)
{
	struct rt_perf_find_opts fo = { .sz = sizeof(fo), .perf_pid = perf_pid, .log = log_line };
	struct rt_perf_prog_stats st = { 0 };
	struct echo e = { 0 };
	struct rt_perf_session *s;
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	s = rt_perf_session__find(&fo);
	if (!s)
		return 1;
	err = echo_attach(s, filter, &e);
	if (err) {
		fprintf(stderr, "attach_echo: attach: %s\n", strerror(-err));
		goto out;
	}
	while (!stop && !rt_perf_session__perf_exited(s)) {
		struct pollfd p = { .fd = rt_perf_session__pidfd(s), .events = POLLIN };

		poll(&p, 1, 200);
	}
	rt_perf_session__detach(s);
	rt_perf_session__prog_stats(s, &st);
	print_counts(&e, &st);
out:
	rt_perf_session__free(s);
	echo_bpf__destroy(e.skel);
	return err ? 1 : 0;
}

static int cmd_record(int argc, char **argv)
{
	struct rt_perf_record_opts ro = { .sz = sizeof(ro), .log = log_line };
	struct rt_perf_record_result res;
	struct echo e = { 0 };
	int err;

	if (argc < 4)
		return 2;
	ro.output = argv[1];
	ro.freq = (unsigned int)atoi(argv[2]);
	ro.attach = echo_attach;
	ro.attach_ctx = &e;
	ro.quiet = getenv("ATTACH_ECHO_VERBOSE") == NULL;
	/* check.py follows each echo record's own callchain */
	ro.channel_callchain = true;
	if (strcmp(argv[3], "-p") == 0 && argc > 4) {
		ro.target = RT_PERF_RECORD_PID;
		ro.pid = atoi(argv[4]);
	} else if (strcmp(argv[3], "--") == 0) {
		ro.target = RT_PERF_RECORD_COMMAND;
		ro.argv = argv + 4;
	} else {
		ro.target = RT_PERF_RECORD_SYSTEM;
		ro.duration_ms = (unsigned int)(atof(argv[3]) * 1000);
	}
	err = rt_perf_record(&ro, &res);
	print_counts(&e, &res.stats);
	printf("perf.data: %s perf_status=%d target_status=%d\n", res.output, res.perf_status,
	       res.target_status);
	echo_bpf__destroy(e.skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "attach") == 0)
		return cmd_attach(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 0);
	if (argc >= 2 && strcmp(argv[1], "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	fprintf(stderr, "usage: attach_echo attach PERF_PID [TGID] | "
		"record OUT HZ (SECONDS | -p PID | -- CMD...)\n");
	return 2;
}
