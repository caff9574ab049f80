/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/speedscope.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/frametext.h"
#include "rtmerge/json.h"
#include "rtmerge/threads.h"

static void put_frame(FILE *out, const char *text)
{
	struct rt_frametext_source src;

	fputs("{\"name\":", out);
	if (rt_frametext__parse_source(text, &src)) {
		rt_json__put_string(out, src.function, src.function_len);
		fputs(",\"file\":", out);
		rt_json__put_string(out, src.file, src.file_len);
		if (src.line)
			fprintf(out, ",\"line\":%" PRId64, src.line);
	} else {
		rt_json__put_string(out, text, strlen(text));
	}
	putc('}', out);
}

/* Numbers the non-root frames in order of first use: speedscope's frame
 * indices.  index[id] is UINT32_MAX for ids no profile uses. */
static int number_frames(const struct rt_stacks *stacks, uint32_t *index, uint32_t **used,
			 size_t *nr_used)
{
	size_t nr_names = rt_stacks__nr_names(stacks), i;

	*used = malloc((nr_names + 1) * sizeof(**used));
	if (!*used)
		return -ENOMEM;
	*nr_used = 0;
	memset(index, 0xff, (nr_names + 1) * sizeof(*index));
	for (i = 0; i < rt_stacks__nr(stacks); i++) {
		struct rt_stack st;

		rt_stacks__get(stacks, i, &st);
		for (uint32_t j = rt_threads__first_frame(&st); j < st.nr_frames; j++)
			if (index[st.frames[j]] == UINT32_MAX) {
				index[st.frames[j]] = (uint32_t)*nr_used;
				(*used)[(*nr_used)++] = st.frames[j];
			}
	}
	return 0;
}

/* "comm (TID)": the name a user knows from top -H; the root text itself
 * when it was no thread root.  0 or -ENOMEM. */
static int put_thread_name(FILE *out, const struct rt_thread_group *g)
{
	size_t cap = g->id.comm_len + 24;
	char *name = malloc(cap);
	size_t len = g->id.comm_len;

	if (!name)
		return -ENOMEM;
	memcpy(name, g->id.comm, len);
	if (g->id.tid || g->id.pid)
		len += (size_t)snprintf(name + len, cap - len, " (%" PRIu32 ")", g->id.tid);
	rt_json__put_string(out, name, len);
	free(name);
	return 0;
}

static int put_profile(FILE *out, const struct rt_stacks *stacks, const struct rt_threads *t,
		       const struct rt_thread_group *g, const uint32_t *index,
		       const struct rt_speedscope_opts *o)
{
	size_t i;
	int err;

	fputs("{\"type\":\"sampled\",\"name\":", out);
	err = put_thread_name(out, g);
	if (err)
		return err;
	fprintf(out, ",\"unit\":\"%s\",\"startValue\":0,\"endValue\":%" PRIu64 ",\"samples\":[",
		o->unit, o->by_period ? g->period : g->count);
	for (i = g->first; i < g->first + g->nr; i++) {
		struct rt_stack st;

		rt_stacks__get(stacks, t->order[i], &st);
		fputs(i > g->first ? ",[" : "[", out);
		for (uint32_t j = rt_threads__first_frame(&st); j < st.nr_frames; j++)
			fprintf(out, j > rt_threads__first_frame(&st) ? ",%" PRIu32 : "%" PRIu32,
				index[st.frames[j]]);
		putc(']', out);
	}
	fputs("],\"weights\":[", out);
	for (i = g->first; i < g->first + g->nr; i++) {
		struct rt_stack st;

		rt_stacks__get(stacks, t->order[i], &st);
		fprintf(out, i > g->first ? ",%" PRIu64 : "%" PRIu64,
			o->by_period ? st.period : st.count);
	}
	fputs("]}", out);
	return 0;
}

static bool known_unit(const char *unit)
{
	static const char *const units[] = { "none", "nanoseconds", "microseconds",
					     "milliseconds", "seconds", "bytes" };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i]))
			return true;
	return false;
}

int rt_speedscope__write(const struct rt_stacks *stacks, const struct rt_speedscope_opts *opts,
			 FILE *out)
{
	struct rt_speedscope_opts o = { .sz = sizeof(o) };
	struct rt_threads t;
	uint32_t *index = NULL, *used = NULL;
	size_t nr_used = 0, i;
	int err;

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.name)
		o.name = "rtperf";
	if (!o.exporter)
		o.exporter = "rtperf";
	if (!o.unit)
		o.unit = "none";
	if (!known_unit(o.unit))
		return -EINVAL;
	err = rt_threads__init(&t, stacks, o.by_period);
	if (!err) {
		index = malloc((rt_stacks__nr_names(stacks) + 1) * sizeof(*index));
		err = index ? number_frames(stacks, index, &used, &nr_used) : -ENOMEM;
	}
	if (err)
		goto out;
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"name\":", out);
	rt_json__put_string(out, o.name, strlen(o.name));
	fputs(",\"exporter\":", out);
	rt_json__put_string(out, o.exporter, strlen(o.exporter));
	fputs(",\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[", out);
	for (i = 0; i < nr_used; i++) {
		if (i)
			putc(',', out);
		put_frame(out, rt_stacks__name(stacks, used[i]));
		if (i % 16 == 15)
			putc('\n', out);
	}
	fputs("]},\n\"profiles\":[", out);
	for (i = 0; i < t.nr_groups && !err; i++) {
		if (i)
			fputs(",\n", out);
		err = put_profile(out, stacks, &t, &t.groups[i], index, &o);
	}
	fputs("]}\n", out);
	if (!err && ferror(out))
		err = -EIO;
out:
	rt_threads__exit(&t);
	free(index);
	free(used);
	return err;
}
