/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space inspection of CRuby processes for the Ruby stack walker: is a
 * process running CRuby, which version (read from its libruby), where are
 * ruby_current_vm_ptr and the global symbol table.  The runtime table
 * reaches it as rt_runtime_ruby (runtimes/runtime.h).
 */
#ifndef RT_RUNTIMES_RUBY_INSPECT_H
#define RT_RUNTIMES_RUBY_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtimes/runtime.h"
#include "bpf/ruby_walk.h"
#include "layouts/ruby.h"

struct rt_rbproc {
	struct rt_runtime_process base; /* first: pid, version (from the library's
					 * ruby_version string), the file defining
					 * ruby_current_vm_ptr (libruby or exe) */
	uint64_t vm_ptr_addr;      /* address of ruby_current_vm_ptr */
	uint64_t id2str_addr;      /* address of rb_id2str (finds the symbol table) */
	uint64_t symbols_addr;     /* global symbol table; 0 until found */
	uint32_t classpath_serial; /* ID serials of __classpath__ / __attached__; 0 until found */
	uint32_t attached_serial;
};

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

/* String @str's bytes into @buf, NUL-terminated and cut to @size - 1
 * (rt-bpf trace names what it calls this way): 0 or -errno. */
int rt_rbproc__read_string(pid_t pid, const struct rt_layout_ruby *layout, uint64_t str, char *buf,
			   size_t size);

/* The name of ID @id, from the global symbol table (resolved before):
 * 0 or -errno. */
int rt_rbproc__id_name(const struct rt_rbproc *proc, const struct rt_layout_ruby *layout, uint64_t id,
		       char *buf, size_t size);

/* The path of class @klass ("Counter"); for a singleton class, the path of
 * the class it belongs to, with *@singleton set.  Layouts that keep the
 * path in the class (3.3) only: 0 or -errno (-ENOTSUP for the others). */
int rt_rbproc__class_path(const struct rt_rbproc *proc, const struct rt_layout_ruby *layout,
			  uint64_t klass, char *buf, size_t size, bool *singleton);

/* The execution context of the thread whose pthread_t is @pthread (on
 * x86_64 glibc its thread pointer, fs_base), found in the main ractor's
 * thread list: 0, -ENOENT (not in it) or -EAGAIN. */
int rt_rbproc__thread_ec(const struct rt_rbproc *proc, const struct rt_layout_ruby *layout,
			 uint64_t pthread, uint64_t *ec);

/* The execution context of the main thread (the first of the main
 * ractor's threads): 0 or -EAGAIN while the VM has none. */
int rt_rbproc__main_ec(const struct rt_rbproc *proc, const struct rt_layout_ruby *layout, uint64_t *ec);

#endif
