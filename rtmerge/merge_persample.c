/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: --per-sample output, one "TID TIME stack" line per sample (a
 * tracepoint's fields after a tab).  Lines go out as samples are folded,
 * until a stack holds a placeholder frame (an interpreter frame whose line
 * table's pieces come after it): from there on, in order, each line is
 * kept in an unnamed temporary file as frame ids and written once the
 * placeholders have their names, at the end, so that per-sample lines name
 * every frame as the folded output does.
 */
#include "rtmerge/merge_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/tracefields.h"

/* A kept line: this header, nr_frames frame ids, fields_len bytes. */
struct spooled_line {
	uint32_t tid;
	uint32_t nr_frames;
	uint64_t time;
	uint32_t has_fields;  /* a tab and the fields (maybe none) follow the stack */
	uint32_t fields_len;
};

static bool is_placeholder(const struct rt_merge *m, uint32_t id)
{
	const char *name = rt_stacks__name(m->stacks, id);

	return name[0] == '\001' || name[0] == '\002';
}

/* Keeps the line in the spool: 0 or -errno. */
static int spool(struct rt_merge *m, const struct rt_perf_sample *s, const uint32_t *frames,
		 uint32_t n, bool has_fields, unsigned long long tp)
{
	struct spooled_line h = { .tid = s->tid, .nr_frames = n, .time = s->time,
				  .has_fields = has_fields };
	char *text = NULL;
	size_t len = 0;
	int err = 0;

	if (has_fields) {
		FILE *ms = open_memstream(&text, &len);

		if (!ms)
			return -errno;
		rt_trace_fields__print(m->fields, tp, s->raw, s->raw_size, ms);
		if (fclose(ms))
			err = -errno;
		if (len > UINT32_MAX)
			err = -E2BIG;
	}
	h.fields_len = (uint32_t)len;
	if (!err && (fwrite(&h, sizeof(h), 1, m->spool) != 1 ||
		     fwrite(frames, sizeof(*frames), n, m->spool) != n ||
		     (len && fwrite(text, 1, len, m->spool) != len)))
		err = -EIO;
	free(text);
	return err;
}

int rt_merge__per_sample_line(struct rt_merge *m, const struct rt_perf_sample *s,
			      const uint32_t *frames, uint32_t n)
{
	FILE *out = m->opts.per_sample;
	unsigned long long tp = 0;
	bool has_fields = m->fields && s->raw && !rt_trace_fields__sample_event(m->reader, s, &tp);
	uint32_t i;

	if (!m->spool) {
		for (i = 0; i < n && !is_placeholder(m, frames[i]); i++)
			;
		if (i < n && !(m->spool = tmpfile()))
			return -errno;
	}
	if (m->spool)
		return spool(m, s, frames, n, has_fields, tp);
	fprintf(out, "%u %" PRIu64 " ", s->tid, s->time);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ";" : "", rt_stacks__name(m->stacks, frames[i]));
	if (has_fields) {
		fputc('\t', out);
		rt_trace_fields__print(m->fields, tp, s->raw, s->raw_size, out);
	}
	fputc('\n', out);
	return 0;
}

int rt_merge__per_sample_flush(struct rt_merge *m, const uint32_t *final, size_t nr_final)
{
	FILE *out = m->opts.per_sample;
	uint32_t *frames = NULL;
	char buf[4096];
	struct spooled_line h;
	int err = 0;

	if (!m->spool)
		return 0;
	if (fflush(m->spool) || fseek(m->spool, 0, SEEK_SET))
		err = -errno;
	while (!err && fread(&h, sizeof(h), 1, m->spool) == 1) {
		uint32_t *bigger = realloc(frames, (h.nr_frames ? h.nr_frames : 1) * sizeof(*frames));
		uint32_t left;

		if (!bigger) {
			err = -ENOMEM;
			break;
		}
		frames = bigger;
		if (fread(frames, sizeof(*frames), h.nr_frames, m->spool) != h.nr_frames) {
			err = -EIO;
			break;
		}
		fprintf(out, "%u %" PRIu64 " ", h.tid, h.time);
		for (uint32_t i = 0; i < h.nr_frames; i++) {
			uint32_t id = frames[i];

			if (id < nr_final && final[id] != UINT32_MAX)
				id = final[id];
			fprintf(out, "%s%s", i ? ";" : "", rt_stacks__name(m->stacks, id));
		}
		if (h.has_fields)
			fputc('\t', out);
		for (left = h.fields_len; left && !err; ) {
			size_t chunk = left < sizeof(buf) ? left : sizeof(buf);

			if (fread(buf, 1, chunk, m->spool) != chunk || fwrite(buf, 1, chunk, out) != chunk)
				err = -EIO;
			left -= (uint32_t)chunk;
		}
		fputc('\n', out);
	}
	if (!err && ferror(m->spool))
		err = -EIO;
	free(frames);
	fclose(m->spool);
	m->spool = NULL;
	return err;
}
