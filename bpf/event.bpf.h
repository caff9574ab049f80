/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event mode (rt-bpf record -e EVENT), part of walker.bpf.c: the walk run
 * on every sample of a perf event that is not a sampling timer.  Linked,
 * through a BPF link, to one of perf's events for each tracepoint (a
 * tracepoint's programs run at every hit, whichever event they were linked
 * through) or probe; the kernel runs it before perf writes its sample, in
 * the context of the thread that hit the event.  It always returns 1:
 * perf writes every sample, so a counted tracepoint's counts stay exact
 * and its samples carry their callchains and raw fields; a walked thread's
 * sample gets its stack record just before it.  Software and hardware
 * events sample through perf_event programs and get rt_walker itself.
 */
#ifndef RT_BPF_EVENT_BPF_H
#define RT_BPF_EVENT_BPF_H

static __always_inline int event_sample(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	bool interp = false;

	walker_sample(ctx, id >> 32, (__u32)id, 0, &interp);
	return 1;
}

/* Tracepoints (syscalls:sys_enter_write, sched:sched_process_exec ...). */
SEC("?tracepoint")
int rt_event_tp(void *ctx)
{
	return event_sample(ctx);
}

/* Uprobes and USDT probes (perf probe's trace events, sdt_python:*):
 * the kernel takes kprobe-type programs for them. */
SEC("?kprobe")
int rt_event_probe(struct pt_regs *ctx)
{
	return event_sample(ctx);
}

#endif
