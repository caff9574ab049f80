/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The maps every kernel program here declares alike, and the counter
 * helpers on them, written once (walker.bpf.c, async.bpf.c, trace.bpf.c).
 * The includer provides vmlinux.h and bpf_helpers.h.  Each macro declares
 * a map of a fixed name, so that the skeletons and rt-bpf's loaders keep
 * finding them as before.
 */
#ifndef RT_BPF_MAPS_BPF_H
#define RT_BPF_MAPS_BPF_H

/* perf's bpf-output channel: a perf event per CPU (or per thread, through
 * the channel_slots map), its fds put in by rt-bpf. */
#define RT_BPF_CHANNEL_MAP                                    \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);  \
		__uint(key_size, sizeof(__u32));              \
		__uint(value_size, sizeof(__u32));            \
	} channel SEC(".maps")

/* Per-thread channels (perf -p/--): the channel slot of each thread
 * (struct rt_perf_channel_key, bpf/record.h), sized by the loader. */
#define RT_BPF_CHANNEL_SLOTS_MAP                              \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_HASH);              \
		__uint(max_entries, 1); /* resized by the loader */ \
		__type(key, struct rt_perf_channel_key);      \
		__type(value, __u32);                         \
	} channel_slots SEC(".maps")

/* @nr per-CPU counters, the map stats that rt-bpf sums and prints, and
 * count_n() and count() to add to one. */
#define RT_BPF_STATS(nr)                                                \
	struct {                                                        \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                \
		__uint(max_entries, nr);                                \
		__type(key, __u32);                                     \
		__type(value, __u64);                                   \
	} stats SEC(".maps");                                           \
									\
	static __always_inline void count_n(__u32 stat, __u64 n)        \
	{                                                               \
		__u64 *v = bpf_map_lookup_elem(&stats, &stat);          \
									\
		if (v)                                                  \
			*v += n;                                        \
	}                                                               \
									\
	static __always_inline void count(__u32 stat)                   \
	{                                                               \
		count_n(stat, 1);                                       \
	}

/* @nr per-CPU values of @value_type in the map scratch: room for what a BPF
 * stack (512 bytes) cannot hold. */
#define RT_BPF_SCRATCH(value_type, nr)                              \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);      \
		__uint(max_entries, nr);                      \
		__type(key, __u32);                           \
		__type(value, value_type);                    \
	} scratch SEC(".maps")

#endif
