/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by the CRuby stack walker (ruby_walk.bpf.h, part of
 * walker.bpf.c) and its loaders (runtimes/ruby/inspect.c, rtbpf/).  Fixed-size
 * types only.
 */
#ifndef RT_BPF_RUBY_WALK_H
#define RT_BPF_RUBY_WALK_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "layouts/ruby.h"

/* Bytes read at once from a control frame and an iseq body; every offset
 * used in them must lie below the masks (rt_rbproc__walker_config checks). */
#define RT_RUBY_CFP_READ   64
#define RT_RUBY_CFP_MASK   0x3f
#define RT_RUBY_BODY_READ  160
#define RT_RUBY_BODY_MASK  0xff

/* Value of the walker's Ruby process map (key: tgid). */
struct rt_ruby_walker_config {
	__u64 vm_ptr_addr;      /* address of ruby_current_vm_ptr in the process */
	__u64 symbols_addr;     /* address of the global symbol table; 0: unknown */
	__u32 version;          /* major << 16 | minor << 8 | patch */
	__u32 generation;       /* changes when the pid's process changes */
	__u32 classpath_serial; /* ID serial of "__classpath__"; 0: unknown */
	__u32 attached_serial;  /* ID serial of "__attached__"; 0: unknown */
	struct rt_layout_ruby off;
};

/* Value of the walker's tid -> rb_thread_t cache. */
struct rt_ruby_walker_thread {
	__u64 thread;
	__u32 pid;
	__u32 generation;
};

#endif
