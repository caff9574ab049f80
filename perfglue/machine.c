/* SPDX-License-Identifier: GPL-2.0-only */
#include "perfglue/machine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "perfglue/hash.h"

/*
 * A process's maps, shared after fork by parent and children until one of
 * them changes its own (copy on write): a recording of many forks of a big
 * process holds one copy, not one per child.
 */
struct mapset {
	uint32_t refs;
	size_t nr, cap;
	struct rt_map maps[];   /* sorted by start, non-overlapping */
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
	size_t last_hit;
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
	return rt_hash_str(s, RT_HASH_SEED);
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
	if (set && !--set->refs) {
		m->map_slots -= set->cap;
		free(set);
	}
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

/* Makes p's map set its own, with room for extra more maps: copies a
 * shared set, grows a full one.  -E2BIG past the machine's cap. */
static int maps_reserve(struct rt_machine *m, struct process *p, size_t extra)
{
	struct mapset *old = p->cur, *n;
	size_t nr = old ? old->nr : 0, old_cap = old ? old->cap : 0, cap = old_cap;
	bool shared = old && old->refs > 1;

	if (!shared && nr + extra <= cap)
		return 0;
	if (nr + extra > cap) {
		cap = cap ? cap * 2 : 16;
		while (cap < nr + extra)
			cap *= 2;
	}
	if (m->map_slots - (shared ? 0 : old_cap) + cap > RT_MACHINE_MAX_MAP_SLOTS)
		return -E2BIG;
	if (shared) {
		n = malloc(sizeof(*n) + cap * sizeof(n->maps[0]));
		if (!n)
			return -ENOMEM;
		memcpy(n->maps, old->maps, nr * sizeof(n->maps[0]));
		old->refs--;
		m->stats.maps_copied += nr;
	} else {
		n = realloc(old, sizeof(*n) + cap * sizeof(n->maps[0]));
		if (!n)
			return -ENOMEM;
		m->map_slots -= old_cap;
	}
	n->refs = 1;
	n->nr = nr;
	n->cap = cap;
	m->map_slots += cap;
	p->cur = n;
	return 0;
}

/* First map whose end is above addr. */
static size_t maps_lower_bound(const struct mapset *set, uint64_t addr)
{
	size_t lo = 0, hi = set ? set->nr : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Insert a map, trimming or splitting the older maps it overlaps. */
static int maps_insert(struct rt_machine *m, struct process *p, const struct rt_map *map)
{
	size_t i, first, last, removed, added;
	struct rt_map head, tail;
	bool have_head = false, have_tail = false;
	struct mapset *set;
	int err;

	if (map->end <= map->start)
		return 0;
	/* Own the set before looking into it: the copy moves it. */
	err = maps_reserve(m, p, 3);
	if (err == -E2BIG) {
		m->stats.maps_dropped++;
		return 0;
	}
	if (err)
		return err;
	set = p->cur;
	first = maps_lower_bound(set, map->start);
	last = first;
	while (last < set->nr && set->maps[last].start < map->end)
		last++;
	/* maps[first, last) overlap the new one. */
	if (first < last && set->maps[first].start < map->start) {
		head = set->maps[first];
		head.end = map->start;
		have_head = true;
	}
	if (first < last && set->maps[last - 1].end > map->end) {
		tail = set->maps[last - 1];
		tail.pgoff += map->end - tail.start;
		tail.start = map->end;
		have_tail = true;
	}
	removed = last - first;
	added = 1 + have_head + have_tail;
	memmove(&set->maps[first + added], &set->maps[last],
		(set->nr - last) * sizeof(set->maps[0]));
	set->nr = set->nr - removed + added;
	i = first;
	if (have_head)
		set->maps[i++] = head;
	set->maps[i++] = *map;
	if (have_tail)
		set->maps[i] = tail;
	p->last_hit = 0;
	return 0;
}

#define MAP_PROT_EXEC 4

/* Whether inserting map adds code or replaces part of a code mapping. */
static bool touches_code(const struct process *p, const struct rt_map *map)
{
	size_t i;

	if (map->prot & MAP_PROT_EXEC)
		return true;
	for (i = maps_lower_bound(p->cur, map->start);
	     p->cur && i < p->cur->nr && p->cur->maps[i].start < map->end; i++)
		if (p->cur->maps[i].prot & MAP_PROT_EXEC)
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
			p->last_hit = 0;
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
		child->last_hit = 0;
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
	size_t i;

	if (!p)
		return NULL;
	if (p->cur && p->last_hit < p->cur->nr) {
		const struct rt_map *hit = &p->cur->maps[p->last_hit];

		if (addr >= hit->start && addr < hit->end)
			return hit;
	}
	i = maps_lower_bound(p->cur, addr);
	if (p->cur && i < p->cur->nr && p->cur->maps[i].start <= addr) {
		p->last_hit = i;
		return &p->cur->maps[i];
	}
	i = maps_lower_bound(p->old, addr);
	if (p->old && i < p->old->nr && p->old->maps[i].start <= addr)
		return &p->old->maps[i];
	return NULL;
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
