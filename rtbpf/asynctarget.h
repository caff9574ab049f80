/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One async-runtime target of bpf/async.bpf.c, shared by `rt-bpf async`
 * (rtbpf/async.c) and `rt-bpf record --tasks` (rtbpf/tasks.c): which
 * runtime the process runs (asyncio's C accelerator or tokio), where its
 * task steps begin, the walker configuration of an asyncio process, and
 * the uprobes attached to it.
 */
#ifndef RT_RTBPF_ASYNCTARGET_H
#define RT_RTBPF_ASYNCTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/async.h"
#include "bpf/walker.h"
#include "runtimes/python/asyncio.h"
#include "runtimes/python/inspect.h"
#include "runtimes/rust/tokio.h"

struct async_bpf;
struct bpf_link;

enum rt_async_runtime {
	RT_ASYNC_ASYNCIO,
	RT_ASYNC_TOKIO,
};

#define RT_ASYNC_MAX_LINKS 64

struct rt_async_target {
	pid_t pid;
	const char *who;            /* prefix of its messages: "rt-bpf async" */
	enum rt_async_runtime runtime;
	struct rt_tokio_probes tokio;
	struct rt_pyproc proc;
	struct rt_walker_config cfg; /* asyncio: how to walk and read its strings */
	struct rt_asyncio_layout layout;
	struct rt_asyncio_probes probes;
	uint32_t version;            /* CPython: major << 16 | minor << 8 | patch */
	char version_text[64];       /* "CPython 3.11.2", "tokio, 5 future types" */
	struct bpf_link *links[RT_ASYNC_MAX_LINKS];
	size_t nr_links;
	bool attached;               /* -p: what runs neither now never will */
	/* rt_async_target__find()'s memory between calls */
	bool interpreter_found;      /* a CPython: wait for asyncio's module only */
	char tokio_exe[PATH_MAX];    /* executable last searched for tokio in vain, */
	unsigned int tokio_misses;   /* how many times in a row */
};

/*
 * Which runtime process @t->pid runs, once it runs one: a CPython with
 * asyncio's C accelerator loaded (by `import asyncio`, after the
 * interpreter starts), or an executable with tokio's task poll functions.
 * Returns 0, -ENOENT while it runs neither (yet), or another -errno.
 */
int rt_async_target__find(struct rt_async_target *t);

/*
 * Waits until process @t->pid runs a runtime (rt_async_target__find()):
 * looks every 10 ms while it runs neither (yet), and when a look fails
 * otherwise (a CPython seen while ld.so still maps libpython) looks again
 * from scratch at the discovery tracker's spacing (2 ms doubling to 100 ms,
 * as many times as it retries a CPython) before giving up.  Stops early when
 * @stopped(@ctx) says so.  Returns 0, -ESRCH when the process ended or
 * @stopped said so before it ran either, -ENOTSUP for an attached process
 * that is no CPython and whose executable was searched for tokio in vain,
 * or the last -errno of a look.
 */
int rt_async_target__wait(struct rt_async_target *t, bool (*stopped)(void *ctx), void *ctx);

/*
 * Configures the walker for an asyncio target (its layout, version, the
 * offsets of its objects); nothing for tokio.  Returns 0 or -ENOTSUP after
 * saying why.
 */
int rt_async_target__configure(struct rt_async_target *t);

/*
 * Attaches @skel's step programs to the target (the returns first: a
 * return without its entry is only counted), and with @wakeups the
 * programs that see timers (asyncio's heappop) and wakers (tokio).
 * Returns 0 or -errno after saying why; the links made are kept either way.
 */
int rt_async_target__attach(struct rt_async_target *t, struct async_bpf *skel, bool wakeups);

/* Keeps @link (NULL: attaching failed, said with @what).  Returns 0 or
 * -errno. */
int rt_async_target__keep_link(struct rt_async_target *t, struct bpf_link *link, const char *what);

/* Destroys the links. */
void rt_async_target__detach(struct rt_async_target *t);

/* Counter @stat of @skel's program, summed over the CPUs (0: unread). */
uint64_t rt_async_target__stat(struct async_bpf *skel, enum rt_async_stat stat);

/* Detaches and frees what @t owns.  Safe on a zeroed struct. */
void rt_async_target__exit(struct rt_async_target *t);

#endif
