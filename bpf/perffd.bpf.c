/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The perf fd iterator on its own (bpf/perffd.bpf.h), for the modes that
 * do not load the discovery programs.  User space: rtbpf/perfsession.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "bpf/perffd.bpf.h"

/* Only this process (tgid); 0 lists every process. */
const volatile __u32 target_tgid = 0;

SEC("iter/task_file")
int rt_perffd_dump(struct bpf_iter__task_file *ctx)
{
	return perffd_dump(ctx, target_tgid);
}

char LICENSE[] SEC("license") = "GPL";
