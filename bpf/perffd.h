/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record bpf/perffd.bpf.c writes for each perf file it finds: the
 * contract between that iterator and its reader, rtbpf/perfsession.c
 * (see docs/attach.md).  Fixed-size types only.
 */
#ifndef RT_BPF_PERFFD_H
#define RT_BPF_PERFFD_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* One perf file held by a process, as the iterator reports it. */
#define RT_PERFFD_PMU_NAME_LEN 32
#define RT_PERFFD_COMM_LEN     16

enum {
	RT_PERFFD_INHERIT  = 1u << 0, /* attr.inherit */
	RT_PERFFD_FREQ     = 1u << 1, /* attr.freq: sample_period is a frequency */
	RT_PERFFD_HAS_PROG = 1u << 2, /* a BPF program is already attached */
	RT_PERFFD_CHILD    = 1u << 3, /* an inherited copy of another event */
};

struct rt_perffd_record {
	__u32 tgid;          /* process holding the fd */
	__u32 fd;            /* fd number in that process */
	__u32 pmu_type;      /* pmu->type (cpu-clock is its own pmu on new kernels) */
	__u32 attr_type;     /* attr.type as perf asked */
	__u64 config;        /* attr.config */
	__u64 sample_period; /* period, or frequency if RT_PERFFD_FREQ */
	__u64 sample_type;
	__u64 id;            /* event id, as in perf.data's header */
	__s32 cpu;           /* -1: follows a task */
	__s32 target_tid;    /* -1: whole CPU */
	__u32 flags;         /* RT_PERFFD_* */
	__s32 state;         /* enum perf_event_state */
	char pmu_name[RT_PERFFD_PMU_NAME_LEN];
	char comm[RT_PERFFD_COMM_LEN];
};
_Static_assert(sizeof(struct rt_perffd_record) == 112, "rt_perffd_record layout");

#endif /* RT_BPF_PERFFD_H */
