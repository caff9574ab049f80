/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process discovery from kernel events: sched_process_exec, _fork (new
 * processes only, not threads) and _exit (of the last thread) as BTF
 * tracepoints, and the mmap of a file named libpython* or libruby* at
 * offset 0 (the dynamic loader's first mapping of an interpreter library,
 * also through dlopen) from the syscalls tracepoints.  Each goes into a
 * ring buffer that rt-bpf's discovery thread reads; it inspects exactly
 * the processes these name, so its cost follows process starts, not the
 * number of processes on the host.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/discovery.h"
#include "bpf/perffd.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Threads inside an mmap of a candidate library, from enter to exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);  /* tid */
	__type(value, __u8);
} mapping SEC(".maps");

static __always_inline void emit(__u32 type, __u32 pid, __u32 ppid, __u64 start_ns)
{
	struct rt_discovery_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u32 key = RT_DISCOVERY_LOST_KEY;
		__u64 *n = bpf_map_lookup_elem(&lost, &key);

		if (n)
			(*n)++;
		return;
	}
	e->type = type;
	e->pid = pid;
	e->ppid = ppid;
	e->pad = 0;
	e->time_ns = bpf_ktime_get_boot_ns();
	e->start_ns = start_ns;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(rt_on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	/* after exec the task is its thread group's leader */
	emit(RT_DISCOVERY_EXEC, p->tgid, 0, p->start_boottime);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(rt_on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (child->pid != child->tgid)
		return 0; /* a new thread */
	emit(RT_DISCOVERY_FORK, child->tgid, parent->tgid, child->start_boottime);
	return 0;
}

/*
 * The tracepoint's group_dead argument is new (6.1 passes the task only, and
 * a program reading a second argument is refused there). do_exit() has
 * already counted this thread out of signal->live when the tracepoint fires,
 * so a zero count says the same on every kernel. Two threads exiting at once
 * may both see zero; a second exit of a pid is harmless to the tracker.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(rt_on_exit, struct task_struct *p)
{
	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		emit(RT_DISCOVERY_EXIT, p->tgid, 0, 0);
	return 0;
}

/* Whether @name starts with @prefix (both NUL-terminated, @prefix short). */
static __always_inline bool has_prefix(const char *name, const char *prefix, int len)
{
	for (int i = 0; i < len; i++)
		if (name[i] != prefix[i])
			return false;
	return true;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int rt_on_mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	const char py[] = RT_DISCOVERY_LIB_PYTHON, rb[] = RT_DISCOVERY_LIB_RUBY;
	long fd = (long)ctx->args[4];
	struct task_struct *task;
	struct file **fds, *file;
	const unsigned char *name;
	char base[16];
	__u32 tid;
	__u8 one = 1;

	/* anonymous mappings, and a library's later segments, end here */
	if (fd < 0 || ctx->args[5] != 0)
		return 0;
	task = bpf_get_current_task_btf();
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (!fds || fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return 0;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(base, sizeof(base), name) < 0)
		return 0;
	if (!has_prefix(base, py, sizeof(py) - 1) && !has_prefix(base, rb, sizeof(rb) - 1))
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&mapping, &tid, &one, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int rt_on_mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	if (!bpf_map_lookup_elem(&mapping, &tid))
		return 0;
	bpf_map_delete_elem(&mapping, &tid);
	/* the mapping exists now: inspecting the process finds it */
	if (ctx->ret >= 0)
		emit(RT_DISCOVERY_MMAP, (__u32)(id >> 32), 0, 0);
	return 0;
}

/* Thread group last written by rt_candidates: a process's vmas come one
 * after another, so each process is written once. */
__u32 last_tgid;

/*
 * The first full scan's filter: every process that maps a file whose name
 * starts with libpython or libruby (the names the mmap events report),
 * found by walking the kernel's own vma lists instead of formatting and
 * parsing every /proc/PID/maps; writes their pids (u32) to the iterator.
 */
SEC("iter/task_vma")
int rt_candidates(struct bpf_iter__task_vma *ctx)
{
	const char py[] = RT_DISCOVERY_LIB_PYTHON, rb[] = RT_DISCOVERY_LIB_RUBY;
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	const unsigned char *name;
	struct file *file;
	char base[16];
	__u32 tgid;

	if (!vma || !task)
		return 0;
	tgid = task->tgid;
	file = vma->vm_file;
	/* a library's first mapping, at offset 0, is the one to look at (as
	 * for the mmap events): one name read per file, not per segment */
	if (!file || tgid == last_tgid || vma->vm_pgoff)
		return 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(base, sizeof(base), name) < 0)
		return 0;
	if (!has_prefix(base, py, sizeof(py) - 1) && !has_prefix(base, rb, sizeof(rb) - 1))
		return 0;
	last_tgid = tgid;
	bpf_seq_write(ctx->meta->seq, &tgid, sizeof(tgid));
	return 0;
}

#define RT_PF_KTHREAD 0x00200000 /* PF_KTHREAD: a #define, not in BTF */

/*
 * The first full scan's process table: every process's parent, start and
 * executable (by its inode's address, which equal files share), one record
 * per thread group leader.  Replaces an open, read and close of
 * /proc/PID/stat and a stat() of /proc/PID/exe per process (a fifth of
 * rt-bpf's start-up CPU with 2,000 processes).
 */
SEC("iter/task")
int rt_processes(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct rt_discovery_process p = {};

	if (!task || task->pid != task->tgid)
		return 0;
	p.pid = task->tgid;
	p.ppid = BPF_CORE_READ(task, real_parent, tgid);
	p.start_ns = task->start_boottime;
	/* a kernel thread may borrow a process's mm: it has no executable */
	if (!(task->flags & RT_PF_KTHREAD))
		p.exe = (__u64)BPF_CORE_READ(task, mm, exe_file, f_inode);
	bpf_seq_write(ctx->meta->seq, &p, sizeof(p));
	return 0;
}

/* The perf fd iterator (bpf/perffd.bpf.h) over every process: rt-bpf
 * record finds perf's events with it instead of loading bpf/perffd.bpf.c. */
SEC("iter/task_file")
int rt_perf_files(struct bpf_iter__task_file *ctx)
{
	return perffd_dump(ctx, 0);
}
