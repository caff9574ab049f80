/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An async-runtime target of bpf/async.bpf.c: finding its runtime,
 * configuring the walker for it, attaching the step probes (rtbpf/
 * asynctarget.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/async.h"
#include "bpf/async.skel.h"
#include "layouts/layout.h"
#include "runtimes/process.h"
#include "rtbpf/asynctarget.h"

/* Searches in vain of one executable before it is not searched again:
 * right after an exec the new executable is named before the kernel has
 * mapped it, and a search then finds nothing. */
#define TOKIO_MISSES 3

/* Whether @t's executable is the one whose tokio search came back empty
 * the last TOKIO_MISSES times: each search demangles every symbol, too
 * much to repeat every few milliseconds while a command runs up to its
 * exec. */
static bool tokio_searched(struct rt_async_target *t)
{
	char path[64], exe[sizeof(t->tokio_exe)];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	if (!strcmp(exe, t->tokio_exe))
		return t->tokio_misses >= TOKIO_MISSES;
	memcpy(t->tokio_exe, exe, (size_t)n + 1);
	t->tokio_misses = 0;
	return false;
}

int rt_async_target__find(struct rt_async_target *t)
{
	int err = 0;

	/* the interpreter once, then asyncio's module until it is imported */
	if (!t->interpreter_found)
		err = rt_runtime__inspect(&rt_runtime_cpython, NULL, t->pid, &t->proc.base);
	if (!err) {
		t->interpreter_found = true;
		t->runtime = RT_ASYNC_ASYNCIO;
		return rt_asyncio__find_probes(t->pid, &t->probes);
	}
	if (err != -ENOENT)
		return err;
	if (tokio_searched(t))
		return -ENOENT;
	err = rt_tokio__find_probes(t->pid, &t->tokio);
	if (err == -ENOENT)
		t->tokio_misses++;
	if (!err) {
		t->runtime = RT_ASYNC_TOKIO;
		snprintf(t->version_text, sizeof(t->version_text), "tokio, %zu future types",
			 t->tokio.nr_polls);
	}
	return err;
}

/* Sleeps @ms milliseconds, in steps of at most 10 ms, while @stopped
 * says no. */
static void nap(unsigned int ms, bool (*stopped)(void *ctx), void *ctx)
{
	for (unsigned int slept = 0; slept < ms && !stopped(ctx); slept += 10)
		usleep((ms - slept < 10 ? ms - slept : 10) * 1000u);
}

int rt_async_target__wait(struct rt_async_target *t, bool (*stopped)(void *ctx), void *ctx)
{
	unsigned int failures = 0, delay_ms = RT_PROCESS_RETRY_FIRST_MS;
	int err;

	for (;;) {
		err = rt_async_target__find(t);
		if (!err || err == -ESRCH || stopped(ctx) || (kill(t->pid, 0) && errno == ESRCH))
			return err == -ENOENT ? -ESRCH : err;
		/* a running program that is no CPython does not become one
		 * (short of an exec), nor does its executable gain tokio */
		if (err == -ENOENT && t->attached && !t->interpreter_found && tokio_searched(t))
			return -ENOTSUP;
		if (err == -ENOENT) {
			/* not imported yet: look again every 10 ms */
			failures = 0;
			delay_ms = RT_PROCESS_RETRY_FIRST_MS;
			nap(10, stopped, ctx);
			continue;
		}
		/* A process seen while ld.so still maps its runtime fails its
		 * inspection: look at it afresh, at the spacing the discovery
		 * tracker uses, as many times as it would. */
		if (++failures > rt_runtime_cpython.retries)
			return err;
		t->interpreter_found = false;
		nap(delay_ms, stopped, ctx);
		delay_ms = delay_ms * 2 < RT_PROCESS_RETRY_MAX_MS ? delay_ms * 2 : RT_PROCESS_RETRY_MAX_MS;
	}
}

int rt_async_target__configure(struct rt_async_target *t)
{
	struct rt_layout layout;
	char msg[256] = "";

	if (t->runtime != RT_ASYNC_ASYNCIO)
		return 0;
	if (rt_asyncio__layout(t->proc.base.major, t->proc.base.minor, &t->layout)) {
		fprintf(stderr, "%s: pid %d runs CPython %d.%d: asyncio's layout is known for "
			"3.11 to 3.13 only\n", t->who, t->pid, t->proc.base.major, t->proc.base.minor);
		return -ENOTSUP;
	}
	if (rt_runtime_cpython.select_layout(&t->proc.base, NULL, &layout, msg, sizeof(msg)) ||
	    rt_pyproc__walker_config(&t->proc, &layout, 1, &t->cfg)) {
		fprintf(stderr, "%s: pid %d (CPython %d.%d): no layout to walk it%s%s\n", t->who,
			t->pid, t->proc.base.major, t->proc.base.minor, msg[0] ? ": " : "", msg);
		return -ENOTSUP;
	}
	t->version = (uint32_t)t->proc.base.major << 16 | (uint32_t)t->proc.base.minor << 8 |
		     (uint32_t)(t->proc.base.patch > 0 ? t->proc.base.patch : 0);
	snprintf(t->version_text, sizeof(t->version_text), "CPython %d.%d.%d", t->proc.base.major,
		 t->proc.base.minor, t->proc.base.patch);
	return 0;
}

int rt_async_target__keep_link(struct rt_async_target *t, struct bpf_link *link, const char *what)
{
	if (!link) {
		int err = errno ? errno : EINVAL;

		fprintf(stderr, "%s: cannot attach to %s: %s\n", t->who, what, strerror(err));
		return -err;
	}
	if (t->nr_links == RT_ASYNC_MAX_LINKS) {
		bpf_link__destroy(link);
		fprintf(stderr, "%s: more than %d probes\n", t->who, RT_ASYNC_MAX_LINKS);
		return -E2BIG;
	}
	t->links[t->nr_links++] = link;
	return 0;
}

static int attach_uprobe(struct rt_async_target *t, struct bpf_program *prog, bool ret,
			 const char *path, uint64_t offset, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret, .bpf_cookie = cookie);

	return rt_async_target__keep_link(
		t, bpf_program__attach_uprobe_opts(prog, t->pid, path, offset, &opts), path);
}

