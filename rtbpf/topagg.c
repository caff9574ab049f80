/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtbpf/topagg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/array.h"
#include "perfglue/hash.h"

#define MAX_FRAMES 4096

struct function {
	char *name;             /* "func (file)" or a native name */
	uint64_t hash;
	int best_line;          /* the line with the most total samples so far */
	uint64_t best_count;
	uint64_t seen;          /* the sample number that last counted it (recursion) */
	bool interp;            /* an interpreter frame: "func (file...)" */
};

/* The samples of one function in one thread: own, own among interpreter
 * frames (the leafmost interpreter frame of a sample), total; *_mark are
 * the counts when the current window began. */
struct cell {
	uint32_t tid, fid;
	uint64_t own, own_interp, total;
	uint64_t own_mark, own_interp_mark, total_mark;
};

struct line_count {
	uint32_t fid;
	int line;
	uint64_t count;
};

struct thread {
	uint32_t tid;
	char *comm;
	uint64_t samples, samples_mark;
};

/* Open-addressing index: slot holds an array index + 1, 0 is empty.  The
 * arrays it indexes grow by realloc, so slots keep indexes, never pointers. */
struct index {
	uint32_t *slots;
	size_t cap;             /* a power of two, or 0 */
	size_t nr;
};

struct rt_top_agg {
	struct function *funcs;
	size_t nr_funcs, cap_funcs;
	struct index func_index;
	struct cell *cells;
	size_t nr_cells, cap_cells;
	struct index cell_index;
	struct line_count *lines;
	size_t nr_lines, cap_lines;
	struct index line_index;
	struct thread *threads;
	size_t nr_threads, cap_threads;
	struct index thread_index;
	uint64_t samples;
	uint64_t *window_totals; /* scratch for snapshots, one slot per function */
	uint64_t *window_owns;
	size_t cap_window;
	uint32_t fids[MAX_FRAMES];
};

