/* SPDX-License-Identifier: GPL-2.0-only */
#include "perfglue/machine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "perfglue/grow.h"
#include "perfglue/hash.h"

/*
 * A process's maps, sorted by start and non-overlapping, in blocks of at
 * most MAPS_PER_BLOCK: an insertion shifts one block and, when the block
 * splits or empties, the block pointers, never the whole set, so maps
 * arriving in any order cost O(log n + block + n / block) each.  Shared
 * after fork by parent and children until one of them changes its own
 * (copy on write): many forks of a big process hold one copy.
 */
#define MAPS_PER_BLOCK 64

struct map_block {
	uint32_t n;             /* at least 1 */
	struct rt_map maps[MAPS_PER_BLOCK];
};

struct mapset {
	uint32_t refs;
	size_t nr;              /* maps over all blocks */
	size_t nr_blocks, cap_blocks;
	struct map_block **blocks;
};

/* A place in a set: blocks[b]->maps[i]; b == nr_blocks is the end. */
struct map_pos {
	size_t b, i;
};

struct process {
	uint32_t pid;
	bool used;
	struct mapset *cur;     /* NULL: no maps */
	/* The image before the last exec: samples taken inside execve (after
	 * its COMM record, before the new image runs) still carry user
	 * addresses of the old image.  Consulted only where no current map
	 * covers an address. */
	struct mapset *old;
	const struct rt_map *last_hit;  /* in cur; NULL after any change */
	uint64_t generation;
};

struct thread {
	uint32_t tid;
	bool used;
	uint32_t pid;
	const char *comm;
};

struct intern_slot {
	char *s;
	uint64_t hash;
};

struct rt_machine {
	struct process *procs;
	size_t procs_size, nr_procs;    /* open addressing, power of two */
	struct thread *threads;
	size_t threads_size, nr_threads;
	struct intern_slot *strings;
	size_t strings_size, nr_strings;
	uint64_t generation;
	size_t map_slots;       /* rt_map entries allocated over all map sets */
	struct rt_machine_stats stats;
};

static uint64_t hash_u32(uint32_t x)
{
	uint64_t h = x * 0x9E3779B97F4A7C15ULL;

	return h ^ (h >> 29);
}

static uint64_t hash_str(const char *s)
{
	return rt_hash64_keyed(rt_hash_str(s, RT_HASH_SEED));  /* paths come from the input */
}

const char *rt_machine__intern(struct rt_machine *m, const char *s)
{
	uint64_t h = hash_str(s);
	size_t mask, i;

	if ((m->nr_strings + 1) * 2 > m->strings_size) {
		size_t size = m->strings_size ? m->strings_size * 2 : 256, j;
		struct intern_slot *t = calloc(size, sizeof(*t));

		if (!t)
			return NULL;
		for (j = 0; j < m->strings_size; j++) {
			struct intern_slot *e = &m->strings[j];
			size_t k;

			if (!e->s)
				continue;
			for (k = e->hash & (size - 1); t[k].s; k = (k + 1) & (size - 1))
				;
			t[k] = *e;
		}
		free(m->strings);
		m->strings = t;
		m->strings_size = size;
	}
	mask = m->strings_size - 1;
	for (i = h & mask; m->strings[i].s; i = (i + 1) & mask)
		if (m->strings[i].hash == h && !strcmp(m->strings[i].s, s))
			return m->strings[i].s;
	m->strings[i].s = strdup(s);
	if (!m->strings[i].s)
		return NULL;
	m->strings[i].hash = h;
	m->nr_strings++;
	return m->strings[i].s;
}

