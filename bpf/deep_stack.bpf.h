/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Deep stacks, included by walker.bpf.c (after its channel and stats maps):
 * the per-CPU buffer both walks (CPython, CRuby) write their frames into,
 * up to RT_REC_MAX_DEPTH of them, and the output of a walked stack.  A
 * stack of at most RT_REC_MAX_FRAMES frames goes out whole in one record; a
 * deeper one as its leafmost frames plus a reference to chunks of
 * RT_REC_CHUNK_FRAMES frames counted from the root (bpf/record.h), each
 * chunk sent once per process.  perf caps a sample at 64 KiB (a 16-bit
 * size), and more to the point a leaf that moves must not cost a record of
 * every frame down to the root.
 */
#ifndef RT_BPF_DEEP_STACK_BPF_H
#define RT_BPF_DEEP_STACK_BPF_H

/* Bytes read at once where frames lie next to each other in the target
 * (CPython 3.11+'s frames in their data stack chunk, CRuby's control
 * frames and their environments on the VM stack): one helper call then
 * serves the frames of many calls.  The helper call, not the bytes, is
 * what a frame costs. */
#define WINDOW_BYTES 4096 /* a page */
#define WINDOW_SLACK 256 /* a frame read at the window's last byte stays inside */

struct deep_window {
	__u64 start; /* target address of buf[0] */
	__u64 len;   /* bytes valid; 0: empty */
	__u8 buf[WINDOW_BYTES + WINDOW_SLACK];
};

/* One CPU's walked stack: the stack record's header right before the
 * frames, so that the record is written from here without a copy, and a
 * chunk record being built. */
struct deep_stack {
	struct rt_rec_stack stack;
	struct rt_rec_frame frames[RT_REC_MAX_DEPTH];
	struct rt_rec_chunk chunk;
	struct rt_rec_frame chunk_frames[RT_REC_CHUNK_FRAMES];
	__u64 ids[RT_REC_MAX_CHUNKS]; /* chunk ids, rootmost first */
	__u32 n, nr_chunks;           /* frames walked; whole chunks among them */
	struct deep_window win[2];    /* emptied by the walk that uses them */
};

/* Indexed by CPU: 64 KiB is above what a per-CPU map's value may be.  The
 * loader sets max_entries to the number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct deep_stack);
} deep_stacks SEC(".maps");

/* Chunks already sent, as seen is for code objects: key code = chunk id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rt_walker_seen_key);
	__type(value, __u32);
} chunks_seen SEC(".maps");

/* This CPU's stack buffer, or NULL. */
static __always_inline struct deep_stack *deep_stack(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&deep_stacks, &cpu);
}

/*
 * @size (at most WINDOW_SLACK) bytes at target address @addr, through
 * window @w: from the bytes it holds, or else read anew with the rest of
 * @addr's page below it when the walk goes @down in memory (the next frame
 * is below this one), else with the rest of the page above.  A window
 * never reaches into a page the frame is not on: a page next to it may be
 * unmapped, and a failed read costs a fault.  NULL when the read fails.
 * The pointer may be read up to WINDOW_SLACK bytes on.
 */
static __always_inline const __u8 *window_at(struct deep_window *w, __u64 addr, __u64 size,
					     bool down)
{
	__u64 off = addr - w->start, start, len;

	if (!(w->len && addr >= w->start && off + size <= w->len)) {
		if (down) {
			start = addr & ~(__u64)(WINDOW_BYTES - 1);
			len = addr + size - start;
		} else {
			start = addr;
			len = ((addr + size - 1) | (WINDOW_BYTES - 1)) + 1 - addr;
		}
		bound_barrier(len);
		if (len > WINDOW_BYTES + WINDOW_SLACK || len < size ||
		    bpf_probe_read_user(w->buf, len, (const void *)start)) {
			w->len = 0;
			return NULL;
		}
		w->start = start;
		w->len = len;
		off = addr - start;
	}
	bound_barrier(off);
	if (off >= WINDOW_BYTES)
		return NULL;
	return &w->buf[off];
}

/* Mixes frame @i (leaf-first index) into the running hash of its chunk;
 * the last frame of a chunk (leafmost) closes it. */
static long hash_frame(__u32 r, void *arg)
{
	__u64 *h = arg;
	struct deep_stack *d = deep_stack();
	__u64 i, x;

	if (!d)
		return 1;
	/* r counts from the root: frame n - 1 - r */
	i = (__u64)d->n - 1 - r;
	bound_barrier(i);
	if (i >= RT_REC_MAX_DEPTH)
		return 1;
	x = *h ^ d->frames[i].code;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= ((__u64)d->frames[i].lasti << 32 | d->frames[i].flags);
	x *= 0xbf58476d1ce4e5b9ull;
	*h = x ^ (x >> 29);
	if (r % RT_REC_CHUNK_FRAMES == RT_REC_CHUNK_FRAMES - 1) {
		__u64 c = r / RT_REC_CHUNK_FRAMES;

		x = *h ^ (*h >> 31);
		if (!x)
			x = 1; /* 0 is "no parent" */
		bound_barrier(c);
		if (c < RT_REC_MAX_CHUNKS)
			d->ids[c] = x;
		*h = x; /* the next chunk's hash starts from its parent's id */
	}
	return 0;
}

