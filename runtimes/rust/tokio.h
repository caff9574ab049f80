/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What rt-bpf knows about tokio: the functions that poll a task (one
 * tokio::runtime::task::raw::poll per future type, named by symbol, Rust's
 * legacy or v0 mangling) and wake one, in a process's executable.
 */
#ifndef RT_RUNTIMES_RUST_TOKIO_H
#define RT_RUNTIMES_RUST_TOKIO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RT_TOKIO_NAME_MAX 160

/* One poll function: where it is and the future type it polls. */
struct rt_tokio_poll_fn {
	uint64_t offset;                 /* file offset of its first instruction */
	char future[RT_TOKIO_NAME_MAX];  /* "my_app::handle_conn"; for a legacy-mangled
					  * build (no generic arguments in the name)
					  * "future #N" */
};

struct rt_tokio_probes {
	char path[PATH_MAX];            /* the file, as a path the kernel can open */
	struct rt_tokio_poll_fn *polls; /* owned; rt_tokio_probes__exit() frees */
	size_t nr_polls;
	uint64_t wake_by_val, wake_by_ref; /* file offsets; 0: not found */
	/* the timer wheel's poll, which returns each timer that came due
	 * (TimerShared) to the driver that fires it: a file offset, 0 not found */
	uint64_t wheel_poll;
};

/*
 * Finds the probe points in process @pid's executable.  Returns 0, -ENOENT
 * when it has no tokio task poll function (or only those of spawn_blocking's
 * pool, which block by design), -ESRCH when it is gone, -ENOMEM.
 */
int rt_tokio__find_probes(pid_t pid, struct rt_tokio_probes *out);

/*
 * The future type of a demangled poll function's name into @buf:
 * "tokio::runtime::task::raw::poll::<app::serve::{closure#0}, S>" gives
 * "app::serve" (an async fn's body is its closure).  Returns 1 when
 * @demangled is a task poll function of a future (its name filled, "" for
 * a legacy name without generic arguments), 0 when it is not one (or polls
 * spawn_blocking's pool).
 */
int rt_tokio__future_name(const char *demangled, char *buf, size_t size);

/* Frees what @p owns.  Safe on a zeroed struct. */
void rt_tokio_probes__exit(struct rt_tokio_probes *p);

#endif