/* Generic open-addressing table grow for processes/threads. */
#define DEFINE_TABLE(NAME, TYPE, KEY, ARR, SIZE, NR)                                 \
	static TYPE *NAME##_find(struct rt_machine *m, uint32_t key)                 \
	{                                                                            \
		size_t mask, i;                                                      \
		if (!m->SIZE)                                                        \
			return NULL;                                                 \
		mask = m->SIZE - 1;                                                  \
		for (i = hash_u32(key) & mask; m->ARR[i].used; i = (i + 1) & mask)   \
			if (m->ARR[i].KEY == key)                                    \
				return &m->ARR[i];                                   \
		return NULL;                                                         \
	}                                                                            \
	static TYPE *NAME##_findnew(struct rt_machine *m, uint32_t key)              \
	{                                                                            \
		TYPE *e = NAME##_find(m, key);                                       \
		size_t mask, i;                                                      \
		if (e)                                                               \
			return e;                                                    \
		if ((m->NR + 1) * 2 > m->SIZE) {                                     \
			size_t size = m->SIZE ? m->SIZE * 2 : 64, j;                 \
			TYPE *t = calloc(size, sizeof(*t));                          \
			if (!t)                                                      \
				return NULL;                                         \
			for (j = 0; j < m->SIZE; j++) {                              \
				size_t k;                                            \
				if (!m->ARR[j].used)                                 \
					continue;                                    \
				for (k = hash_u32(m->ARR[j].KEY) & (size - 1);       \
				     t[k].used; k = (k + 1) & (size - 1))            \
					;                                            \
				t[k] = m->ARR[j];                                    \
			}                                                            \
			free(m->ARR);                                                \
			m->ARR = t;                                                  \
			m->SIZE = size;                                              \
		}                                                                    \
		mask = m->SIZE - 1;                                                  \
		for (i = hash_u32(key) & mask; m->ARR[i].used; i = (i + 1) & mask)   \
			;                                                            \
		m->ARR[i].used = true;                                               \
		m->ARR[i].KEY = key;                                                 \
		m->NR++;                                                             \
		return &m->ARR[i];                                                   \
	}

DEFINE_TABLE(process, struct process, pid, procs, procs_size, nr_procs)
DEFINE_TABLE(thread, struct thread, tid, threads, threads_size, nr_threads)

/* Drops a reference to set; frees it with the last. */
static void mapset_put(struct rt_machine *m, struct mapset *set)
{
	if (!set || --set->refs)
		return;
	for (size_t b = 0; b < set->nr_blocks; b++)
		free(set->blocks[b]);
	m->map_slots -= set->nr_blocks * MAPS_PER_BLOCK;
	free(set->blocks);
	free(set);
}

struct rt_machine *rt_machine__new(void)
{
	struct rt_machine *m = calloc(1, sizeof(*m));

	if (!m)
		errno = ENOMEM;
	return m;
}

void rt_machine__free(struct rt_machine *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->procs_size; i++) {
		mapset_put(m, m->procs[i].cur);
		mapset_put(m, m->procs[i].old);
	}
	for (i = 0; i < m->strings_size; i++)
		free(m->strings[i].s);
	free(m->procs);
	free(m->threads);
	free(m->strings);
	free(m);
}

/* A new block, counted against the machine's cap (NULL: cap or memory). */
static struct map_block *block_new(struct rt_machine *m, int *err)
{
	struct map_block *blk;

	if (m->map_slots + MAPS_PER_BLOCK > RT_MACHINE_MAX_MAP_SLOTS) {
		*err = -E2BIG;
		return NULL;
	}
	blk = malloc(sizeof(*blk));
	if (!blk) {
		*err = -ENOMEM;
		return NULL;
	}
	m->map_slots += MAPS_PER_BLOCK;
	blk->n = 0;
	return blk;
}

/* Puts blk in set's block list at index b. */
static int blocks_insert(struct mapset *set, size_t b, struct map_block *blk)
{
	if (RT_ARRAY_GROW(set->blocks, set->cap_blocks, set->nr_blocks + 1, 4))
		return -ENOMEM;
	memmove(&set->blocks[b + 1], &set->blocks[b], (set->nr_blocks - b) * sizeof(*set->blocks));
	set->blocks[b] = blk;
	set->nr_blocks++;
	return 0;
}

