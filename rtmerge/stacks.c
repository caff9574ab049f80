/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/stacks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "perfglue/grow.h"
#include "perfglue/hash.h"

struct name_slot {
	uint64_t hash;
	uint32_t id;    /* id + 1; 0 marks an empty slot */
};

struct stack_entry {
	uint64_t hash;
	size_t frames_off;  /* into stacks->frame_pool */
	uint32_t nr_frames;
	uint64_t count, period;
};

struct rt_stacks {
	/* Frame names: offsets into a character pool. */
	char *pool;
	size_t pool_len, pool_cap;
	size_t *name_off;
	size_t nr_names, cap_names;
	struct name_slot *names;
	size_t names_size;

	uint32_t *frame_pool;
	size_t frame_pool_len, frame_pool_cap;
	struct stack_entry *entries;
	size_t nr_entries, cap_entries;
	uint32_t *index;    /* entry + 1; 0 empty */
	size_t index_size;
};

struct rt_stacks *rt_stacks__new(void)
{
	struct rt_stacks *s = calloc(1, sizeof(*s));

	if (!s)
		errno = ENOMEM;
	return s;
}

void rt_stacks__free(struct rt_stacks *s)
{
	if (!s)
		return;
	free(s->pool);
	free(s->name_off);
	free(s->names);
	free(s->frame_pool);
	free(s->entries);
	free(s->index);
	free(s);
}

static int names_rehash(struct rt_stacks *s)
{
	size_t size = s->names_size ? s->names_size * 2 : 1024, i;
	struct name_slot *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->names_size; i++) {
		size_t j;

		if (!s->names[i].id)
			continue;
		for (j = s->names[i].hash & (size - 1); t[j].id; j = (j + 1) & (size - 1))
			;
		t[j] = s->names[i];
	}
	free(s->names);
	s->names = t;
	s->names_size = size;
	return 0;
}

int64_t rt_stacks__intern(struct rt_stacks *s, const char *name, size_t len)
{
	/* Names come from the input: keyed, so they cannot be aimed at a slot. */
	uint64_t h = rt_hash64_keyed(rt_hash_bytes(name, len, RT_HASH_SEED));
	size_t mask, i;

	if ((s->nr_names + 1) * 2 > s->names_size && names_rehash(s))
		return -ENOMEM;
	mask = s->names_size - 1;
	for (i = h & mask; s->names[i].id; i = (i + 1) & mask) {
		const char *other;

		if (s->names[i].hash != h)
			continue;
		other = s->pool + s->name_off[s->names[i].id - 1];
		if (!strncmp(other, name, len) && other[len] == '\0')
			return s->names[i].id - 1;
	}
	if (RT_ARRAY_GROW(s->pool, s->pool_cap, s->pool_len + len + 1, 64) ||
	    RT_ARRAY_GROW(s->name_off, s->cap_names, s->nr_names + 1, 64))
		return -ENOMEM;
	memcpy(s->pool + s->pool_len, name, len);
	s->pool[s->pool_len + len] = '\0';
	s->name_off[s->nr_names] = s->pool_len;
	s->pool_len += len + 1;
	s->names[i].hash = h;
	s->names[i].id = (uint32_t)++s->nr_names;
	return (int64_t)s->nr_names - 1;
}

size_t rt_stacks__nr_names(const struct rt_stacks *s)
{
	return s->nr_names;
}

const char *rt_stacks__name(const struct rt_stacks *s, uint32_t id)
{
	return id < s->nr_names ? s->pool + s->name_off[id] : "";
}

static int index_rehash(struct rt_stacks *s)
{
	size_t size = s->index_size ? s->index_size * 2 : 4096, i;
	uint32_t *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->nr_entries; i++) {
		size_t j;

		for (j = s->entries[i].hash & (size - 1); t[j]; j = (j + 1) & (size - 1))
			;
		t[j] = (uint32_t)i + 1;
	}
	free(s->index);
	s->index = t;
	s->index_size = size;
	return 0;
}

