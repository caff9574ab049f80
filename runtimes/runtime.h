/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runtimes rtperf walks, one table entry each: how to recognise a
 * process running it (the ELF image defining its symbols), how to inspect
 * it and follow it, which layout to walk it with and how to configure the
 * walker for it, and how to decode its records.  rt-bpf's process
 * discovery (rtbpf/targets.c) and the record decoder (runtimes/decode.c)
 * know runtimes only through this table: a new runtime is one directory
 * under runtimes/ defining its struct rt_runtime_desc, plus its entry in
 * rt_runtimes[] (runtime.c).
 */
#ifndef RT_RUNTIMES_RUNTIME_H
#define RT_RUNTIMES_RUNTIME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtimes/process.h"

struct rt_layout;
struct rt_decoding;
struct rt_runtime_tracker;

/* How every runtime's process description starts. */
struct rt_runtime_process {
	pid_t pid;
	int major, minor, patch; /* patch -1 when only major.minor is known */
	char elf[PATH_MAX];      /* the file defining the runtime (executable or library) */
};

struct rt_runtime_desc {
	const char *name;     /* "CPython": in messages */
	const char *absent;   /* what a process without it lacks, for a -p target's message */
	const char *versions; /* what the walker supports, for the same message */

	/* Recognising and inspecting: the image that defines the runtime's
	 * symbols (cache and ctx are rt_runtime__inspect's), whose take
	 * fills a description of proc_size bytes starting with struct
	 * rt_runtime_process. */
	struct rt_process_image_opts image;
	size_t proc_size;

	/* Following processes: a new one whose executable's name contains
	 * exe_name gets retries (its runtime may not be mapped yet).  check,
	 * with state_size bytes per process (rt_tracked_process.state), looks
	 * at a process through rt_runtime_tracker__*; NULL: a process is
	 * found, and reported once, when it inspects as the runtime. */
	const char *exe_name;
	unsigned int retries;
	size_t state_size;
	void (*check)(struct rt_runtime_tracker *tr, struct rt_tracked_process *t);

	/* Walking: the layout for @proc into @out (@given: --layout's, used
	 * when it is for this runtime and version), 0 or -errno with the
	 * reason in @msg; @msg may also hold a notice on success.  Then the
	 * walker's configuration (config_size bytes, into the walker's map
	 * named walker_map), 0 or -EINVAL when the layout lacks what the
	 * walker needs.  describe adds a few words to the verbose line. */
	int (*select_layout)(const struct rt_runtime_process *proc, const struct rt_layout *given,
			     struct rt_layout *out, char *msg, size_t msg_size);
	int (*walker_config)(const struct rt_runtime_process *proc, const struct rt_layout *layout,
			     uint32_t generation, void *cfg);
	size_t config_size;
	const char *walker_map;
	void (*describe)(const struct rt_runtime_process *proc, char *buf, size_t size);

	/* Decoding its records (runtimes/decode_common.h). */
	const struct rt_decoding *decoding;
};

extern const struct rt_runtime_desc rt_runtime_cpython; /* runtimes/python/ */
extern const struct rt_runtime_desc rt_runtime_ruby;    /* runtimes/ruby/ */

/* Every runtime, in the order a process is tried against them. */
extern const struct rt_runtime_desc *const rt_runtimes[];
extern const size_t rt_nr_runtimes;

/*
 * Inspects process @pid as runtime @rt into @proc (@rt->proc_size bytes),
 * reading ELF files through @cache (NULL: none).  Returns 0 when it runs
 * @rt, -ENOENT when it does not (yet), -ESRCH when it is gone,
 * -EACCES/-EPERM without the right to look.
 */
int rt_runtime__inspect(const struct rt_runtime_desc *rt, struct rt_image_cache *cache, pid_t pid,
			struct rt_runtime_process *proc);

/*
 * Which runtime process @pid runs: tries each in turn.  Returns 0 with
 * *@rt and *@proc (malloc'd, for the caller to free), -ENOENT when none,
 * -ESRCH when it is gone, another -errno when it cannot be looked at.
 */
int rt_runtime__identify(struct rt_image_cache *cache, pid_t pid, const struct rt_runtime_desc **rt,
			 struct rt_runtime_process **proc);

/* Called for each process of runtime @rt found or updated (@generation is
 * new each time a pid gets a new process image, and never one another
 * runtime's tracker hands out) and each one gone (@proc NULL). */
typedef void (*rt_runtime_found_fn)(void *ctx, const struct rt_runtime_desc *rt, pid_t pid,
				    const struct rt_runtime_process *proc, uint32_t generation);

/*
 * Creates a tracker of @rt's processes over @scope with @nr_pids roots in
 * @pids (copied), reading ELF files through @cache (NULL: none; it must
 * outlive the tracker).  Returns NULL and sets errno on failure.
 */
struct rt_runtime_tracker *rt_runtime_tracker__new(const struct rt_runtime_desc *rt,
						   struct rt_image_cache *cache,
						   enum rt_process_scope scope, const pid_t *pids,
						   size_t nr_pids, rt_runtime_found_fn found,
						   void *ctx);

/* The process tracker underneath, to scan /proc, hand it process events
 * and run its retries (runtimes/process.h). */
struct rt_process_tracker *rt_runtime_tracker__processes(struct rt_runtime_tracker *tr);

/* Frees the tracker.  NULL is a no-op. */
void rt_runtime_tracker__free(struct rt_runtime_tracker *tr);

/* For a runtime's check: inspects @pid with the tracker's runtime and
 * cache (rt_runtime__inspect). */
int rt_runtime_tracker__inspect(struct rt_runtime_tracker *tr, pid_t pid,
				struct rt_runtime_process *proc);

/* For a runtime's check: a generation no process had before. */
uint32_t rt_runtime_tracker__new_generation(struct rt_runtime_tracker *tr);

/* For a runtime's check: tells the tracker's user about @proc. */
void rt_runtime_tracker__report(struct rt_runtime_tracker *tr, pid_t pid,
				const struct rt_runtime_process *proc, uint32_t generation);

#endif
