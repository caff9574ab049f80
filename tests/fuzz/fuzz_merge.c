/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer harness for the whole merge: a perf.data goes through the
 * reader, the machine, the symbolizer and unwinder (on whatever real files
 * its MMAP records name), interpreter-frame splicing and folded, per-sample
 * and summary output.  The first input byte picks the reader mode
 * (RTPERF_READER read, map, map-worker or read-worker), whether the rest
 * arrives through a pipe instead of a file, and output options; the second
 * the view (on-CPU, --off-cpu, --wall, --gil: rt-bpf's off-CPU, sum and
 * task records paired with perf's switch samples) and whether a tracepoint
 * field is asked for as the leaf (libtraceevent on the recording's formats).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "perfglue/perfdata.h"
#include "rtmerge/merge.h"
#include "rtmerge/stacks.h"

struct feed {
	int fd;
	const uint8_t *data;
	size_t size;
};

/* Writes the input into the pipe; stops when the reader has closed it. */
static void *feeder(void *arg)
{
	struct feed *f = arg;
	size_t done = 0;

	while (done < f->size) {
		ssize_t n = write(f->fd, f->data + done, f->size - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(f->fd);
	return NULL;
}

static void merge_once(const char *path, int flags, int view)
{
	static const struct rt_symbolizer_opts sym_opts = {
		.sz = sizeof(sym_opts), .kallsyms_path = "/nonexistent/kallsyms",
		.buildid_cache = "/nonexistent/cache", .debug_root = "/nonexistent/debug",
	};
	FILE *null = fopen("/dev/null", "w");
	struct rt_merge_opts opts = {
		.sz = sizeof(opts), .symbolizer = &sym_opts, .include_pid = flags & 8,
		.include_addrs = flags & 16, .annotate_kernel = flags & 32,
		.per_sample = flags & 64 ? null : NULL, .inline_frames = flags & 1,
		.view = (enum rt_merge_view)(view & 3), .leaf_field = view & 4 ? "prev_state" : NULL,
		.event = view & 4 ? "sched:sched_switch" : NULL,
	};
	struct rt_perf_reader *r;
	struct rt_merge *m;
	char err[256];

	r = rt_perf_reader__open(path, err, sizeof(err));
	if (!r || !null)
		goto out;
	m = rt_merge__new(&opts);
	if (m) {
		if (!rt_merge__run(m, r))
			rt_stacks__write_folded(rt_merge__stacks(m), null, flags & 128);
		rt_merge__print_summary(m, r, null);
		rt_merge__print_cut(r, path, null);
		rt_merge__free(m);
	}
out:
	if (r)
		rt_perf_reader__close(r);
	if (null)
		fclose(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const modes[] = { "read", "map", "map-worker", "read-worker" };
	char path[64];
	int flags, view;

	if (size < 2)
		return 0;
	flags = data[0];
	view = data[1];
	data += 2, size -= 2;
	signal(SIGPIPE, SIG_IGN);
	setenv("RTPERF_READER", modes[flags & 3], 1);
	if (flags & 4) {
		struct feed f = { .data = data, .size = size };
		pthread_t t;
		int fds[2];

		if (pipe(fds))
			return 0;
		f.fd = fds[1];
		if (pthread_create(&t, NULL, feeder, &f)) {
			close(fds[0]);
			close(fds[1]);
			return 0;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
		merge_once(path, flags, view);
		close(fds[0]);  /* a reader that stopped early unblocks the feeder */
		pthread_join(t, NULL);
	} else {
		int fd = memfd_create("fuzz", 0);

		if (fd < 0)
			return 0;
		if (write(fd, data, size) == (ssize_t)size) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			merge_once(path, flags, view);
		}
		close(fd);
	}
	return 0;
}
