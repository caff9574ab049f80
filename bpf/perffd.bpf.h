/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The perf fd iterator's body: lists the perf events a process holds.
 * /proc/PID/fdinfo says nothing useful about perf files, so a task_file
 * iterator reads each perf file's struct perf_event (with CO-RE, the
 * layout changes between kernels) and writes one struct rt_perffd_record
 * per perf file into the iterator's seq_file.  Two objects carry it:
 * bpf/perffd.bpf.c on its own, and bpf/discovery.bpf.c, so that rt-bpf
 * record, which loads the discovery programs anyway, loads one object
 * fewer.  User space: rtbpf/perfsession.c.
 */
#ifndef RT_BPF_PERFFD_BPF_H
#define RT_BPF_PERFFD_BPF_H

#include "bpf/perffd.h"

/*
 * perf_event_open() makes every perf file with anon_inode_getfile() under
 * the name "[perf_event]", and no other file has that name: the dentry's
 * name says what the file is without the address of perf_release() from
 * /proc/kallsyms, whose reading cost more CPU than all the rest of the
 * search (the kernel formats every symbol).
 */
static __always_inline bool is_perf_file(struct file *file)
{
	static const char want[] = "[perf_event]";
	char name[sizeof(want)] = {};
	const unsigned char *p = BPF_CORE_READ(file, f_path.dentry, d_name.name);

	if (!p || bpf_probe_read_kernel_str(name, sizeof(name), p) != sizeof(want))
		return false;
	for (int i = 0; i < (int)sizeof(want); i++)
		if (name[i] != want[i])
			return false;
	return true;
}

/* Writes @ctx's file as a struct rt_perffd_record if it is a perf event
 * (of process @tgid only, unless 0). */
static __always_inline int perffd_dump(struct bpf_iter__task_file *ctx, __u32 tgid)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct rt_perffd_record rec = {};
	struct perf_event *event;
	struct perf_event_attr *attr;
	struct task_struct *target;
	const char *pmu_name;

	if (!task || !file)
		return 0;
	if (tgid && task->tgid != tgid)
		return 0;
	if (!is_perf_file(file))
		return 0;

	event = BPF_CORE_READ(file, private_data);
	if (!event)
		return 0;
	attr = &event->attr;

	rec.tgid = task->tgid;
	rec.fd = ctx->fd;
	rec.pmu_type = BPF_CORE_READ(event, pmu, type);
	rec.attr_type = BPF_CORE_READ(attr, type);
	rec.config = BPF_CORE_READ(attr, config);
	rec.sample_period = BPF_CORE_READ(attr, sample_period);
	rec.sample_type = BPF_CORE_READ(attr, sample_type);
	rec.id = BPF_CORE_READ(event, id);
	rec.cpu = BPF_CORE_READ(event, cpu);
	rec.state = BPF_CORE_READ(event, state);
	target = BPF_CORE_READ(event, hw.target);
	rec.target_tid = target ? BPF_CORE_READ(target, pid) : -1;

	if (BPF_CORE_READ_BITFIELD_PROBED(attr, inherit))
		rec.flags |= RT_PERFFD_INHERIT;
	if (BPF_CORE_READ_BITFIELD_PROBED(attr, freq))
		rec.flags |= RT_PERFFD_FREQ;
	if (BPF_CORE_READ(event, prog))
		rec.flags |= RT_PERFFD_HAS_PROG;
	if (BPF_CORE_READ(event, parent))
		rec.flags |= RT_PERFFD_CHILD;

	pmu_name = BPF_CORE_READ(event, pmu, name);
	if (pmu_name)
		bpf_probe_read_kernel_str(rec.pmu_name, sizeof(rec.pmu_name), pmu_name);
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);

	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}

#endif