static int attach_asyncio(struct rt_async_target *t, struct async_bpf *skel, bool wakeups)
{
	const struct rt_asyncio_probes *p = &t->probes;
	int err;

	/* the returns first: a return without its entry is only counted */
	err = attach_uprobe(t, skel->progs.async_step_return, true, p->step_wrapper.path,
			    p->step_wrapper.offset, 0);
	if (!err)
		err = attach_uprobe(t, skel->progs.async_step_return, true, p->task_wakeup.path,
				    p->task_wakeup.offset, 0);
	if (!err)
		err = attach_uprobe(t, skel->progs.async_step_wrapper, false, p->step_wrapper.path,
				    p->step_wrapper.offset, 0);
	if (!err)
		err = attach_uprobe(t, skel->progs.async_task_wakeup, false, p->task_wakeup.path,
				    p->task_wakeup.offset, 0);
	if (err || !wakeups)
		return err;
	if (p->heappop.offset)
		return attach_uprobe(t, skel->progs.async_heappop_return, true, p->heappop.path,
				     p->heappop.offset, 0);
	fprintf(stderr, "%s: no _heapq.heappop found in pid %d: no cascades or scheduling delays\n",
		t->who, t->pid);
	return 0;
}

/* Two uprobes per future type's poll function, the type's index as the
 * cookie; the wakers; the timer wheel's poll (the timers that came due). */
static int attach_tokio(struct rt_async_target *t, struct async_bpf *skel, bool wakeups)
{
	const struct rt_tokio_probes *p = &t->tokio;
	int err = 0;

	for (size_t i = 0; i < p->nr_polls && !err; i++)
		err = attach_uprobe(t, skel->progs.async_step_return, true, p->path,
				    p->polls[i].offset, i);
	for (size_t i = 0; i < p->nr_polls && !err; i++)
		err = attach_uprobe(t, skel->progs.async_tokio_poll, false, p->path,
				    p->polls[i].offset, i);
	if (!err && wakeups && p->wake_by_val)
		err = attach_uprobe(t, skel->progs.async_tokio_wake, false, p->path,
				    p->wake_by_val, 0);
	if (!err && wakeups && p->wake_by_ref)
		err = attach_uprobe(t, skel->progs.async_tokio_wake, false, p->path,
				    p->wake_by_ref, 0);
	if (!err && wakeups && p->wheel_poll)
		err = attach_uprobe(t, skel->progs.async_tokio_timer_return, true, p->path,
				    p->wheel_poll, 0);
	if (!err && wakeups && p->wheel_poll)
		err = attach_uprobe(t, skel->progs.async_tokio_wheel_poll, false, p->path,
				    p->wheel_poll, 0);
	return err;
}

int rt_async_target__attach(struct rt_async_target *t, struct async_bpf *skel, bool wakeups)
{
	return t->runtime == RT_ASYNC_ASYNCIO ? attach_asyncio(t, skel, wakeups) :
						attach_tokio(t, skel, wakeups);
}

void rt_async_target__detach(struct rt_async_target *t)
{
	for (size_t i = 0; i < t->nr_links; i++)
		bpf_link__destroy(t->links[i]);
	t->nr_links = 0;
}

void rt_async_target__exit(struct rt_async_target *t)
{
	rt_async_target__detach(t);
	rt_tokio_probes__exit(&t->tokio);
}

uint64_t rt_async_target__stat(struct async_bpf *skel, enum rt_async_stat stat)
{
	int nr = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;
	__u32 key = stat;

	if (!skel || nr <= 0 || !(v = calloc((size_t)nr, sizeof(*v))))
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &key, v))
		for (int i = 0; i < nr; i++)
			sum += v[i];
	free(v);
	return sum;
}
