/* SPDX-License-Identifier: GPL-2.0-only */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "bpf/discovery.h"
#include "bpf/discovery.skel.h"
#include "rtbpf/discovery_events.h"
#include "rtbpf/iter.h"

struct rt_discovery {
	struct discovery_bpf *skel;
	struct ring_buffer *rb;
	rt_discovery_fn fn;
	void *ctx;
	bool mmaps;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct rt_discovery *d = ctx;

	if (size >= sizeof(struct rt_discovery_event))
		d->fn(d->ctx, data);
	return 0;
}

/* The mmap events are classic tracepoints, which libbpf attaches through
 * tracefs.  A machine that has not mounted it (no perf trace, no bpftrace
 * run since boot) gets it mounted where the kernel provides its mount point,
 * as perf's own tracefs helpers do; failing that, retries stand in. */
static void ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return;
	if (!access("/sys/kernel/tracing", F_OK))
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
}

struct rt_discovery *rt_discovery__new(rt_discovery_fn fn, void *ctx)
{
	struct rt_discovery *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return NULL;
	d->fn = fn;
	d->ctx = ctx;
	ensure_tracefs();
	d->skel = discovery_bpf__open();
	if (!d->skel)
		goto fail;
	/* the candidates iterator runs on demand, never attached */
	bpf_program__set_autoattach(d->skel->progs.rt_candidates, false);
	bpf_program__set_autoattach(d->skel->progs.rt_processes, false);
	bpf_program__set_autoattach(d->skel->progs.rt_perf_files, false);
	if (discovery_bpf__load(d->skel))
		goto fail;
	err = discovery_bpf__attach(d->skel);
	if (err) {
		/* the process events are required; the mmap ones need tracefs
		 * (classic tracepoints): without them retries stand in */
		bpf_program__set_autoattach(d->skel->progs.rt_on_mmap_enter, false);
		bpf_program__set_autoattach(d->skel->progs.rt_on_mmap_exit, false);
		discovery_bpf__detach(d->skel);
		d->skel->links.rt_on_exec = bpf_program__attach(d->skel->progs.rt_on_exec);
		d->skel->links.rt_on_fork = bpf_program__attach(d->skel->progs.rt_on_fork);
		d->skel->links.rt_on_exit = bpf_program__attach(d->skel->progs.rt_on_exit);
		if (!d->skel->links.rt_on_exec || !d->skel->links.rt_on_fork ||
		    !d->skel->links.rt_on_exit)
			goto fail;
	} else {
		d->mmaps = true;
	}
	d->rb = ring_buffer__new(bpf_map__fd(d->skel->maps.events), on_event, d, NULL);
	if (!d->rb)
		goto fail;
	return d;
fail:
	err = errno ? errno : EINVAL;
	rt_discovery__free(d);
	errno = err;
	return NULL;
}

bool rt_discovery__sees_mmaps(const struct rt_discovery *d)
{
	return d->mmaps;
}

int rt_discovery__poll(struct rt_discovery *d, int timeout_ms)
{
	int n = ring_buffer__poll(d->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

uint64_t rt_discovery__lost(const struct rt_discovery *d)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 key = RT_DISCOVERY_LOST_KEY;
	uint64_t sum = 0;

	if (ncpu <= 0)
		return 0;
	__u64 vals[ncpu];

	if (bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.lost), &key, vals))
		return 0;
	for (int c = 0; c < ncpu; c++)
		sum += vals[c];
	return sum;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int rt_discovery__candidates(struct rt_discovery *d, pid_t **pids, size_t *nr)
{
	void *buf;
	pid_t *p;
	size_t n, out = 0;
	int err;

	*pids = NULL;
	*nr = 0;
	d->skel->bss->last_tgid = 0;
	err = rt_bpf_iter__read(d->skel->progs.rt_candidates, sizeof(pid_t), &buf, &n);
	if (err)
		return err;
	/* a process whose vmas the iterator visited in two reads may come
	 * twice */
	p = buf;
	qsort(p, n, sizeof(*p), cmp_pid);
	for (size_t i = 0; i < n; i++)
		if (!out || p[i] != p[out - 1])
			p[out++] = p[i];
	*pids = p;
	*nr = out;
	return 0;
}

const struct bpf_program *rt_discovery__perf_files(const struct rt_discovery *d)
{
	return d->skel->progs.rt_perf_files;
}

int rt_discovery__processes(struct rt_discovery *d, struct rt_discovery_process **procs,
			    size_t *nr)
{
	void *buf;
	int err = rt_bpf_iter__read(d->skel->progs.rt_processes, sizeof(**procs), &buf, nr);

	*procs = err ? NULL : buf;
	return err;
}

void rt_discovery__free(struct rt_discovery *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	discovery_bpf__destroy(d->skel);
	free(d);
}
