/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space inspection of CRuby processes for the Ruby stack walker: is a
 * process running CRuby, which version (read from its libruby), where are
 * ruby_current_vm_ptr and the global symbol table; and a tracker that
 * rescans /proc for Ruby processes to hand to the walker.
 */
#ifndef RT_RUNTIMES_RUBY_INSPECT_H
#define RT_RUNTIMES_RUBY_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtimes/process.h"
#include "bpf/ruby_walk.h"
#include "layouts/ruby.h"

struct rt_rbproc {
	pid_t pid;
	int major, minor, patch;   /* from the library's ruby_version string */
	uint64_t vm_ptr_addr;      /* address of ruby_current_vm_ptr */
	uint64_t id2str_addr;      /* address of rb_id2str (finds the symbol table) */
	uint64_t symbols_addr;     /* global symbol table; 0 until found */
	uint32_t classpath_serial; /* ID serials of __classpath__ / __attached__; 0 until found */
	uint32_t attached_serial;
	char elf[PATH_MAX];        /* file defining ruby_current_vm_ptr (libruby or exe) */
};

/*
 * Inspects process @pid.  Returns 0 and fills @out when it runs CRuby (with
 * or without a known layout; symbols_addr and the serials may still be 0),
 * -ENOENT when it does not (yet), -ESRCH when it is gone, -EACCES/-EPERM.
 */
int rt_rbproc__inspect(pid_t pid, struct rt_rbproc *out);

/*
 * Finds the global symbol table and the serials of the IDs the walker uses
 * to name C methods' classes, with @layout.  Returns 0 when all were found,
 * -EAGAIN when the VM is not far enough into its start yet, -errno.
 */
int rt_rbproc__resolve_symbols(struct rt_rbproc *proc, const struct rt_layout_ruby *layout);

/*
 * Fills the walker's configuration for @proc from @layout.  Returns 0, or
 * -EINVAL when the layout does not fit the walker's reads.
 */
int rt_rbproc__walker_config(const struct rt_rbproc *proc, const struct rt_layout_ruby *layout,
			     uint32_t generation, struct rt_ruby_walker_config *cfg);

/* Called for each Ruby process found or updated (@generation is new each
 * time a pid gets a new process image) and each one gone (@proc NULL). */
typedef void (*rt_rbproc_found_fn)(void *ctx, pid_t pid, const struct rt_rbproc *proc,
				   uint32_t generation);

struct rt_rbproc_tracker;

/*
 * Creates a tracker over @scope with @nr_pids roots in @pids (copied).
 * Returns NULL and sets errno on failure.
 */
struct rt_rbproc_tracker *rt_rbproc_tracker__new(enum rt_process_scope scope, const pid_t *pids,
						 size_t nr_pids, rt_rbproc_found_fn found,
						 void *ctx);

/*
 * Rescans /proc: reports new Ruby processes, processes that exec'd or
 * whose symbol table was found since, and processes gone.  Returns the
 * number of Ruby processes tracked, or -errno.
 */
int rt_rbproc_tracker__scan(struct rt_rbproc_tracker *tr);

/* The process tracker underneath, to hand it process events
 * (rt_process_tracker__event) and run its retries. */
struct rt_process_tracker *rt_rbproc_tracker__processes(struct rt_rbproc_tracker *tr);

/* Frees the tracker.  NULL is a no-op. */
void rt_rbproc_tracker__free(struct rt_rbproc_tracker *tr);

#endif