/* Rebuilds @ix with twice the room; @hash_of gives the hash of entry i. */
static int index_grow(struct index *ix, const struct rt_top_agg *agg,
		      uint64_t (*hash_of)(const struct rt_top_agg *, uint32_t))
{
	size_t cap = ix->cap ? ix->cap * 2 : 256;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ix->cap; i++) {
		size_t j;

		if (!ix->slots[i])
			continue;
		j = hash_of(agg, ix->slots[i] - 1) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

static uint64_t func_hash(const struct rt_top_agg *agg, uint32_t i)
{
	return agg->funcs[i].hash;
}

static uint64_t cell_key_hash(uint32_t tid, uint32_t fid)
{
	return rt_hash64(((uint64_t)tid << 32) | fid);
}

static uint64_t cell_hash(const struct rt_top_agg *agg, uint32_t i)
{
	return cell_key_hash(agg->cells[i].tid, agg->cells[i].fid);
}

static uint64_t line_key_hash(uint32_t fid, int line)
{
	return rt_hash64(((uint64_t)fid << 32) | (uint32_t)line);
}

static uint64_t line_hash(const struct rt_top_agg *agg, uint32_t i)
{
	return line_key_hash(agg->lines[i].fid, agg->lines[i].line);
}

static uint64_t thread_hash(const struct rt_top_agg *agg, uint32_t i)
{
	return rt_hash64(agg->threads[i].tid);
}

/* Makes room for one more entry in @ix (kept at most half full). */
static int index_reserve(struct index *ix, const struct rt_top_agg *agg,
			 uint64_t (*hash_of)(const struct rt_top_agg *, uint32_t))
{
	if ((ix->nr + 1) * 2 <= ix->cap)
		return 0;
	return index_grow(ix, agg, hash_of);
}

/*
 * Splits an interpreter frame "func (file:LINE)" into its function
 * "func (file)" (written to @key, room for @size) and LINE; any other frame
 * is its own function, line 0.  Sets *@interp for interpreter frames: only
 * they end in " (...)" (rtmerge cuts native names at their first '(').
 * Returns the key's length.
 */
static size_t function_key(const char *frame, size_t len, char *key, size_t size, int *line,
			   bool *interp)
{
	size_t colon = len, digits;

	*line = 0;
	*interp = len > 3 && frame[len - 1] == ')' && memmem(frame, len, " (", 2);
	if (len > 4 && frame[len - 1] == ')') {
		for (colon = len - 1; colon > 0 && frame[colon - 1] >= '0' && frame[colon - 1] <= '9';
		     colon--)
			;
		digits = len - 1 - colon;
		if (!digits || digits > 9 || colon == 0 || frame[colon - 1] != ':' ||
		    !memmem(frame, colon, " (", 2))
			colon = len;
		else
			*line = atoi(frame + colon);
	}
	if (colon == len) {
		if (len >= size)
			len = size - 1;
		memcpy(key, frame, len);
		key[len] = '\0';
		return len;
	}
	/* drop ":LINE", keep ")" */
	colon--;
	if (colon + 1 >= size)
		colon = size - 2;
	memcpy(key, frame, colon);
	key[colon] = ')';
	key[colon + 1] = '\0';
	return colon + 1;
}

static int function_id(struct rt_top_agg *agg, const char *key, size_t len, bool interp,
		       uint32_t *fid)
{
	uint64_t h = rt_hash_bytes(key, len, RT_HASH_SEED);
	struct function *f;
	size_t i;

	if (index_reserve(&agg->func_index, agg, func_hash))
		return -ENOMEM;
	for (i = h & (agg->func_index.cap - 1); agg->func_index.slots[i];
	     i = (i + 1) & (agg->func_index.cap - 1)) {
		f = &agg->funcs[agg->func_index.slots[i] - 1];
		if (f->hash == h && !strcmp(f->name, key)) {
			*fid = agg->func_index.slots[i] - 1;
			return 0;
		}
	}
	if (rt_array__grow((void **)&agg->funcs, &agg->cap_funcs, agg->nr_funcs + 1,
			   sizeof(*agg->funcs)))
		return -ENOMEM;
	f = &agg->funcs[agg->nr_funcs];
	*f = (struct function){ .name = strndup(key, len), .hash = h, .interp = interp };
	if (!f->name)
		return -ENOMEM;
	*fid = (uint32_t)agg->nr_funcs++;
	agg->func_index.slots[i] = *fid + 1;
	agg->func_index.nr++;
	return 0;
}

static struct cell *cell_of(struct rt_top_agg *agg, uint32_t tid, uint32_t fid)
{
	size_t i;

	if (index_reserve(&agg->cell_index, agg, cell_hash))
		return NULL;
	for (i = cell_key_hash(tid, fid) & (agg->cell_index.cap - 1); agg->cell_index.slots[i];
	     i = (i + 1) & (agg->cell_index.cap - 1)) {
		struct cell *c = &agg->cells[agg->cell_index.slots[i] - 1];

		if (c->tid == tid && c->fid == fid)
			return c;
	}
	if (rt_array__grow((void **)&agg->cells, &agg->cap_cells, agg->nr_cells + 1,
			   sizeof(*agg->cells)))
		return NULL;
	agg->cells[agg->nr_cells] = (struct cell){ .tid = tid, .fid = fid };
	agg->cell_index.slots[i] = (uint32_t)++agg->nr_cells;
	agg->cell_index.nr++;
	return &agg->cells[agg->nr_cells - 1];
}

/* Counts a total sample on @line of @fid, and keeps the function's hottest line. */
static int count_line(struct rt_top_agg *agg, uint32_t fid, int line)
{
	struct line_count *lc = NULL;
	size_t i;

	if (index_reserve(&agg->line_index, agg, line_hash))
		return -ENOMEM;
	for (i = line_key_hash(fid, line) & (agg->line_index.cap - 1); agg->line_index.slots[i];
	     i = (i + 1) & (agg->line_index.cap - 1)) {
		struct line_count *c = &agg->lines[agg->line_index.slots[i] - 1];

		if (c->fid == fid && c->line == line) {
			lc = c;
			break;
		}
	}
	if (!lc) {
		if (rt_array__grow((void **)&agg->lines, &agg->cap_lines, agg->nr_lines + 1,
				   sizeof(*agg->lines)))
			return -ENOMEM;
		lc = &agg->lines[agg->nr_lines];
		*lc = (struct line_count){ .fid = fid, .line = line };
		agg->line_index.slots[i] = (uint32_t)++agg->nr_lines;
		agg->line_index.nr++;
	}
	lc->count++;
	if (lc->count > agg->funcs[fid].best_count) {
		agg->funcs[fid].best_count = lc->count;
		agg->funcs[fid].best_line = line;
	}
	return 0;
}

static struct thread *thread_of(struct rt_top_agg *agg, uint32_t tid)
{
	size_t i;

	if (index_reserve(&agg->thread_index, agg, thread_hash))
		return NULL;
	for (i = rt_hash64(tid) & (agg->thread_index.cap - 1); agg->thread_index.slots[i];
	     i = (i + 1) & (agg->thread_index.cap - 1)) {
		struct thread *t = &agg->threads[agg->thread_index.slots[i] - 1];

		if (t->tid == tid)
			return t;
	}
	if (rt_array__grow((void **)&agg->threads, &agg->cap_threads, agg->nr_threads + 1,
			   sizeof(*agg->threads)))
		return NULL;
	agg->threads[agg->nr_threads] = (struct thread){ .tid = tid };
	agg->thread_index.slots[i] = (uint32_t)++agg->nr_threads;
	agg->thread_index.nr++;
	return &agg->threads[agg->nr_threads - 1];
}

/* Keeps the thread's latest comm (threads rename themselves, exec renames). */
static int thread_count(struct rt_top_agg *agg, uint32_t tid, const char *comm, size_t len)
{
	struct thread *t = thread_of(agg, tid);

	if (!t)
		return -ENOMEM;
	if (!t->comm || strlen(t->comm) != len || memcmp(t->comm, comm, len)) {
		char *c = strndup(comm, len);

		if (!c)
			return -ENOMEM;
		free(t->comm);
		t->comm = c;
	}
	t->samples++;
	return 0;
}

struct rt_top_agg *rt_top_agg__new(void)
{
	struct rt_top_agg *agg = calloc(1, sizeof(*agg));

	if (!agg)
		errno = ENOMEM;
	return agg;
}

void rt_top_agg__free(struct rt_top_agg *agg)
{
	if (!agg)
		return;
	for (size_t i = 0; i < agg->nr_funcs; i++)
		free(agg->funcs[i].name);
	for (size_t i = 0; i < agg->nr_threads; i++)
		free(agg->threads[i].comm);
	free(agg->funcs);
	free(agg->func_index.slots);
	free(agg->cells);
	free(agg->cell_index.slots);
	free(agg->lines);
	free(agg->line_index.slots);
	free(agg->threads);
	free(agg->thread_index.slots);
	free(agg->window_totals);
	free(agg->window_owns);
	free(agg);
}

int rt_top_agg__add(struct rt_top_agg *agg, uint32_t tid, const char *const *frames,
		    const size_t *lens, size_t nr)
{
	uint64_t sample;
	size_t nr_fids = 0;
	uint32_t leaf_interp = UINT32_MAX;
	char key[1024];
	int err;

	if (!nr)
		return -EINVAL;
	err = thread_count(agg, tid, frames[0], lens[0]);
	if (err)
		return err;
	sample = ++agg->samples;
	/* the root is the thread, not a function */
	for (size_t i = 1; i < nr && nr_fids < MAX_FRAMES; i++) {
		int line;
		bool interp;
		size_t len = function_key(frames[i], lens[i], key, sizeof(key), &line, &interp);
		uint32_t fid;

		err = function_id(agg, key, len, interp, &fid);
		if (err)
			return err;
		agg->fids[nr_fids++] = fid;
		if (interp)
			leaf_interp = fid;
		if (agg->funcs[fid].seen == sample)
			continue;   /* recursion: once per sample */
		agg->funcs[fid].seen = sample;
		struct cell *c = cell_of(agg, tid, fid);

		if (!c)
			return -ENOMEM;
		c->total++;
		err = count_line(agg, fid, line);
		if (err)
			return err;
	}
	if (nr_fids) {
		struct cell *c = cell_of(agg, tid, agg->fids[nr_fids - 1]);

		if (!c)
			return -ENOMEM;
		c->own++;
	}
	if (leaf_interp != UINT32_MAX) {
		struct cell *c = cell_of(agg, tid, leaf_interp);

		if (!c)
			return -ENOMEM;
		c->own_interp++;
	}
	return 0;
}

int rt_top_agg__add_line(struct rt_top_agg *agg, const char *line, size_t len)
{
	const char *frames[MAX_FRAMES];
	size_t lens[MAX_FRAMES], nr = 0;
	const char *p = line, *end = line + len, *sp;
	char *num_end;
	unsigned long tid;

	/* "TID TIME stack": the stack's frames may hold spaces, never ';' */
	sp = memchr(p, ' ', len);
	if (!sp || sp == p)
		return -EINVAL;
	tid = strtoul(p, &num_end, 10);
	if (num_end != sp || tid > UINT32_MAX)
		return -EINVAL;
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p)
		return -EINVAL;
	p = sp + 1;
	if (p >= end)
		return -EINVAL;
	while (p <= end && nr < MAX_FRAMES) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;

		frames[nr] = p;
		lens[nr++] = (size_t)(stop - p);
		if (!semi)
			break;
		p = semi + 1;
	}
	return rt_top_agg__add(agg, (uint32_t)tid, frames, lens, nr);
}