/* Makes p's map set its own: a new one, or a copy of a shared one. */
static int maps_own(struct rt_machine *m, struct process *p)
{
	struct mapset *old = p->cur, *n;
	int err = 0;

	if (old && old->refs == 1)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->refs = 1;
	if (old) {
		n->blocks = malloc(old->nr_blocks * sizeof(*n->blocks));
		if (!n->blocks && old->nr_blocks) {
			free(n);
			return -ENOMEM;
		}
		n->cap_blocks = old->nr_blocks;
		for (; n->nr_blocks < old->nr_blocks; n->nr_blocks++) {
			struct map_block *blk = block_new(m, &err);

			if (!blk) {
				mapset_put(m, n);
				return err;
			}
			memcpy(blk, old->blocks[n->nr_blocks], sizeof(*blk));
			n->blocks[n->nr_blocks] = blk;
		}
		n->nr = old->nr;
		m->stats.maps_copied += old->nr;
		old->refs--;
	}
	p->cur = n;
	p->last_hit = NULL;
	return 0;
}

/* The place of the first map whose end is above addr. */
static struct map_pos maps_lower_bound(const struct mapset *set, uint64_t addr)
{
	struct map_pos pos = { 0, 0 };
	size_t lo = 0, hi = set ? set->nr_blocks : 0;
	const struct map_block *blk;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		blk = set->blocks[mid];
		if (blk->maps[blk->n - 1].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	pos.b = lo;
	if (!set || lo == set->nr_blocks)
		return pos;
	blk = set->blocks[lo];
	for (hi = blk->n; pos.i < hi;) {
		size_t mid = pos.i + (hi - pos.i) / 2;

		if (blk->maps[mid].end <= addr)
			pos.i = mid + 1;
		else
			hi = mid;
	}
	return pos;
}

/* The map at pos, or NULL at the end. */
static struct rt_map *maps_at(const struct mapset *set, struct map_pos pos)
{
	return set && pos.b < set->nr_blocks ? &set->blocks[pos.b]->maps[pos.i] : NULL;
}

static struct map_pos maps_next(const struct mapset *set, struct map_pos pos)
{
	if (++pos.i == set->blocks[pos.b]->n) {
		pos.b++;
		pos.i = 0;
	}
	return pos;
}

/* Removes the map at pos; pos then names the map after it. */
static void maps_remove(struct rt_machine *m, struct mapset *set, struct map_pos *pos)
{
	struct map_block *blk = set->blocks[pos->b];

	memmove(&blk->maps[pos->i], &blk->maps[pos->i + 1],
		(blk->n - pos->i - 1) * sizeof(blk->maps[0]));
	blk->n--;
	set->nr--;
	if (!blk->n) {
		free(blk);
		m->map_slots -= MAPS_PER_BLOCK;
		memmove(&set->blocks[pos->b], &set->blocks[pos->b + 1],
			(set->nr_blocks - pos->b - 1) * sizeof(*set->blocks));
		set->nr_blocks--;
		pos->i = 0;
	} else if (pos->i == blk->n) {
		pos->b++;
		pos->i = 0;
	}
}

/* Inserts map before the one at pos (at the end when pos is); pos then
 * names the map after the new one. */
static int maps_put(struct rt_machine *m, struct mapset *set, struct map_pos *pos,
		    const struct rt_map *map)
{
	struct map_block *blk;
	int err = 0;

	if (!set->nr_blocks) {
		blk = block_new(m, &err);
		if (!blk)
			return err;
		if ((err = blocks_insert(set, 0, blk))) {
			free(blk);
			m->map_slots -= MAPS_PER_BLOCK;
			return err;
		}
		*pos = (struct map_pos){ 0, 0 };
	} else if (pos->b == set->nr_blocks || (pos->i == 0 && pos->b > 0 &&
						set->blocks[pos->b - 1]->n < MAPS_PER_BLOCK)) {
		/* At a block's start: the end of the block before, if it has room. */
		pos->b--;
		pos->i = set->blocks[pos->b]->n;
	}
	blk = set->blocks[pos->b];
	if (blk->n == MAPS_PER_BLOCK) {
		struct map_block *upper = block_new(m, &err);
		uint32_t half = MAPS_PER_BLOCK / 2;

		if (!upper)
			return err;
		if ((err = blocks_insert(set, pos->b + 1, upper))) {
			free(upper);
			m->map_slots -= MAPS_PER_BLOCK;
			return err;
		}
		memcpy(upper->maps, &blk->maps[half], (MAPS_PER_BLOCK - half) * sizeof(blk->maps[0]));
		upper->n = MAPS_PER_BLOCK - half;
		blk->n = half;
		if (pos->i > half) {
			pos->b++;
			pos->i -= half;
			blk = upper;
		}
	}
	memmove(&blk->maps[pos->i + 1], &blk->maps[pos->i], (blk->n - pos->i) * sizeof(blk->maps[0]));
	blk->maps[pos->i] = *map;
	blk->n++;
	set->nr++;
	*pos = maps_next(set, *pos);
	return 0;
}

/* Insert a map, trimming or splitting the older maps it overlaps. */
static int maps_insert(struct rt_machine *m, struct process *p, const struct rt_map *map)
{
	struct rt_map head, tail, *e;
	bool have_head = false, have_tail = false;
	struct map_pos pos;
	int err;

	if (map->end <= map->start)
		return 0;
	err = maps_own(m, p);
	if (err == -E2BIG) {
		m->stats.maps_dropped++;
		return 0;
	}
	if (err)
		return err;
	p->last_hit = NULL;
	pos = maps_lower_bound(p->cur, map->start);
	/* Take out every map the new one overlaps, keeping what sticks out. */
	while ((e = maps_at(p->cur, pos)) && e->start < map->end) {
		if (e->start < map->start) {
			head = *e;
			head.end = map->start;
			have_head = true;
		}
		if (e->end > map->end) {
			tail = *e;
			tail.pgoff += map->end - tail.start;
			tail.start = map->end;
			have_tail = true;
		}
		maps_remove(m, p->cur, &pos);
	}
	if (have_head)
		err = maps_put(m, p->cur, &pos, &head);
	if (!err)
		err = maps_put(m, p->cur, &pos, map);
	if (!err && have_tail)
		err = maps_put(m, p->cur, &pos, &tail);
	if (err == -E2BIG) {
		m->stats.maps_dropped++;
		return 0;
	}
	return err;
}

#define MAP_PROT_EXEC 4

/* Whether inserting map adds code or replaces part of a code mapping. */
static bool touches_code(const struct process *p, const struct rt_map *map)
{
	struct map_pos pos;
	const struct rt_map *e;

	if (map->prot & MAP_PROT_EXEC)
		return true;
	for (pos = maps_lower_bound(p->cur, map->start);
	     (e = maps_at(p->cur, pos)) && e->start < map->end; pos = maps_next(p->cur, pos))
		if (e->prot & MAP_PROT_EXEC)
			return true;
	return false;
}

int rt_machine__mmap(struct rt_machine *m, const struct rt_perf_mmap *ev)
{
	uint32_t pid = ev->pid;
	struct process *p;
	struct rt_map map;

	if (ev->cpumode == RT_CPUMODE_KERNEL || pid == (uint32_t)-1)
		pid = RT_MACHINE_KERNEL_PID;
	p = process_findnew(m, pid);
	if (!p)
		return -ENOMEM;
	memset(&map, 0, sizeof(map));
	map.start = ev->start;
	map.end = ev->start + ev->len;
	if (map.end < map.start)
		map.end = UINT64_MAX;
	map.pgoff = ev->pgoff;
	map.prot = ev->prot;
	map.path = rt_machine__intern(m, ev->filename);
	if (!map.path)
		return -ENOMEM;
	map.build_id_size = ev->build_id_size;
	memcpy(map.build_id, ev->build_id, sizeof(map.build_id));
	/* Code lookups are what callers cache: only a change to executable
	 * mappings invalidates them (interpreters mmap data all the time). */
	if (touches_code(p, &map))
		p->generation = ++m->generation;
	return maps_insert(m, p, &map);
}

int rt_machine__comm(struct rt_machine *m, uint32_t pid, uint32_t tid, const char *comm,
		     bool exec)
{
	struct thread *t = thread_findnew(m, tid);

	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->comm = rt_machine__intern(m, comm);
	if (!t->comm)
		return -ENOMEM;
	if (exec) {
		struct process *p = process_find(m, pid);

		if (p) {
			mapset_put(m, p->old);
			p->old = p->cur;
			p->cur = NULL;
			p->last_hit = NULL;
			p->generation = ++m->generation;
		}
	}
	return 0;
}

int rt_machine__fork(struct rt_machine *m, uint32_t pid, uint32_t ppid, uint32_t tid,
		     uint32_t ptid)
{
	struct thread *parent_thread = thread_find(m, ptid);
	const char *comm = parent_thread ? parent_thread->comm : NULL;
	struct thread *t;

	if (pid != ppid) {
		struct process *parent, *child;

		child = process_findnew(m, pid);
		if (!child)
			return -ENOMEM;
		/* process_findnew may have moved the table: look the parent up now. */
		parent = process_find(m, ppid);
		if (parent != child) {
			mapset_put(m, child->cur);
			child->cur = parent ? parent->cur : NULL;
			if (child->cur)
				child->cur->refs++;
		}
		child->last_hit = NULL;
		child->generation = ++m->generation;
	}
	t = thread_findnew(m, tid);
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	if (comm)
		t->comm = comm;
	return 0;
}

int rt_machine__exit(struct rt_machine *m, uint32_t pid, uint32_t tid)
{
	/* Samples can still name an exited thread (records are ordered by time,
	 * but a sample and the exit can share a timestamp): keep everything. */
	(void)m;
	(void)pid;
	(void)tid;
	return 0;
}

const struct rt_map *rt_machine__find_map(struct rt_machine *m, uint32_t pid, uint64_t addr)
{
	struct process *p = process_find(m, pid);
	const struct rt_map *e;

	if (!p)
		return NULL;
	if (p->last_hit && addr >= p->last_hit->start && addr < p->last_hit->end)
		return p->last_hit;
	e = maps_at(p->cur, maps_lower_bound(p->cur, addr));
	if (e && e->start <= addr) {
		p->last_hit = e;
		return e;
	}
	e = maps_at(p->old, maps_lower_bound(p->old, addr));
	return e && e->start <= addr ? e : NULL;
}

const char *rt_machine__thread_comm(struct rt_machine *m, uint32_t tid)
{
	struct thread *t = thread_find(m, tid);

	return t ? t->comm : NULL;
}

const struct rt_machine_stats *rt_machine__stats(const struct rt_machine *m)
{
	return &m->stats;
}

uint64_t rt_machine__maps_generation(struct rt_machine *m, uint32_t pid)
{
	struct process *p = process_find(m, pid);

	return p ? p->generation : 0;
}

static struct rt_machine *machine_of(struct rt_perf_tool *tool)
{
	return ((struct rt_machine_tool *)tool)->machine;
}

static int tool_mmap(struct rt_perf_tool *tool, const struct rt_perf_mmap *ev)
{
	return rt_machine__mmap(machine_of(tool), ev);
}

static int tool_comm(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		     bool exec, const struct rt_perf_sample_id *sid)
{
	return rt_machine__comm(machine_of(tool), pid, tid, comm, exec);
}

static int tool_fork(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		     uint32_t ptid, uint64_t time)
{
	return rt_machine__fork(machine_of(tool), pid, ppid, tid, ptid);
}

static int tool_exit(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		     uint32_t ptid, uint64_t time)
{
	return rt_machine__exit(machine_of(tool), pid, tid);
}

void rt_machine_tool__init(struct rt_machine_tool *mt)
{
	mt->tool.mmap = tool_mmap;
	mt->tool.comm = tool_comm;
	mt->tool.fork = tool_fork;
	mt->tool.exit = tool_exit;
}
