/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf record --tasks: task records (bpf/record.h) from the step probes
 * of bpf/async.bpf.c, written into perf's bpf-output channel beside the
 * walker's stack records, so that rtmerge puts a `[task] NAME` frame into
 * every sample taken inside a task's step (docs/async.md).
 */
#ifndef RT_RTBPF_TASKS_H
#define RT_RTBPF_TASKS_H

#include <stdbool.h>
#include <sys/types.h>

struct rt_task_tracer;

/*
 * Starts a thread that waits until process @pid runs asyncio's C
 * accelerator or tokio, then attaches the step probes to it, writing into
 * the perf event array @channel_fd (the walker's channel map: one bpf-output
 * event per CPU).  Returns 0 (*@out set) or -errno.
 */
int rt_task_tracer__start(pid_t pid, int channel_fd, bool verbose,
			  struct rt_task_tracer **out);

/* Stops the thread, detaches, says how many task records were written and
 * lost, and frees @t.  NULL is a no-op. */
void rt_task_tracer__stop(struct rt_task_tracer *t);

#endif
