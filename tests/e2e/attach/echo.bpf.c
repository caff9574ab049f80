/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test program for the attach plumbing: on every perf sample it writes a
 * fixed record (magic, tid, pid) into perf's bpf-output channel and keeps
 * perf's native sample (returns 1).  Per-thread channels go through the
 * tid->slot map that rtbpf/perfsession.c fills.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bpf/record.h"
#include "tests/e2e/attach/echo.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} channel SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct rt_perf_channel_key);
	__type(value, __u32);
} channel_slots SEC(".maps");

/* [0] outputs written, [1] outputs failed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

const volatile bool system_wide = true;
const volatile __u32 filter_tgid = 0;

static void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &which);

	if (c)
		(*c)++;
}

SEC("perf_event")
int rt_echo(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct rt_echo_record rec = {
		.magic = RT_ECHO_MAGIC,
		.len = sizeof(rec),
		.tid = (__u32)pid_tgid,
		.tgid = pid_tgid >> 32,
	};
	__u64 index = BPF_F_CURRENT_CPU;
	long err;

	if (filter_tgid && rec.tgid != filter_tgid)
		return 1;
	if (!system_wide) {
		struct rt_perf_channel_key key = { rec.tid, bpf_get_smp_processor_id() };
		__u32 *slot = bpf_map_lookup_elem(&channel_slots, &key);

		if (!slot) {
			count(1);
			return 1;
		}
		index = *slot;
	}
	err = bpf_perf_event_output(ctx, &channel, index, &rec, sizeof(rec));
	count(err ? 1 : 0);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
