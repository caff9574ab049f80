/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: --per-sample output, one "TID TIME stack" line per sample (a
 * tracepoint's fields after a tab).  Lines go out as samples are folded,
 * until a stack holds a placeholder frame (an interpreter frame whose line
 * table's pieces come after it): from there on, in order, each line is
 * kept in an unnamed temporary file as frame ids and written once the
 * placeholders have their names, at the end, so that per-sample lines name
 * every frame as the folded output does.  A stream from a pipe has no end
 * to wait for (rt-bpf top reads these lines live): its kept lines go out
 * as soon as every pending line is known, and at the latest a second of
 * sample time after the first was kept, the frames whose line has not come
 * by then named without it.
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

/* A pipe's kept lines wait at most this long (sample time), or this many
 * lines when samples carry no time. */
#define LIVE_LINES_WAIT_NS 1000000000ull
#define LIVE_LINES_MAX 65536

/* Frame @id has no name to print yet: a kernel placeholder, or a pending
 * line without an interim name. */
static bool unnamed(const struct rt_merge *m, uint32_t id)
{
	const char *name = rt_stacks__name(m->stacks, id);

	if (name[0] == '\001')
		return true;
	if (name[0] != '\002')
		return false;
	return id >= m->nr_interim || m->interim[id] == UINT32_MAX;
}

/* "TID TIME stack", each placeholder under its name in @names (UINT32_MAX
 * or beyond @nr_names: the frame's own). */
static void print_stack(FILE *out, const struct rt_merge *m, uint32_t tid, uint64_t time,
			const uint32_t *frames, uint32_t n, const uint32_t *names, size_t nr_names)
{
	fprintf(out, "%u %" PRIu64 " ", tid, time);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = frames[i];

		if (id < nr_names && names[id] != UINT32_MAX)
			id = names[id];
		fprintf(out, "%s%s", i ? ";" : "", rt_stacks__name(m->stacks, id));
	}
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

/* A pipe's kept lines: once every pending line is known, or when @force,
 * each pending line still without a name gets its interim one (the line
 * known now, else none) and the kept lines go out. */
static int settle(struct rt_merge *m, bool force)
{
	size_t i, need = m->nr_interim;
	int err = 0;

	for (i = 0; i < m->nr_pending_lines; i++) {
		uint32_t id = m->pending_lines[i].id;

		if (id < m->nr_interim && m->interim[id] != UINT32_MAX)
			continue;
		if (!force && rt_merge__pending_line_known(m, i) <= 0)
			return 0;
		if (id >= need)
			need = (size_t)id + 1;
	}
	if (need > m->nr_interim) {
		uint32_t *bigger = realloc(m->interim, need * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		for (i = m->nr_interim; i < need; i++)
			bigger[i] = UINT32_MAX;
		m->interim = bigger;
		m->nr_interim = need;
	}
	for (i = 0; i < m->nr_pending_lines && !err; i++) {
		uint32_t id = m->pending_lines[i].id;

		if (m->interim[id] == UINT32_MAX)
			err = rt_merge__pending_line_name(m, i, false, &m->interim[id]);
	}
	return err ? err : rt_merge__per_sample_flush(m, m->interim, m->nr_interim);
}

int rt_merge__per_sample_line(struct rt_merge *m, const struct rt_perf_sample *s,
			      const uint32_t *frames, uint32_t n)
{
	FILE *out = m->opts.per_sample;
	unsigned long long tp = 0;
	bool has_fields = m->fields && s->raw && !rt_trace_fields__sample_event(m->reader, s, &tp);
	uint32_t i;

	if (!m->spool) {
		for (i = 0; i < n && !unnamed(m, frames[i]); i++)
			;
		if (i < n) {
			if (!(m->spool = tmpfile()))
				return -errno;
			m->spool_since = s->time;
			m->spool_lines = 0;
		}
	}
	if (m->spool) {
		int err = spool(m, s, frames, n, has_fields, tp);

		m->spool_lines++;
		if (!err && m->live_lines)
			err = settle(m, (s->time > m->spool_since &&
					 s->time - m->spool_since >= LIVE_LINES_WAIT_NS) ||
					m->spool_lines >= LIVE_LINES_MAX);
		return err;
	}
	print_stack(out, m, s->tid, s->time, frames, n, m->interim, m->nr_interim);
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
		print_stack(out, m, h.tid, h.time, frames, h.nr_frames, final, nr_final);
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
