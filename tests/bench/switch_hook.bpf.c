// SPDX-License-Identifier: GPL-2.0-only
/*
 * The same filter on three hooks of the scheduler's switch, for
 * tests/bench/switch_hook.sh: what rt_offcpu (bpf/offcpu.bpf.h) does for
 * a switch between threads it does not walk (is the thread switched in
 * one it noted, in an array slot; is the thread leaving in a walked
 * process, a hash look-up), as a program on perf's sched_switch tracepoint
 * event (today's hook), as a BTF raw tracepoint and as a raw tracepoint.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} hook_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u32);
} hook_slots SEC(".maps");

static __always_inline int hook_filter(__u32 next)
{
	__u32 key = next & 8191, pid = bpf_get_current_pid_tgid() >> 32;
	__u32 *slot = bpf_map_lookup_elem(&hook_slots, &key);

	if (slot && *slot == next)
		*slot = 0;
	return bpf_map_lookup_elem(&hook_pids, &pid) != NULL;
}

/* sched_switch's next_pid in perf's raw record (tracefs format) */
#define HOOK_NEXT_PID 56

SEC("?tracepoint")
int hook_perf(void *ctx)
{
	return hook_filter((__u32)*(__s32 *)((char *)ctx + HOOK_NEXT_PID));
}

SEC("?tp_btf/sched_switch")
int BPF_PROG(hook_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return hook_filter(next->pid);
}

SEC("?raw_tp/sched_switch")
int BPF_PROG(hook_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return hook_filter(BPF_CORE_READ(next, pid));
}

char LICENSE[] SEC("license") = "GPL";
