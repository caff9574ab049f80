/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/safefile.h"


/* Both profiles in one table: count holds AFTER's weight, period BEFORE's. */
struct joined {
	struct rt_stacks *stacks;
	uint64_t total_before, total_after;
};

static int join_one(struct joined *j, const struct rt_stacks *from, bool by_period, bool is_after)
{
	/* every frame: a deep stack's leaf is where its time went */
	uint32_t *frames = malloc(((size_t)rt_stacks__deepest(from) + 1) * sizeof(*frames));
	int err = frames ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < rt_stacks__nr(from); i++) {
		struct rt_stack st;
		uint64_t w;

		rt_stacks__get(from, i, &st);
		w = by_period ? st.period : st.count;
		for (uint32_t k = 0; !err && k < st.nr_frames; k++) {
			const char *name = rt_stacks__name(from, st.frames[k]);
			int64_t id = rt_stacks__intern(j->stacks, name, strlen(name));

			if (id < 0)
				err = (int)id;
			frames[k] = (uint32_t)id;
		}
		if (!err)
			err = rt_stacks__add(j->stacks, frames, st.nr_frames, is_after ? w : 0,
					     is_after ? 0 : w);
		if (!err)
			*(is_after ? &j->total_after : &j->total_before) += w;
	}
	free(frames);
	return err;
}

static int join(struct joined *j, const struct rt_stacks *before, const struct rt_stacks *after,
		bool by_period)
{
	int err;

	memset(j, 0, sizeof(*j));
	j->stacks = rt_stacks__new();
	if (!j->stacks)
		return -ENOMEM;
	err = join_one(j, before, by_period, false);
	return err ? err : join_one(j, after, by_period, true);
}

/* BEFORE's weight on AFTER's scale, rounded. */
static uint64_t scaled(const struct joined *j, uint64_t before)
{
	if (!j->total_before)
		return 0;
	return (uint64_t)((long double)before * j->total_after / j->total_before + 0.5L);
}

/* The text "a;b;c" of stack @st; malloc'd, NULL when out of memory. */
static char *stack_text(const struct rt_stacks *stacks, const struct rt_stack *st)
{
	size_t len = 1, off = 0;
	char *text;

	for (uint32_t k = 0; k < st->nr_frames; k++)
		len += strlen(rt_stacks__name(stacks, st->frames[k])) + 1;
	text = malloc(len);
	if (!text)
		return NULL;
	for (uint32_t k = 0; k < st->nr_frames; k++) {
		const char *name = rt_stacks__name(stacks, st->frames[k]);
		size_t n = strlen(name);

		if (k)
			text[off++] = ';';
		memcpy(text + off, name, n);
		off += n;
	}
	text[off] = '\0';
	return text;
}

struct line {
	char *text;
	uint64_t before, after;
};

