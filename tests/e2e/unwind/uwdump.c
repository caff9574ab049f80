/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * uwdump: unwind every --call-graph dwarf sample of a perf.data with
 * unwind/ and print, per sample with user registers:
 *
 *   S <tid> <time> <stop> <nframes>
 *   F <ip> <how> <offset> <symbol> (leaf first; one line per frame)
 *
 * where offset is the file offset of ip (of ip - 1 for callers), as perf
 * script prints user addresses.
 *
 * followed by a summary on stderr.  Test driver for tests/e2e/unwind_dwarf.sh.
 *   uwdump [-b] PERF.DATA          -b: no output; a second pass over the
 *                                  file with the same unwinder (files
 *                                  cached) gives the steady-state cost
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perfglue/machine.h"
#include "perfglue/perfdata.h"
#include "symbolize/symbolize.h"
#include "unwind/unwind.h"

struct dump {
	struct rt_machine_tool tool; /* first: callbacks get &dump->tool.tool */
	struct rt_unwinder *unwinder;
	struct rt_symbolizer *symbolizer;
	bool quiet;
	uint32_t pid;
	uint64_t samples, frames, stops[RT_UNWIND_STOP_NR];
	double unwind_secs;
};

static struct dump *dump_of(struct rt_perf_tool *tool)
{
	return (struct dump *)tool;
}

static int find_map(void *ctx, uint64_t addr, struct rt_unwind_map *out)
{
	struct dump *d = ctx;
	const struct rt_map *m = rt_machine__find_map(d->tool.machine, d->pid, addr);

	if (!m || !m->path)
		return -ENOENT;
	*out = (struct rt_unwind_map){ .path = m->path, .start = m->start, .end = m->end,
				       .pgoff = m->pgoff, .build_id = m->build_id,
				       .build_id_size = m->build_id_size };
	return 0;
}

static const char *symbol(struct dump *d, uint64_t addr, uint64_t *offset)
{
	const struct rt_map *m = rt_machine__find_map(d->tool.machine, d->pid, addr);
	struct rt_symbol sym;

	*offset = addr;
	if (!m || !m->path)
		return "[unknown]";
	*offset = addr - m->start + m->pgoff;
	rt_symbolizer__resolve_file(d->symbolizer, m->path, m->build_id, m->build_id_size,
				    addr - m->start + m->pgoff, &sym);
	return sym.status == RT_SYMBOL_OK ? sym.name : "[unknown]";
}

static int on_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
		     const struct rt_perf_sample *s)
{
	struct dump *d = dump_of(tool);
	struct rt_unwind_frame frames[128];
	enum rt_unwind_stop stop;
	struct timespec a, b;

	if (!s->user_regs || !s->user_regs_mask)
		return 0;
	d->pid = s->pid;
	struct rt_unwind_input in = {
		.regs = s->user_regs, .regs_mask = s->user_regs_mask, .stack = s->user_stack,
		.stack_size = s->user_stack_dyn_size < s->user_stack_size ? s->user_stack_dyn_size
									 : s->user_stack_size,
		.find_map = find_map, .ctx = d,
	};
	clock_gettime(CLOCK_MONOTONIC, &a);
	int n = rt_unwinder__unwind(d->unwinder, &in, frames, 128, &stop);
	clock_gettime(CLOCK_MONOTONIC, &b);
	d->unwind_secs += (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	if (n < 0)
		return 0;
	d->samples++;
	d->frames += n;
	d->stops[stop]++;
	if (d->quiet)
		return 0;
	printf("S %u %llu %s %d\n", s->tid, (unsigned long long)s->time, rt_unwind_stop__name(stop), n);
	for (int i = 0; i < n; i++) {
		uint64_t off;
		const char *name = symbol(d, i ? frames[i].ip - 1 : frames[i].ip, &off);
		printf("F %llx %d %llx %s\n", (unsigned long long)frames[i].ip, frames[i].how,
		       (unsigned long long)off, name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct dump d = { .tool.tool.sample = on_sample };
	struct rt_perf_reader *r;
	char err[512];
	int argi = 1, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "-b")) {
		d.quiet = true;
		argi++;
	}
	if (argi + 1 != argc) {
		fprintf(stderr, "usage: uwdump [-b] PERF.DATA\n");
		return 2;
	}
	r = rt_perf_reader__open(argv[argi], err, sizeof(err));
	if (!r) {
		fprintf(stderr, "uwdump: %s\n", err);
		return 1;
	}
	rt_machine_tool__init(&d.tool);
	d.tool.tool.skip_data_mmaps = true;
	d.tool.machine = rt_machine__new();
	d.unwinder = rt_unwinder__new(NULL);
	d.symbolizer = rt_symbolizer__new(NULL);
	if (!d.tool.machine || !d.unwinder || !d.symbolizer) {
		fprintf(stderr, "uwdump: out of memory\n");
		goto out;
	}
	if (rt_perf_reader__process(r, &d.tool.tool)) {
		fprintf(stderr, "uwdump: %s\n", rt_perf_reader__error(r));
		goto out;
	}
	fprintf(stderr, "uwdump: %llu samples, %llu frames, %.0f ns per sample unwinding;",
		(unsigned long long)d.samples, (unsigned long long)d.frames,
		d.samples ? d.unwind_secs * 1e9 / d.samples : 0.0);
	for (int i = 0; i < RT_UNWIND_STOP_NR; i++)
		fprintf(stderr, " %s=%llu", rt_unwind_stop__name(i), (unsigned long long)d.stops[i]);
	fprintf(stderr, "\n");
	if (d.quiet) {
		/* Second pass: the unwinder keeps its parsed files. */
		rt_perf_reader__close(r);
		rt_machine__free(d.tool.machine);
		r = rt_perf_reader__open(argv[argi], err, sizeof(err));
		d.tool.machine = rt_machine__new();
		if (!r || !d.tool.machine)
			goto out;
		d.samples = d.frames = 0;
		d.unwind_secs = 0;
		if (rt_perf_reader__process(r, &d.tool.tool))
			goto out;
		fprintf(stderr, "uwdump: cached: %.0f ns per sample, %.0f ns per frame\n",
			d.samples ? d.unwind_secs * 1e9 / d.samples : 0.0,
			d.frames ? d.unwind_secs * 1e9 / d.frames : 0.0);
	}
	rc = 0;
out:
	rt_symbolizer__free(d.symbolizer);
	rt_unwinder__free(d.unwinder);
	rt_machine__free(d.tool.machine);
	rt_perf_reader__close(r);
	return rc;
}
