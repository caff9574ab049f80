/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every asyncio task of a live CPython 3.14+ process, read from outside it
 * (`rt-bpf async --ps`): 3.14 publishes where its task objects keep their
 * name, coroutine and awaiters (the _asyncio module's AsyncioDebug
 * section) and keeps every task in a list per thread state (and one per
 * interpreter for the tasks of threads that ended); the interpreter's own
 * _Py_DebugOffsets say where threads, frames, code objects and generators
 * keep the rest.  Memory is read with process_vm_readv, the module's file
 * through /proc/PID/map_files.
 */
#ifndef RT_RUNTIMES_PYTHON_ASYNCPS_H
#define RT_RUNTIMES_PYTHON_ASYNCPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One coroutine of a task's chain: where it is suspended. */
struct rt_asyncps_frame {
	char func[128]; /* the code object's __qualname__ */
	char file[256];
	int line;       /* 0: unknown */
};

struct rt_asyncps_task {
	uint64_t addr;    /* the TaskObj: its id, as asyncio's tools print it */
	uint64_t thread;  /* native id of the thread whose list holds it; 0: the interpreter's */
	char name[128];   /* "Task-3" or the name given */
	struct rt_asyncps_frame *frames; /* the coroutine chain, innermost first */
	size_t nr_frames;
	uint64_t *awaited_by; /* the tasks awaiting it */
	size_t nr_awaited_by;
};

struct rt_asyncps {
	int major, minor, patch;
	struct rt_asyncps_task *tasks; /* in list order, thread by thread */
	size_t nr_tasks;
};

/*
 * Reads every task of process @pid into @out.  Returns 0; -ENOTSUP for a
 * CPython before 3.14 or a build whose tables do not look as expected;
 * -ENOENT when the process runs no CPython or has not imported asyncio
 * (no _asyncio module mapped); -ESRCH when it is gone; -EFAULT when a
 * list changed under the reader; each with one sentence in @msg.
 */
int rt_asyncps__read(pid_t pid, struct rt_asyncps *out, char *msg, size_t msg_size);

/* Frees what rt_asyncps__read() filled.  Safe on a zeroed struct. */
void rt_asyncps__free(struct rt_asyncps *ps);

/* The task at @addr in @ps, or NULL. */
const struct rt_asyncps_task *rt_asyncps__task(const struct rt_asyncps *ps, uint64_t addr);

#endif
