/* SPDX-License-Identifier: GPL-2.0-only */
/* rt-bpf top: the live view (rtbpf/top.c). */
#ifndef RT_TOP_H
#define RT_TOP_H

/*
 * Runs `rt-bpf top` with its arguments (argv[0] is "top").  Returns the
 * process's exit status: 0, 1 after an error it reported, 2 for a usage
 * error.
 */
int rt_bpf_top(int argc, char **argv);

#endif
