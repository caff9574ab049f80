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
#define WINDOW_SLACK 256  /* the most a frame read asks for */
/* Sizes and offsets are masked with WINDOW_MASK after their checks: a
 * mask bounds a value for every verifier (6.1's loses the bounds that a
 * compare puts on a copy of the register), and buf holds any masked
 * offset plus a frame read. */
#define WINDOW_MASK  (2 * WINDOW_BYTES - 1)

struct deep_window {
	__u64 start; /* target address of buf[0] */
	__u64 len;   /* bytes valid; 0: empty */
	__u8 buf[WINDOW_MASK + 1 + WINDOW_SLACK];
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

/* How window_at reads on a miss. */
enum window_way {
	WINDOW_FRAME, /* the frame alone: frames are apart (CPython <= 3.10) */
	WINDOW_DOWN,  /* with the rest of its page below it: the next frame is below */
	WINDOW_UP,    /* with the rest of its page above it */
};

/*
 * @size (at most WINDOW_SLACK) bytes at target address @addr, through
 * window @w: from the bytes it holds, or else read anew as @way says, or
 * the frame alone when that read fails.  A window never reaches into a
 * page the frame is not on: a page next to it may be unmapped, and a
 * failed read costs a fault.  NULL when the frame cannot be read.  The
 * pointer may be read up to WINDOW_SLACK bytes on.
 */
static __always_inline const __u8 *window_at(struct deep_window *w, __u64 addr, __u64 size,
					     enum window_way way)
{
	__u64 off = addr - w->start, start = addr, len = size;

	if (!(w->len && addr >= w->start && off + size <= w->len)) {
		if (way == WINDOW_DOWN) {
			start = addr & ~(__u64)(WINDOW_BYTES - 1);
			len = addr + size - start;
		} else if (way == WINDOW_UP) {
			len = ((addr + size - 1) | (WINDOW_BYTES - 1)) + 1 - addr;
		}
		if (len > WINDOW_BYTES + WINDOW_SLACK || len < size ||
		    bpf_probe_read_user(w->buf, masked(len, WINDOW_MASK), (const void *)start)) {
			start = addr;
			len = size;
			if (len > WINDOW_SLACK ||
			    bpf_probe_read_user(w->buf, masked(len, WINDOW_MASK), (const void *)start)) {
				w->len = 0;
				return NULL;
			}
		}
		w->start = start;
		w->len = len;
		off = addr - start;
	}
	if (off >= WINDOW_BYTES)
		return NULL;
	return &w->buf[masked(off, WINDOW_MASK)];
}

/* Mixes frame @r (counted from the root) of @d into the running hash @h of
 * its chunk; the last frame of a chunk (leafmost) closes it. */
static __always_inline long hash_frame(struct deep_stack *d, __u64 *h, __u32 r)
{
	__u64 i, x;

	/* r counts from the root: frame n - 1 - r */
	i = (__u64)d->n - 1 - r;
	if (i >= RT_REC_MAX_DEPTH)
		return 1;
	bound_barrier(i);
	i &= RT_REC_MAX_DEPTH - 1; /* for the verifier, as WINDOW_MASK */
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
			d->ids[c & (RT_REC_MAX_CHUNKS - 1)] = x;
		*h = x; /* the next chunk's hash starts from its parent's id */
	}
	return 0;
}

/* Frames hashed per callback (a divisor of RT_REC_CHUNK_FRAMES): the buffer's
 * look-up and the callback are paid once for them. */
#define HASH_STEP_FRAMES 4

/* bpf_loop callback: frames @q * HASH_STEP_FRAMES on into the hash @arg. */
static long hash_frames(__u32 q, void *arg)
{
	struct deep_stack *d = deep_stack();

	if (!d)
		return 1;
	for (__u32 k = 0; k < HASH_STEP_FRAMES; k++)
		if (hash_frame(d, arg, q * HASH_STEP_FRAMES + k))
			return 1;
	return 0;
}

/* What send_chunk needs: the program's context (for the output helper)
 * and whose chunks these are. */
struct chunk_send {
	void *ctx;
	__u64 index;
	__u32 pid, generation, runtime;
};

/* Sends chunk @c (from the root) of this CPU's stack unless it was sent
 * for the process before.  A bpf_loop callback: verified once, where a
 * loop would be verified once per chunk and per caller. */
