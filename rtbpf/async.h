/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf async`: which task blocks an asyncio event loop, for how long,
 * and what waited behind it (docs/async.md).
 */
#ifndef RT_RTBPF_ASYNC_H
#define RT_RTBPF_ASYNC_H

/*
 * Runs `rt-bpf async` with @argv[0] = "async" and its arguments.  Returns
 * the process exit status: 0, 1 on a failure (said in one line), 2 on a
 * usage error.
 */
int rt_async__main(int argc, char **argv);

#endif