uint64_t rt_top_agg__samples(const struct rt_top_agg *agg)
{
	return agg->samples;
}

/* Hotter first by the sort's key, then by the other, then by name. */
static int compare_rows(const void *a, const void *b, void *sort)
{
	const struct rt_top_row *x = a, *y = b;
	bool by_total = *(const enum rt_top_sort *)sort == RT_TOP_SORT_TOTAL;
	uint64_t x1 = by_total ? x->total : x->own, y1 = by_total ? y->total : y->own;
	uint64_t x2 = by_total ? x->own : x->total, y2 = by_total ? y->own : y->total;

	if (x1 != y1)
		return x1 < y1 ? 1 : -1;
	if (x2 != y2)
		return x2 < y2 ? 1 : -1;
	return strcmp(x->name, y->name);
}

int rt_top_agg__snapshot(struct rt_top_agg *agg, const struct rt_top_snapshot_opts *opts,
			 struct rt_top_row *rows, size_t max, struct rt_top_snapshot_info *info)
{
	struct rt_top_snapshot_opts o = { .sz = sizeof(o) };
	struct rt_top_row *all;
	size_t nr = 0, n;
	uint64_t samples = 0;

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (rt_array__grow((void **)&agg->window_totals, &agg->cap_window,
			   agg->nr_funcs ? agg->nr_funcs : 1, sizeof(uint64_t)))
		return -ENOMEM;
	free(agg->window_owns);
	agg->window_owns = calloc(agg->cap_window, sizeof(uint64_t));
	if (!agg->window_owns)
		return -ENOMEM;
	memset(agg->window_totals, 0, agg->cap_window * sizeof(uint64_t));
	for (size_t i = 0; i < agg->nr_cells; i++) {
		struct cell *c = &agg->cells[i];

		if (!o.tid || c->tid == o.tid) {
			agg->window_owns[c->fid] += o.interp_only ?
				c->own_interp - (o.window ? c->own_interp_mark : 0) :
				c->own - (o.window ? c->own_mark : 0);
			agg->window_totals[c->fid] += c->total - (o.window ? c->total_mark : 0);
		}
		if (o.window) {
			c->own_mark = c->own;
			c->own_interp_mark = c->own_interp;
			c->total_mark = c->total;
		}
	}
	for (size_t i = 0; i < agg->nr_threads; i++) {
		struct thread *t = &agg->threads[i];

		if (!o.tid || t->tid == o.tid)
			samples += t->samples - (o.window ? t->samples_mark : 0);
		if (o.window)
			t->samples_mark = t->samples;
	}
	all = malloc((agg->nr_funcs ? agg->nr_funcs : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t f = 0; f < agg->nr_funcs; f++) {
		if (!agg->window_totals[f] || (o.interp_only && !agg->funcs[f].interp))
			continue;
		all[nr++] = (struct rt_top_row){
			.name = agg->funcs[f].name,
			.line = agg->funcs[f].best_line,
			.own = agg->window_owns[f],
			.total = agg->window_totals[f],
		};
	}
	qsort_r(all, nr, sizeof(*all), compare_rows, &o.sort);
	n = nr < max ? nr : max;
	memcpy(rows, all, n * sizeof(*rows));
	free(all);
	if (info) {
		info->samples = samples;
		info->nr_functions = nr;
	}
	return (int)n;
}

static int compare_threads(const void *a, const void *b)
{
	const struct rt_top_thread *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

size_t rt_top_agg__threads(const struct rt_top_agg *agg, struct rt_top_thread *out, size_t max)
{
	struct rt_top_thread *all = malloc((agg->nr_threads ? agg->nr_threads : 1) * sizeof(*all));
	size_t n;

	if (!all)
		return 0;
	for (size_t i = 0; i < agg->nr_threads; i++)
		all[i] = (struct rt_top_thread){ agg->threads[i].tid, agg->threads[i].comm,
						 agg->threads[i].samples };
	qsort(all, agg->nr_threads, sizeof(*all), compare_threads);
	n = agg->nr_threads < max ? agg->nr_threads : max;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}
