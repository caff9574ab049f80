/* SPDX-License-Identifier: GPL-2.0-only */
/* Running a BPF iterator program and reading what it writes. */
#ifndef RT_RTBPF_ITER_H
#define RT_RTBPF_ITER_H

#include <stddef.h>

struct bpf_program;

/*
 * Runs iterator program @prog (loaded, not attached) to its end: *@out
 * (malloc'd, the caller frees; NULL on error) gets the records it wrote,
 * each @rec_size bytes, *@nr of them.  Returns 0 or -errno.
 */
int rt_bpf_iter__read(const struct bpf_program *prog, size_t rec_size, void **out, size_t *nr);

#endif
