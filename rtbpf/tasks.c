/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf record --tasks (rtbpf/tasks.h): a thread that waits for the target
 * to run an async runtime, then loads bpf/async.bpf.c in its task-record
 * mode with perf's channel map shared from the walker, and attaches the
 * step probes `rt-bpf async` uses (rtbpf/asynctarget.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/async.h"
#include "bpf/async.skel.h"
#include "rtbpf/asynctarget.h"
#include "rtbpf/tasks.h"

#define WAIT_STEP_US 10000

struct rt_task_tracer {
	struct rt_async_target t;
	struct async_bpf *skel;
	int channel_fd;
	bool verbose;
	volatile bool stop;
	bool attached;
	pthread_t thread;
};

/* Loads the program for @tr's target, sharing the walker's channel. */
static int load(struct rt_task_tracer *tr)
{
	struct rt_async_target *t = &tr->t;
	struct async_bpf *skel = async_bpf__open();
	__u32 key = (__u32)t->pid;
	int err;

	if (!skel)
		return -errno;
	tr->skel = skel;
	skel->rodata->task_records = 1;
	skel->rodata->task_kind = t->runtime == RT_ASYNC_TOKIO ? RT_REC_TASK_TOKIO : RT_REC_TASK_ASYNCIO;
	memcpy((void *)&skel->rodata->aoff, &t->layout.bpf, sizeof(t->layout.bpf));
	err = bpf_map__reuse_fd(skel->maps.channel, tr->channel_fd);
	if (!err && t->runtime == RT_ASYNC_TOKIO && t->tokio.nr_polls)
		err = bpf_map__set_max_entries(skel->maps.kind_names, (__u32)t->tokio.nr_polls);
	if (!err)
		err = async_bpf__load(skel);
	if (err)
		return err;
	if (t->runtime == RT_ASYNC_ASYNCIO)
		return bpf_map_update_elem(bpf_map__fd(skel->maps.pids), &key, &t->cfg, BPF_ANY) ?
		       -errno : 0;
	for (__u32 i = 0; i < t->tokio.nr_polls; i++) {
		struct rt_async_kind_name name = { 0 };

		size_t n = strnlen(t->tokio.polls[i].future, sizeof(name.name) - 1);

		memcpy(name.name, t->tokio.polls[i].future, n); /* cut to the record's field */
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.kind_names), &i, &name, BPF_ANY))
			return -errno;
	}
	return 0;
}

static bool tracer_stopped(void *ctx)
{
	return ((struct rt_task_tracer *)ctx)->stop;
}

static void *tracer_main(void *arg)
{
	struct rt_task_tracer *tr = arg;
	struct rt_async_target *t = &tr->t;
	int err;

	err = rt_async_target__wait(t, tracer_stopped, tr);
	if (err) {
		if (!tr->stop && err == -ESRCH)
			fprintf(stderr, "rt-bpf: --tasks: pid %d ran neither asyncio's C accelerator "
				"(_asyncio) nor tokio: no task frames\n", t->pid);
		else if (!tr->stop)
			fprintf(stderr, "rt-bpf: --tasks: cannot inspect pid %d: %s: no task frames\n",
				t->pid, strerror(-err));
		return NULL;
	}
	err = rt_async_target__configure(t);
	if (!err) {
		err = load(tr);
		if (err)
			fprintf(stderr, "rt-bpf: --tasks: cannot load the step probes' program: %s\n",
				strerror(-err));
	}
	if (!err)
		err = rt_async_target__attach(t, tr->skel, false);
	if (err) {
		rt_async_target__detach(t);
		return NULL;
	}
	tr->attached = true;
	if (tr->verbose)
		fprintf(stderr, "rt-bpf: --tasks: following the task steps of pid %d (%s)\n", t->pid,
			t->version_text);
	return NULL;
}

int rt_task_tracer__start(pid_t pid, int channel_fd, bool verbose,
			  struct rt_task_tracer **out)
{
	struct rt_task_tracer *tr = calloc(1, sizeof(*tr));
	int err;

	if (!tr)
		return -ENOMEM;
	tr->t.pid = pid;
	tr->t.who = "rt-bpf: --tasks";
	tr->channel_fd = channel_fd;
	tr->verbose = verbose;
	err = pthread_create(&tr->thread, NULL, tracer_main, tr);
	if (err) {
		free(tr);
		return -err;
	}
	*out = tr;
	return 0;
}

void rt_task_tracer__stop(struct rt_task_tracer *tr)
{
	uint64_t written, lost, unwritten;

	if (!tr)
		return;
	tr->stop = true;
	pthread_join(tr->thread, NULL);
	rt_async_target__detach(&tr->t);
	if (tr->attached) {
		written = rt_async_target__stat(tr->skel, RT_ASYNC_STAT_TASK_RECORDS);
		lost = rt_async_target__stat(tr->skel, RT_ASYNC_STAT_TASK_LOST);
		unwritten = rt_async_target__stat(tr->skel, RT_ASYNC_STAT_TASK_UNWRITTEN);
		fprintf(stderr, "rt-bpf: --tasks: %" PRIu64 " task records written (%s pid %d)",
			written, tr->t.runtime == RT_ASYNC_TOKIO ? "tokio" : "asyncio", tr->t.pid);
		if (lost)
			fprintf(stderr, ", %" PRIu64 " lost (perf's buffer was full: some samples "
				"may miss their task frame or carry a finished one)", lost);
		if (unwritten)
			fprintf(stderr, ", %" PRIu64 " not written (perf's channel was not open: "
				"steps at the recording's start or end)", unwritten);
		fputc('\n', stderr);
	}
	async_bpf__destroy(tr->skel);
	rt_async_target__exit(&tr->t);
	free(tr);
}