static int compare_lines(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

int rt_diff__write_folded(const struct rt_stacks *before, const struct rt_stacks *after,
			  bool by_period, FILE *out)
{
	struct joined j;
	struct line *lines = NULL;
	size_t n = 0;
	int err = join(&j, before, after, by_period);

	if (!err) {
		lines = calloc(rt_stacks__nr(j.stacks) + 1, sizeof(*lines));
		if (!lines)
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < rt_stacks__nr(j.stacks); i++) {
		struct rt_stack st;

		rt_stacks__get(j.stacks, i, &st);
		lines[n] = (struct line){ stack_text(j.stacks, &st), scaled(&j, st.period), st.count };
		if (!lines[n++].text)
			err = -ENOMEM;
	}
	if (!err) {
		qsort(lines, n, sizeof(*lines), compare_lines);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s %" PRIu64 " %" PRIu64 "\n", lines[i].text, lines[i].before,
				lines[i].after);
		if (ferror(out))
			err = -EIO;
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
	rt_stacks__free(j.stacks);
	return err;
}

int rt_diff__write_svg(const struct rt_stacks *before, const struct rt_stacks *after,
		       bool by_period, const struct rt_flamegraph_opts *opts, FILE *out)
{
	const char **names = NULL;
	struct rt_flamegraph *fg = NULL;
	struct joined j;
	int err = join(&j, before, after, by_period);

	if (!err && !(names = malloc(((size_t)rt_stacks__deepest(j.stacks) + 1) * sizeof(*names))))
		err = -ENOMEM;
	if (!err && !(fg = rt_flamegraph__new(opts)))
		err = -errno;
	for (size_t i = 0; !err && i < rt_stacks__nr(j.stacks); i++) {
		struct rt_stack st;

		rt_stacks__get(j.stacks, i, &st);
		for (uint32_t k = 0; k < st.nr_frames; k++)
			names[k] = rt_stacks__name(j.stacks, st.frames[k]);
		err = rt_flamegraph__add_diff(fg, names, st.nr_frames, scaled(&j, st.period),
					      st.count);
	}
	if (!err)
		err = rt_flamegraph__write_svg(fg, out);
	rt_flamegraph__free(fg);
	rt_stacks__free(j.stacks);
	free(names);
	return err;
}

/* Merges one recording; NULL after saying why on standard error.  *@cut
 * is set when the recording was cut short (said too). */
static struct rt_merge *merge_file(const char *path, const struct rt_diff_run *run, bool *cut)
{
	const struct rt_merge_opts *opts = run->merge_opts;
	bool quiet = run->quiet;
	char msg[512];
	struct rt_perf_reader *reader = rt_perf_reader__open(path, msg, sizeof(msg));
	struct rt_merge *merge = NULL;
	int err;

	if (!reader) {
		fprintf(stderr, "rtmerge: %s\n", msg);
		return NULL;
	}
	merge = rt_merge__new(opts);
	if (!merge) {
		fprintf(stderr, "rtmerge: cannot start: %s\n", strerror(errno));
		goto out;
	}
	rt_perf_reader__set_strict(reader, run->strict);
	err = rt_merge__run(merge, reader);
	if (err) {
		const char *why = rt_perf_reader__error(reader);

		if (err != RT_MERGE_NO_EVENT) /* else said already */
			fprintf(stderr, "rtmerge: %s: %s\n", path, why[0] ? why : strerror(-err));
		rt_merge__free(merge);
		merge = NULL;
		goto out;
	}
	if (!quiet) {
		fprintf(stderr, "rtmerge: %s:\n", path);
		rt_merge__print_summary(merge, reader, stderr);
	}
	if (rt_merge__print_cut(reader, path, stderr))
		*cut = true;
out:
	rt_perf_reader__close(reader);
	return merge;
}

int rt_diff__run(const struct rt_diff_run *run)
{
	bool cut = false;
	struct rt_merge *before = merge_file(run->before, run, &cut);
	struct rt_merge *after = before ? merge_file(run->after, run, &cut) : NULL;
	bool by_period = run->merge_opts && run->merge_opts->by_period;
	char subtitle[512];
	struct rt_flamegraph_opts fopts = {
		.sz = sizeof(fopts),
		.title = run->title ? run->title : "rtperf differential flame graph",
		.subtitle = subtitle,
		.count_name = rt_merge__weight_unit(run->merge_opts),
	};
	FILE *out = stdout;
	int err, ret = 1;

	if (!after)
		goto out;
	snprintf(subtitle, sizeof(subtitle), "%s -> %s: red grew, blue shrank (share of the total)",
		 run->before, run->after);
	if (run->output && !(out = rt_safefile__create(run->output))) {
		fprintf(stderr, "rtmerge: cannot write %s: %s\n", run->output, strerror(errno));
		out = stdout;
		goto out;
	}
	if (run->svg)
		err = rt_diff__write_svg(rt_merge__stacks(before), rt_merge__stacks(after), by_period,
					 &fopts, out);
	else
		err = rt_diff__write_folded(rt_merge__stacks(before), rt_merge__stacks(after),
					    by_period, out);
	if (!err && fflush(out))
		err = -errno;
	if (err)
		fprintf(stderr, "rtmerge: writing %s failed: %s\n",
			run->output ? run->output : "output", strerror(-err));
	else
		ret = cut ? RT_MERGE_EXIT_CUT : 0;
out:
	if (out != stdout && fclose(out) && (!ret || ret == RT_MERGE_EXIT_CUT)) {
		fprintf(stderr, "rtmerge: closing %s failed: %s\n", run->output, strerror(errno));
		ret = 1;
	}
	rt_merge__free(before);
	rt_merge__free(after);
	return ret;
}