static long send_chunk(__u32 c, void *arg)
{
	struct chunk_send *cs = arg;
	struct deep_stack *d = deep_stack();
	struct rt_walker_seen_key key = { .pid = cs->pid, .generation = cs->generation };
	__u64 first, slot = c;
	__u32 one = 1;

	if (!d)
		return 1;
	if (slot >= RT_REC_MAX_CHUNKS || slot >= d->nr_chunks)
		return 1;
	bound_barrier(slot);
	slot &= RT_REC_MAX_CHUNKS - 1;
	key.code = d->ids[slot];
	if (bpf_map_lookup_elem(&chunks_seen, &key))
		return 0;
	/* chunk c from the root: leaf-first frames n - 256 (c + 1) ... */
	first = (__u64)d->n - (slot + 1) * RT_REC_CHUNK_FRAMES;
	if (first > RT_REC_MAX_DEPTH - RT_REC_CHUNK_FRAMES)
		return 1;
	bound_barrier(first);
	first &= RT_REC_MAX_DEPTH - 1;
	d->chunk.hdr.magic = RT_REC_MAGIC;
	d->chunk.hdr.version = RT_REC_VERSION;
	d->chunk.hdr.type = RT_REC_STACK_CHUNK;
	d->chunk.hdr.size = sizeof(d->chunk) + sizeof(d->chunk_frames);
	d->chunk.pid = cs->pid;
	d->chunk.runtime = cs->runtime;
	d->chunk.id = key.code;
	d->chunk.parent = slot ? d->ids[(slot - 1) & (RT_REC_MAX_CHUNKS - 1)] : 0;
	d->chunk.nr_frames = RT_REC_CHUNK_FRAMES;
	d->chunk.pad = 0;
	/* one helper call copies the chunk's 4 KiB */
	if (bpf_probe_read_kernel(d->chunk_frames, sizeof(d->chunk_frames), &d->frames[first]) ||
	    bpf_perf_event_output(cs->ctx, &channel, cs->index, &d->chunk,
				  sizeof(d->chunk) + sizeof(d->chunk_frames))) {
		count(RT_WALKER_STAT_CHUNK_LOST);
		return 0;
	}
	count(RT_WALKER_STAT_CHUNK_OK);
	bpf_map_update_elem(&chunks_seen, &key, &one, BPF_ANY);
	return 0;
}

/* Sends each chunk of this CPU's stack not yet sent for process
 * @pid/@generation to channel slot @index; the stack record that names
 * them follows.  A chunk whose record is lost is sent again by a later
 * sample; the decoder marks a stack whose chunk it lacks as truncated
 * there. */
static __always_inline void send_chunks(struct deep_stack *d, void *ctx, __u64 index, __u32 pid,
					__u32 generation, __u32 runtime)
{
	struct chunk_send cs = { .ctx = ctx, .index = index, .pid = pid,
				 .generation = generation, .runtime = runtime };
	__u64 h = 0;
	__u32 nr = d->nr_chunks;

	if (nr > RT_REC_MAX_CHUNKS)
		return;
	bpf_loop(nr * RT_REC_CHUNK_FRAMES / HASH_STEP_FRAMES, hash_frames, &h, 0);
	bpf_loop(nr, send_chunk, &cs, 0);
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
		send_chunks(d, ctx, index, pid, generation, runtime);
		if (m >= RT_REC_MAX_FRAMES || nr < 1 || nr > RT_REC_MAX_CHUNKS)
			return 1;
		bound_barrier(m);
		m &= RT_REC_MAX_FRAMES - 1;
		d->frames[m].code = d->ids[(nr - 1) & (RT_REC_MAX_CHUNKS - 1)];
		d->frames[m].lasti = nr;
		d->frames[m].flags = RT_REC_FRAME_CHUNK;
		rec_n = m + 1;
	}
	if (rec_n > RT_REC_MAX_FRAMES)
		rec_n = RT_REC_MAX_FRAMES;
	bound_barrier(rec_n);
	rec_n &= 2 * RT_REC_MAX_FRAMES - 1;
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

/* Writes a code record (or a piece of one) of @size bytes at @rec into
 * perf's channel @index; 0, or counted as lost when perf's buffer was full
 * (-ENOSPC) or as an output error when its channel is gone (the
 * recording's start or end), and nonzero. */
static __always_inline long code_output(void *ctx, __u64 index, void *rec, __u64 size)
{
	long err = bpf_perf_event_output(ctx, &channel, index, rec, size);

	if (err)
		count(err == -28 /* ENOSPC */ ? RT_WALKER_STAT_CODE_LOST : RT_WALKER_STAT_OUTPUT_ERROR);
	return err;
}

#endif