/* Word-at-a-time hash of a frame-id sequence (the hot path of every sample). */
static uint64_t hash_frames(const uint32_t *frames, uint32_t nr)
{
	uint64_t h = rt_hash_secret() ^ nr;     /* keyed: stacks come from the input */
	uint32_t i;

	for (i = 0; i < nr; i++) {
		h ^= frames[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

int rt_stacks__add(struct rt_stacks *s, const uint32_t *frames, uint32_t nr, uint64_t count,
		   uint64_t period)
{
	int64_t idx = rt_stacks__add_entry(s, frames, nr, count, period);

	return idx < 0 ? (int)idx : 0;
}

void rt_stacks__count(struct rt_stacks *s, size_t idx, uint64_t count, uint64_t period)
{
	s->entries[idx].count += count;
	s->entries[idx].period += period;
}

int64_t rt_stacks__add_entry(struct rt_stacks *s, const uint32_t *frames, uint32_t nr,
			     uint64_t count, uint64_t period)
{
	uint64_t h = hash_frames(frames, nr);
	struct stack_entry *e;
	size_t mask, i;

	if ((s->nr_entries + 1) * 2 > s->index_size && index_rehash(s))
		return -ENOMEM;
	mask = s->index_size - 1;
	for (i = h & mask; s->index[i]; i = (i + 1) & mask) {
		e = &s->entries[s->index[i] - 1];
		if (e->hash == h && e->nr_frames == nr &&
		    !memcmp(s->frame_pool + e->frames_off, frames, nr * sizeof(*frames))) {
			e->count += count;
			e->period += period;
			return s->index[i] - 1;
		}
	}
	if (RT_ARRAY_GROW(s->entries, s->cap_entries, s->nr_entries + 1, 64) ||
	    RT_ARRAY_GROW(s->frame_pool, s->frame_pool_cap, s->frame_pool_len + nr + 1, 64))
		return -ENOMEM;
	e = &s->entries[s->nr_entries];
	e->hash = h;
	e->frames_off = s->frame_pool_len;
	e->nr_frames = nr;
	e->count = count;
	e->period = period;
	memcpy(s->frame_pool + s->frame_pool_len, frames, nr * sizeof(*frames));
	s->frame_pool_len += nr;
	s->index[i] = (uint32_t)++s->nr_entries;
	return (int64_t)s->nr_entries - 1;
}

size_t rt_stacks__nr(const struct rt_stacks *s)
{
	return s->nr_entries;
}

uint32_t rt_stacks__deepest(const struct rt_stacks *s)
{
	uint32_t most = 0;

	for (size_t i = 0; i < s->nr_entries; i++)
		if (s->entries[i].nr_frames > most)
			most = s->entries[i].nr_frames;
	return most;
}

void rt_stacks__get(const struct rt_stacks *s, size_t idx, struct rt_stack *out)
{
	const struct stack_entry *e = &s->entries[idx];

	out->frames = s->frame_pool + e->frames_off;
	out->nr_frames = e->nr_frames;
	out->count = e->count;
	out->period = e->period;
}

/* Length of name id, from where the next one starts in the pool. */
static size_t name_len(const struct rt_stacks *s, uint32_t id)
{
	size_t next = (size_t)id + 1 < s->nr_names ? s->name_off[id + 1] : s->pool_len;

	return next - s->name_off[id] - 1;
}

struct line_ref {
	char *text;
	size_t len;
	uint64_t value;
};

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line_ref *)a)->text, ((const struct line_ref *)b)->text);
}

/* Appends " VALUE\n" at p; returns the end. */
static char *put_count(char *p, uint64_t v)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	*p++ = ' ';
	while (n)
		*p++ = digits[--n];
	*p++ = '\n';
	return p;
}

/*
 * The lines are built in one buffer, sorted, then written in one go: a
 * printf per line cost more than the rest of the output.
 */
int rt_stacks__write_folded(const struct rt_stacks *s, FILE *out, int by_period)
{
	struct line_ref *lines;
	size_t i, total = 0, n = 0;
	char *text, *p, *buf, *q;
	int err = 0;

	for (i = 0; i < s->nr_entries; i++) {
		const struct stack_entry *e = &s->entries[i];
		uint32_t j;

		for (j = 0; j < e->nr_frames; j++)
			total += name_len(s, s->frame_pool[e->frames_off + j]) + 1;
		total += 1;
	}
	lines = malloc((s->nr_entries + 1) * sizeof(*lines));
	text = malloc(total + 1);
	/* each line once more, its ';' or NUL now " COUNT\n" (at most 22 bytes) */
	buf = malloc(total + s->nr_entries * 22 + 1);
	if (!lines || !text || !buf) {
		free(lines);
		free(text);
		free(buf);
		return -ENOMEM;
	}
	p = text;
	for (i = 0; i < s->nr_entries; i++) {
		const struct stack_entry *e = &s->entries[i];
		uint32_t j;

		lines[n].text = p;
		lines[n].value = by_period ? e->period : e->count;
		for (j = 0; j < e->nr_frames; j++) {
			uint32_t id = s->frame_pool[e->frames_off + j];
			size_t len = name_len(s, id);

			if (j)
				*p++ = ';';
			memcpy(p, s->pool + s->name_off[id], len);
			p += len;
		}
		lines[n].len = (size_t)(p - lines[n].text);
		*p++ = '\0';
		n++;
	}
	qsort(lines, n, sizeof(*lines), line_cmp);
	q = buf;
	for (i = 0; i < n; i++) {
		memcpy(q, lines[i].text, lines[i].len);
		q = put_count(q + lines[i].len, lines[i].value);
	}
	if (q > buf && fwrite(buf, 1, (size_t)(q - buf), out) != (size_t)(q - buf))
		err = -EIO;
	free(lines);
	free(text);
	free(buf);
	return err;
}
