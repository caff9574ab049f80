/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer harness for the perf.data reader and the address-space code
 * behind it: the input is written to a memfd and read like any perf.data.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "perfglue/machine.h"
#include "perfglue/perfdata.h"

struct fuzz_tool {
	struct rt_perf_tool tool;
	struct rt_machine *machine;
	uint64_t sum;
};

static int on_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
		     const struct rt_perf_sample *s)
{
	struct fuzz_tool *f = (struct fuzz_tool *)tool;
	uint64_t i;

	/* Touch everything the parser handed out, so ASan sees bad bounds. */
	for (i = 0; i < s->nr_callchain; i++) {
		f->sum += s->callchain[i];
		rt_machine__find_map(f->machine, s->pid, s->callchain[i]);
	}
	for (i = 0; i < s->raw_size; i++)
		f->sum += ((const uint8_t *)s->raw)[i];
	for (i = 0; i < s->user_stack_size; i++)
		f->sum += s->user_stack[i];
	for (i = 0; i < s->read_size; i++)
		f->sum += s->read_values[i];
	for (i = 0; i < s->nr_branches; i++)
		f->sum += s->branches[i].from;
	if (s->user_regs)
		for (i = 0; i < (uint64_t)__builtin_popcountll(s->user_regs_mask); i++)
			f->sum += s->user_regs[i];
	f->sum += ev->index;
	return 0;
}

static int on_mmap(struct rt_perf_tool *tool, const struct rt_perf_mmap *m)
{
	return rt_machine__mmap(((struct fuzz_tool *)tool)->machine, m) == -12 ? -12 : 0;
}

static int on_comm(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		   bool exec, const struct rt_perf_sample_id *sid)
{
	return rt_machine__comm(((struct fuzz_tool *)tool)->machine, pid, tid, comm, exec);
}

static int on_fork(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		   uint32_t ptid, uint64_t time)
{
	return rt_machine__fork(((struct fuzz_tool *)tool)->machine, pid, ppid, tid, ptid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_tool f = { .tool = { .sample = on_sample, .mmap = on_mmap, .comm = on_comm,
					 .fork = on_fork } };
	struct rt_perf_reader *r;
	char path[64], err[256];
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = rt_perf_reader__open(path, err, sizeof(err));
	if (r) {
		FILE *null = fopen("/dev/null", "w");

		f.machine = rt_machine__new();
		rt_perf_reader__process(r, &f.tool);
		if (null) {
			rt_perf_reader__fprint_header(r, null);
			fclose(null);
		}
		rt_machine__free(f.machine);
		rt_perf_reader__close(r);
	}
	close(fd);
	return 0;
}
