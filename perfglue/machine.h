/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * machine: the processes and threads of a recording, with each process's
 * address space rebuilt from MMAP/MMAP2, COMM, FORK and EXIT records: maps
 * are inherited at fork, dropped at exec, and a new mapping replaces the
 * parts of older ones it overlaps.  Feed records in time order (the reader
 * does that) and look addresses up as samples arrive.
 */
#ifndef RT_MACHINE_H
#define RT_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "perfglue/perfdata.h"

/* pid used for the kernel's own maps ([kernel.kallsyms], modules). */
#define RT_MACHINE_KERNEL_PID UINT32_MAX

struct rt_map {
	uint64_t start, end;    /* [start, end) */
	uint64_t pgoff;         /* file offset of start */
	const char *path;       /* interned; borrowed from the machine */
	uint32_t prot;
	uint8_t build_id[20];
	uint8_t build_id_size;
};

struct rt_machine;

/* rt_map entries all processes together may hold (64 bytes each):
 * past it new maps are dropped and counted, so a small recording cannot
 * make the machine grow without bound. */
#define RT_MACHINE_MAX_MAP_SLOTS (1UL << 22)

/* Limits reached and work done, for the end-of-run summary. */
struct rt_machine_stats {
	uint64_t maps_dropped;  /* MMAP records ignored past RT_MACHINE_MAX_MAP_SLOTS */
	uint64_t maps_copied;   /* entries copied when a forked child changed its maps */
};

/* Returns an empty machine, or NULL with errno set. */
struct rt_machine *rt_machine__new(void);
/* Frees the machine and every map and string it handed out. NULL is a no-op. */
void rt_machine__free(struct rt_machine *machine);

/* Record handlers; each returns 0 or -ENOMEM. */
int rt_machine__mmap(struct rt_machine *machine, const struct rt_perf_mmap *mmap);
int rt_machine__comm(struct rt_machine *machine, uint32_t pid, uint32_t tid, const char *comm,
		     bool exec);
int rt_machine__fork(struct rt_machine *machine, uint32_t pid, uint32_t ppid, uint32_t tid,
		     uint32_t ptid);
int rt_machine__exit(struct rt_machine *machine, uint32_t pid, uint32_t tid);

/* The map of process pid that contains addr, or NULL.  Borrowed: valid until
 * the next record handler call. */
const struct rt_map *rt_machine__find_map(struct rt_machine *machine, uint32_t pid,
					  uint64_t addr);

/* The thread's current comm, or NULL when never seen.  Borrowed, interned:
 * equal names give equal pointers, valid until rt_machine__free(). */
const char *rt_machine__thread_comm(struct rt_machine *machine, uint32_t tid);

/* A number that changes whenever process pid's executable maps change
 * (for caches of code lookups; data mappings come and go without it). */
uint64_t rt_machine__maps_generation(struct rt_machine *machine, uint32_t pid);

/* The machine's counters; borrowed. */
const struct rt_machine_stats *rt_machine__stats(const struct rt_machine *machine);

/* Interns a string for the machine's lifetime; NULL on ENOMEM. */
const char *rt_machine__intern(struct rt_machine *machine, const char *s);

/*
 * A perf tool whose MMAP/MMAP2, COMM, FORK and EXIT records go to its
 * machine: put it first in a tool's struct, set machine, call
 * rt_machine_tool__init() and add the sample callback.
 */
struct rt_machine_tool {
	struct rt_perf_tool tool; /* first: the reader's callbacks get &tool */
	struct rt_machine *machine;
};

/* Sets @mt's mmap, comm, fork and exit callbacks; leaves the others alone. */
void rt_machine_tool__init(struct rt_machine_tool *mt);

#endif
