/* SPDX-License-Identifier: GPL-2.0-only */
/* tracefields: tracepoint fields through libtraceevent (see tracefields.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>

#include "rtmerge/offcpu.h"
#include "rtmerge/tracefields.h"

#define TRACING_MAGIC "\027\010\104tracing"

struct rt_trace_fields {
	struct tep_handle *tep;
};

/* Bounds-checked reading of the tracing data. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static const void *take(struct cursor *c, uint64_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	return p;
}

static uint64_t take_uint(struct cursor *c, size_t n)
{
	const void *p = take(c, n);
	uint64_t v = 0;
	uint32_t v32 = 0;

	if (!p)
		return 0;
	if (n == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v, p, 8);
	return v;
}

static uint8_t take_byte(struct cursor *c)
{
	const uint8_t *p = take(c, 1);

	return p ? *p : 0;
}

static const char *take_string(struct cursor *c)
{
	const uint8_t *nul = c->bad ? NULL : memchr(c->p, '\0', (size_t)(c->end - c->p));

	if (!nul) {
		c->bad = true;
		return NULL;
	}
	return take(c, (uint64_t)(nul - c->p) + 1);
}

/* One format (u64 size, then the text) parsed into @tep under @sys. */
static void parse_format(struct tep_handle *tep, struct cursor *c, const char *sys)
{
	uint64_t n = take_uint(c, 8);
	const char *text = take(c, n);

	if (text)
		tep_parse_event(tep, text, (unsigned long)n, sys); /* a bad one is skipped */
}

struct rt_trace_fields *rt_trace_fields__new(const void *data, size_t size)
{
	struct cursor c = { data, (const uint8_t *)data + size, false };
	struct rt_trace_fields *t = calloc(1, sizeof(*t));
	const char *magic, *name;
	uint32_t nr, systems;
	int big, long_size;

	if (!t || !(t->tep = tep_alloc())) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	magic = take(&c, sizeof(TRACING_MAGIC) - 1);
	if (!magic || memcmp(magic, TRACING_MAGIC, sizeof(TRACING_MAGIC) - 1))
		goto bad;
	take_string(&c); /* version */
	big = (int)take_byte(&c);
	long_size = (int)take_byte(&c);
	if (c.bad || big)
		goto bad; /* recorded on a big-endian machine: not read here */
	tep_set_file_bigendian(t->tep, TEP_LITTLE_ENDIAN);
	tep_set_long_size(t->tep, long_size);
	tep_set_page_size(t->tep, (int)take_uint(&c, 4));
	for (int i = 0; i < 2; i++) { /* header_page, header_event */
		name = take_string(&c);
		take(&c, take_uint(&c, 8));
		if (!name)
			goto bad;
	}
	nr = (uint32_t)take_uint(&c, 4);
	for (uint32_t i = 0; i < nr && !c.bad; i++)
		parse_format(t->tep, &c, "ftrace");
	systems = (uint32_t)take_uint(&c, 4);
	for (uint32_t s = 0; s < systems && !c.bad; s++) {
		const char *sys = take_string(&c);

		nr = (uint32_t)take_uint(&c, 4);
		for (uint32_t i = 0; i < nr && sys && !c.bad; i++)
			parse_format(t->tep, &c, sys);
	}
	if (c.bad)
		goto bad;
	return t;
bad:
	rt_trace_fields__free(t);
	errno = EINVAL;
	return NULL;
}

void rt_trace_fields__free(struct rt_trace_fields *t)
{
	if (!t)
		return;
	tep_free(t->tep);
	free(t);
}

size_t rt_trace_fields__nr_events(const struct rt_trace_fields *t)
{
	int n = tep_get_events_count(t->tep);

	return n > 0 ? (size_t)n : 0;
}

/* Formats @f of @raw as "name=value". */
static int format_field(struct tep_format_field *f, const char *system, const void *raw,
			size_t size, char *buf, size_t buf_size)
{
	unsigned long long v = 0;
	char name[64];

	if (f->flags & TEP_FIELD_IS_DYNAMIC)
		return -ENOENT; /* __data_loc strings: not shown */
	if (f->offset < 0 || f->size <= 0 || (size_t)f->offset + (size_t)f->size > size)
		return -EINVAL;
	if (f->flags & TEP_FIELD_IS_STRING) {
		snprintf(buf, buf_size, "%s=%.*s", f->name,
			 (int)strnlen((const char *)raw + f->offset, (size_t)f->size),
			 (const char *)raw + f->offset);
		return 0;
	}
	if ((f->flags & TEP_FIELD_IS_ARRAY) || tep_read_number_field(f, raw, &v))
		return -ENOENT;
	if ((!strcmp(f->name, "id") && system && !strcmp(system, "raw_syscalls")) ||
	    !strcmp(f->name, "__syscall_nr")) {
		snprintf(buf, buf_size, "%s=%s", f->name,
			 rt_offcpu__syscall_name((uint32_t)v, name, sizeof(name)));
		return 0;
	}
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size <= 8) {
		long long s = (long long)v;

		if (f->size < 8 && (v >> (8 * f->size - 1)) & 1)
			s = (long long)(v | ~0ULL << (8 * f->size));
		snprintf(buf, buf_size, "%s=%lld", f->name, s);
	} else {
		snprintf(buf, buf_size, "%s=%llu", f->name, v);
	}
	return 0;
}

int rt_trace_fields__format(const struct rt_trace_fields *t, unsigned long long id,
			    const void *raw, size_t size, const char *field, char *buf,
			    size_t buf_size)
{
	struct tep_event *ev = tep_find_event(t->tep, (int)id);
	struct tep_format_field *f = ev ? tep_find_any_field(ev, field) : NULL;

	if (!f)
		return -ENOENT;
	return format_field(f, ev->system, raw, size, buf, buf_size);
}

bool rt_trace_fields__has_field(const struct rt_trace_fields *t, unsigned long long id,
				const char *field)
{
	struct tep_event *ev = tep_find_event(t->tep, (int)id);

	return ev && tep_find_any_field(ev, field);
}

int rt_trace_fields__sample_event(const struct rt_perf_reader *reader,
				  const struct rt_perf_sample *s, unsigned long long *id)
{
	size_t n = rt_perf_reader__nr_evsels(reader);

	/* a recording of one event has no sample ids: its samples are that
	 * event's */
	if (n == 1 && rt_perf_reader__evsel(reader, 0)->attr.type == PERF_TYPE_TRACEPOINT) {
		*id = rt_perf_reader__evsel(reader, 0)->attr.config;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rt_perf_evsel *ev = rt_perf_reader__evsel(reader, i);

		if (ev->attr.type != PERF_TYPE_TRACEPOINT)
			continue;
		for (size_t k = 0; k < ev->nr_ids; k++)
			if (ev->ids[k] == s->id) {
				*id = ev->attr.config;
				return 0;
			}
	}
	return -ENOENT;
}

void rt_trace_fields__print(const struct rt_trace_fields *t, unsigned long long id,
			    const void *raw, size_t size, FILE *out)
{
	struct tep_event *ev = tep_find_event(t->tep, (int)id);
	char buf[256];

	if (!ev)
		return;
	for (struct tep_format_field *f = ev->format.fields; f; f = f->next)
		if (!format_field(f, ev->system, raw, size, buf, sizeof(buf)))
			fprintf(out, " %s", buf);
}