/* Sends each chunk of this CPU's stack not yet sent for process @pid/@generation to
 * channel slot @index; the stack record that names them follows.  A chunk
 * whose record is lost is sent again by a later sample; the decoder marks
 * a stack whose chunk it lacks as truncated there. */
static __noinline void send_chunks(void *ctx, __u64 index, __u32 pid, __u32 generation,
				   __u32 runtime)
{
	struct deep_stack *d = deep_stack();
	__u64 h = 0;
	__u32 nr, one = 1;

	if (!d)
		return;
	nr = d->nr_chunks;
	if (nr > RT_REC_MAX_CHUNKS)
		return;
	bpf_loop(nr * RT_REC_CHUNK_FRAMES, hash_frame, &h, 0);
	for (__u32 c = 0; c < RT_REC_MAX_CHUNKS; c++) {
		struct rt_walker_seen_key key = { .pid = pid, .generation = generation };
		__u64 first;
		__u32 slot = c; /* see the code loop in py_walker_sample */

		if (slot >= d->nr_chunks)
			break;
		bound_barrier(slot);
		if (slot >= RT_REC_MAX_CHUNKS)
			break;
		key.code = d->ids[slot];
		if (bpf_map_lookup_elem(&chunks_seen, &key))
			continue;
		/* chunk c from the root: leaf-first frames n - 256 (c + 1) ... */
		first = (__u64)d->n - (__u64)(slot + 1) * RT_REC_CHUNK_FRAMES;
		bound_barrier(first);
		if (first > RT_REC_MAX_DEPTH - RT_REC_CHUNK_FRAMES)
			break;
		d->chunk.hdr.magic = RT_REC_MAGIC;
		d->chunk.hdr.version = RT_REC_VERSION;
		d->chunk.hdr.type = RT_REC_STACK_CHUNK;
		d->chunk.hdr.size = sizeof(d->chunk) + sizeof(d->chunk_frames);
		d->chunk.pid = pid;
		d->chunk.runtime = runtime;
		d->chunk.id = key.code;
		d->chunk.parent = slot ? d->ids[(slot - 1) & (RT_REC_MAX_CHUNKS - 1)] : 0;
		d->chunk.nr_frames = RT_REC_CHUNK_FRAMES;
		d->chunk.pad = 0;
		/* one helper call copies the chunk's 4 KiB */
		if (bpf_probe_read_kernel(d->chunk_frames, sizeof(d->chunk_frames), &d->frames[first]) ||
		    bpf_perf_event_output(ctx, &channel, index, &d->chunk,
					  sizeof(d->chunk) + sizeof(d->chunk_frames))) {
			count(RT_WALKER_STAT_CHUNK_LOST);
			continue;
		}
		count(RT_WALKER_STAT_CHUNK_OK);
		bpf_map_update_elem(&chunks_seen, &key, &one, BPF_ANY);
	}
}

/* Writes the stack walked into @d (d->stack.nr_frames frames) to channel
 * slot @index, sending its chunks first when it is deeper than one record.
 * Returns what the perf_event program returns: 0 when written (the native
 * sample is dropped, the stack record stands for it), 1 when not. */
static __always_inline int output_stack(void *ctx, struct deep_stack *d, __u64 index, __u32 pid,
					__u32 tid, __u32 runtime, __u32 version, __u32 generation,
					__u32 flags)
{
	struct rt_rec_stack *stack = &d->stack;
	__u32 n = stack->nr_frames, rec_n;
	long err;

	if (n > RT_REC_MAX_DEPTH)
		n = RT_REC_MAX_DEPTH;
	rec_n = n;
	if (n > RT_REC_MAX_FRAMES) {
		__u32 nr = n / RT_REC_CHUNK_FRAMES, m = n % RT_REC_CHUNK_FRAMES;

		d->n = n;
		d->nr_chunks = nr;
		send_chunks(ctx, index, pid, generation, runtime);
		bound_barrier(m);
		if (m >= RT_REC_MAX_FRAMES || nr < 1 || nr > RT_REC_MAX_CHUNKS)
			return 1;
		d->frames[m].code = d->ids[(nr - 1) & (RT_REC_MAX_CHUNKS - 1)];
		d->frames[m].lasti = nr;
		d->frames[m].flags = RT_REC_FRAME_CHUNK;
		rec_n = m + 1;
	}
	if (rec_n > RT_REC_MAX_FRAMES)
		rec_n = RT_REC_MAX_FRAMES;
	stack->hdr.magic = RT_REC_MAGIC;
	stack->hdr.version = RT_REC_VERSION;
	stack->hdr.type = RT_REC_STACK;
	stack->hdr.size = sizeof(*stack) + rec_n * sizeof(struct rt_rec_frame);
	stack->pid = pid;
	stack->tid = tid;
	stack->runtime = runtime;
	stack->version = version;
	stack->nr_frames = rec_n;
	stack->flags = flags;
	stack->time = bpf_ktime_get_ns();
	err = bpf_perf_event_output(ctx, &channel, index, stack,
				    sizeof(*stack) + rec_n * sizeof(struct rt_rec_frame));
	if (err) {
		count(err == -28 /* ENOSPC */ ? RT_WALKER_STAT_STACK_LOST : RT_WALKER_STAT_OUTPUT_ERROR);
		return 1;
	}
	count(RT_WALKER_STAT_STACK_OK);
	count_n(RT_WALKER_STAT_FRAMES, n);
	return 0;
}

#endif
