/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/pprof.h"
#include "rtmerge/speedscope.h"

struct origin {
	char *path;
	uint8_t build_id[20];
	uint8_t build_id_size;
};

struct rt_export {
	bool pprof;
	char *version;
	bool by_period, keep_kernel_suffix;
	enum rt_merge_view view;      /* rtmerge --off-cpu, --wall: microseconds */
	/* Native frames' binaries, by frame text: the first one named wins. */
	struct rt_stacks *origin_names;
	struct origin *origins;
	size_t nr_origins;
	int err;
};

bool rt_export__handles(const char *format)
{
	return !strcmp(format, "speedscope") || !strcmp(format, "pprof");
}

static void note_origin(void *ctx, const char *frame, const char *path, const uint8_t *build_id,
			size_t build_id_size)
{
	struct rt_export *e = ctx;
	int64_t id = rt_stacks__intern(e->origin_names, frame, strlen(frame));
	struct origin *o;

	if (id < 0) {
		e->err = (int)id;
		return;
	}
	if ((size_t)id < e->nr_origins)
		return;
	o = realloc(e->origins, ((size_t)id + 1) * sizeof(*o));
	if (!o) {
		e->err = -ENOMEM;
		return;
	}
	e->origins = o;
	o = &e->origins[id];
	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (build_id && build_id_size <= sizeof(o->build_id)) {
		memcpy(o->build_id, build_id, build_id_size);
		o->build_id_size = (uint8_t)build_id_size;
	}
	e->nr_origins = (size_t)id + 1;
	if (!o->path)
		e->err = -ENOMEM;
}

static bool find_origin(void *ctx, const char *frame, struct rt_pprof_origin *out)
{
	struct rt_export *e = ctx;
	size_t before = rt_stacks__nr_names(e->origin_names);
	int64_t id = rt_stacks__intern(e->origin_names, frame, strlen(frame));

	/* A lookup that interned a new name found nothing. */
	if (id < 0 || (size_t)id >= before || (size_t)id >= e->nr_origins || !e->origins[id].path)
		return false;
	*out = (struct rt_pprof_origin){
		.path = e->origins[id].path,
		.build_id = e->origins[id].build_id_size ? e->origins[id].build_id : NULL,
		.build_id_size = e->origins[id].build_id_size,
	};
	return true;
}

struct rt_export *rt_export__new(const char *format, const char *version,
				 struct rt_merge_opts *mo)
{
	struct rt_export *e;

	if (!rt_export__handles(format)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->version = strdup(version)) || !(e->origin_names = rt_stacks__new())) {
		rt_export__free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->pprof = !strcmp(format, "pprof");
	e->by_period = mo->by_period;
	e->view = mo->view;
	e->keep_kernel_suffix = mo->annotate_kernel;
	/* The root frame becomes the thread's profile (speedscope) or its
	 * labels (pprof); pprof's kernel frames need "_[k]" for their mapping
	 * (dropped from their names unless --kernel), speedscope's have it
	 * only with --kernel. */
	mo->include_tid = true;
	mo->include_pid = false;
	if (e->pprof) {
		mo->annotate_kernel = true;
		mo->on_native_frame = note_origin;
		mo->ctx = e;
	}
	return e;
}

void rt_export__free(struct rt_export *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nr_origins; i++)
		free(e->origins[i].path);
	free(e->origins);
	rt_stacks__free(e->origin_names);
	free(e->version);
	free(e);
}

/* The chosen event, and whether its period is nanoseconds of CPU time. */
static const struct rt_perf_evsel *chosen_event(const struct rt_merge *m,
						const struct rt_perf_reader *r, bool *clock)
{
	const char *name = rt_merge__event_name(m);
	size_t len;

	*clock = false;
	if (!name)
		return NULL;
	len = strcspn(name, ":");   /* "cpu-clock:u" is cpu-clock */
	*clock = (len == 9 && !strncmp(name, "cpu-clock", 9)) ||
		 (len == 10 && !strncmp(name, "task-clock", 10));
	for (size_t i = 0; i < rt_perf_reader__nr_evsels(r); i++) {
		const struct rt_perf_evsel *ev = rt_perf_reader__evsel(r, i);

		if (ev->name && !strcmp(ev->name, name))
			return ev;
	}
	return NULL;
}

static int write_pprof(struct rt_export *e, const struct rt_merge *m,
		       const struct rt_perf_reader *r, const char *input, FILE *out)
{
	const struct rt_perf_header_info *info = rt_perf_reader__info(r);
	const struct rt_perf_build_id *kernel = rt_perf_reader__find_build_id(r,
									     "[kernel.kallsyms]");
	bool clock;
	const struct rt_perf_evsel *ev = chosen_event(m, r, &clock);
	char event_line[160], input_line[4200];
	uint64_t first, last;
	const char *comments[] = { e->version, event_line, input_line };
	struct rt_pprof_opts po = {
		.sz = sizeof(po),
		.cpu_time = clock,
		.comments = comments,
		.nr_comments = 3,
		.keep_kernel_suffix = e->keep_kernel_suffix,
		.kernel_build_id = kernel ? kernel->id : NULL,
		.kernel_build_id_size = kernel ? kernel->size : 0,
		.native_origin = find_origin,
		.ctx = e,
	};

	snprintf(event_line, sizeof(event_line), "event: %s",
		 rt_merge__event_name(m) ? rt_merge__event_name(m) : "(none)");
	snprintf(input_line, sizeof(input_line), "input: %s", input);
	if (e->view == RT_MERGE_VIEW_WALL || e->view == RT_MERGE_VIEW_OFFCPU) {
		po.cpu_time = true;
		po.time_type = e->view == RT_MERGE_VIEW_WALL ? "wall" : "off_cpu";
		po.time_unit = "microseconds";
	} else if (ev && clock) {
		if (ev->attr.freq && ev->attr.sample_freq)
			po.period = 1000000000ull / ev->attr.sample_freq;
		else if (!ev->attr.freq)
			po.period = ev->attr.sample_period;
	}
	/* perf leaves the header's sample times 0 when it did not go through
	 * its samples at the end (--buildid-mmap, as rt-bpf runs it) */
	if (info && info->last_sample_time > info->first_sample_time)
		po.duration_nanos = (int64_t)(info->last_sample_time - info->first_sample_time);
	else if (rt_merge__sample_times(m, &first, &last) && last > first)
		po.duration_nanos = (int64_t)(last - first);
	return rt_pprof__write(rt_merge__stacks(m), &po, out);
}

int rt_export__write(struct rt_export *e, const struct rt_merge *m,
		     const struct rt_perf_reader *r, const char *input, FILE *out)
{
	bool clock;

	if (e->err)
		return e->err;
	if (e->pprof)
		return write_pprof(e, m, r, input, out);
	chosen_event(m, r, &clock);
	struct rt_speedscope_opts so = {
		.sz = sizeof(so),
		.name = input,
		.exporter = e->version,
		.by_period = e->by_period,
		.unit = e->view == RT_MERGE_VIEW_WALL || e->view == RT_MERGE_VIEW_OFFCPU ?
				"microseconds" : e->by_period && clock ? "nanoseconds" : "none",
	};

	return rt_speedscope__write(rt_merge__stacks(m), &so, out);
}
