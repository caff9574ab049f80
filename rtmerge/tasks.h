/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which async task each thread runs, from the task records of rt-bpf
 * record --tasks (bpf/record.h: RT_REC_TASK, RT_REC_TASK_NAME), fed in time
 * order with the samples: rtmerge puts the task of a sample's thread into
 * its stack as a `[task] NAME` frame (docs/async.md).
 */
#ifndef RT_RTMERGE_TASKS_H
#define RT_RTMERGE_TASKS_H

#include <stddef.h>
#include <stdint.h>

struct rt_task_tracker;

/* An empty tracker; NULL with errno set. */
struct rt_task_tracker *rt_task_tracker__new(void);
void rt_task_tracker__free(struct rt_task_tracker *t);

/*
 * Takes one bpf-output payload (@raw, @size bytes, padding allowed).
 * Returns 1 for a task record (taken in), 0 for another kind of record,
 * -EINVAL for a malformed task record, -ENOMEM.
 */
int rt_task_tracker__feed(struct rt_task_tracker *t, const void *raw, size_t size);

/*
 * The task thread @tid of process @pid runs a step of, as of the records
 * fed so far: its name ("Task-3 blocker", "my_app::handle_conn"; "task
 * 0x..." when its name record was lost), valid until the next feed; NULL
 * when the thread is between steps.  *@kind: RT_REC_TASK_ASYNCIO or
 * RT_REC_TASK_TOKIO.
 */
const char *rt_task_tracker__current(struct rt_task_tracker *t, uint32_t pid, uint32_t tid,
				     uint32_t *kind);

/*
 * Where the step function of the step thread @tid of process @pid runs has
 * its return address (*@sp: the stack pointer at its entry) and what it is
 * (*@addr): on the stack, the uretprobe's trampoline stands there instead
 * while the step runs.  Returns 0, or -ENOENT when the thread is between
 * steps or the record did not say (earlier versions).
 */
int rt_task_tracker__return(struct rt_task_tracker *t, uint32_t pid, uint32_t tid,
			    uint64_t *sp, uint64_t *addr);

#endif
