/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython stack walker, run on every perf sample of a configured process.
 * It finds the sampled thread's PyThreadState, walks its chain of
 * frames (PyFrameObject up to 3.10, _PyInterpreterFrame from 3.11: the
 * offsets and the frame model come from the per-process configuration)
 * and writes one stack record (bpf/record.h) into perf's
 * bpf-output channel; before that, one code record for each code object
 * whose names it has not yet written successfully.  When perf records the
 * callchain of the bpf-output sample too (the channel has -g), the native
 * sample is dropped once the stack record is written (return 0); otherwise
 * it is kept.  With keep_native (a channel with call-graph=no, as rt-bpf
 * record opens it) every native sample is kept, and rtmerge pairs it with
 * the stack record written just before it on the same CPU.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "bpf/record.h"
#include "bpf/walker.h"
#include "bpf/maps.bpf.h"
#include "bpf/py_tstate.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_NEW_CODES  16  /* code records per sample: bounds the time one sample costs */

_Static_assert(RT_REC_STR_MAX % 4 == 0, "string bound holds whole characters"); /* PyThreadState list entries searched for the sampled tid */

/* Set by the loader: perf records per thread (-p/--), channels are found
 * through channel_slots instead of by cpu. */
const volatile __u32 per_thread_channels = 0;
/* Set by the loader when the channel's samples carry no callchain: perf
 * keeps every native sample (perf report and perf script see the whole
 * profile) and the stack record only adds the interpreter frames. */
const volatile __u32 keep_native = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct rt_walker_config);
} pids SEC(".maps");

RT_BPF_CHANNEL_MAP;

RT_BPF_CHANNEL_SLOTS_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rt_walker_seen_key);
	__type(value, __u32); /* identity tag sent */
} seen SEC(".maps");

RT_BPF_STATS(RT_WALKER_STAT_MAX)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_WALKER_TIME_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} run_time SEC(".maps");

struct new_code {
	__u64 code;
	__u64 name;
	__u32 tag;
	__u32 firstlineno;
};

/* One walk's state (py_walk_step).  It lives in the scratch map, not on
 * py_walker_sample's stack: with the walk step a global function, the
 * chain rt_walker -> py_walker_sample -> walk_frame -> py_walk_step passed
 * the 512 bytes that kernels up to 6.1 allow a call chain. */
/* Code objects a walk has met, by address, with their tags: a frame holds
 * its code object, so within one walk an address met again is the same
 * object, and its names need not be read again (a framework's layers
 * repeat down a deep stack; reading them cost a 200-deep stack of ten
 * functions in turn 53 us a sample against 9 us for one function).  Not
 * kept from one walk to the next: a code object freed in between may be
 * followed by another at its address.  Four ways a set, filled in order
 * and never replaced: a ring of functions longer than a set's ways then
 * keeps four of them rather than evicting each before it comes round again
 * (a direct-mapped or two-way least-lately-used table lost whole rings to
 * three addresses of one set, depending on where the allocator put them). */
#define WALK_CODE_WAYS  4
#define WALK_CODE_SLOTS 64 /* WALK_CODE_WAYS ways of WALK_CODE_SLOTS / WALK_CODE_WAYS sets */

/* The first slot of @code's set. */
static __always_inline __u32 walk_code_set(__u64 code)
{
	return ((__u32)((code >> 4) ^ (code >> 11)) &
		(WALK_CODE_SLOTS / WALK_CODE_WAYS - 1)) * WALK_CODE_WAYS;
}

/* A code object (CPython), an instruction sequence or a C method's entry
 * (CRuby) a walk met; entries of other walks (another gen) are free. */
struct walk_code {
	__u64 addr;
	__u64 encoded; /* CRuby iseq: its encoded instructions */
	__u32 tag, gen;
};

/* The entry of @codes (WALK_CODE_SLOTS) holding @addr in walk @gen (*@hit
 * set), or else a free entry of its set for the caller to fill, or NULL when
 * the set is full. */
static __always_inline struct walk_code *walk_code_find(struct walk_code *codes, __u64 addr,
							__u32 gen, bool *hit)
{
	__u32 s = walk_code_set(addr);
	struct walk_code *free = NULL;

	*hit = false;
	for (__u32 k = 0; k < WALK_CODE_WAYS; k++) {
		struct walk_code *e = &codes[(s + k) & (WALK_CODE_SLOTS - 1)];

		if (e->gen == gen && e->addr == addr) {
			*hit = true;
			return e;
		}
		if (e->gen != gen && !free)
			free = e;
	}
	return free;
}

/* Fills entry @e (NULL: none) for @addr in walk @gen. */
static __always_inline void walk_code_put(struct walk_code *e, __u64 addr, __u32 gen, __u32 tag,
					  __u64 encoded)
{
	if (!e)
		return;
	e->addr = addr;
	e->gen = gen;
	e->tag = tag;
	e->encoded = encoded;
}

struct walk {
	struct rt_walker_offsets off;
	__u64 frame;
	__u64 last_code;
	__u32 last_tag;
	__u32 pid;
	__u32 generation;
	__u64 code_type;
	__u64 sig; /* offcpu_py_sig's hash */
};

struct scratch {
	struct rt_rec_code code;
	__u64 linetable_data; /* where code's line table is in the target */
	/* lookup keys kept here, off the stack the off-CPU and event
	 * programs' call chains have little of (zero_key stays 0) */
	struct rt_walker_seen_key seen_key;
	__u32 zero_key;
	/* The walk's counts and flags (struct walk): kept in map memory, whose
	 * values the verifier does not follow, where a stack slot would make
	 * it check the walk step and all that follows the walk once per
	 * value (most of the instructions it went through for the walker). */
	__u32 n_new, flags, deferred;
	/* for py_send_code: the channel slot and the stack's flags (its pid and
	 * generation are in seen_key) */
	__u64 index;
	__u32 stack_flags;
	struct walk walk;
	/* code objects the walk met (walk_code_find); a walk's entries are
	 * those of its gen, so that none need clearing */
	struct walk_code codes[WALK_CODE_SLOTS];
	__u32 walk_gen;
};

/* Code objects of the current sample still to be sent.  A map rather than
 * an array in scratch: indexing by key keeps the count out of the
 * verifier's bounds tracking, so the walk callback converges quickly. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_NEW_CODES);
	__type(key, __u32);
	__type(value, struct new_code);
} new_codes SEC(".maps");

RT_BPF_SCRATCH(struct scratch, 1);


/* The channel slot for a sample of thread @tid: the current cpu's, or the
 * one perf opened for the thread when it records per thread.  Returns 0,
 * or -1 (counted) when there is none. */
static __always_inline int channel_index(__u32 tid, __u64 *index)
{
	*index = BPF_F_CURRENT_CPU;
	if (per_thread_channels) {
		struct rt_perf_channel_key key = { .tid = tid, .cpu = bpf_get_smp_processor_id() };
		__u32 *slot = bpf_map_lookup_elem(&channel_slots, &key);

		if (!slot) {
			count(RT_WALKER_STAT_NO_CHANNEL);
			return -1;
		}
		*index = *slot;
	}
	return 0;
}

/* Counts how a walk ended: its RT_REC_STACK_* @flags, code records
 * @deferred to a later sample. */
static __always_inline void count_walk(__u32 flags, __u32 deferred)
{
	if (flags & RT_REC_STACK_READ_FAULT)
		count(RT_WALKER_STAT_READ_FAULT);
	if (flags & RT_REC_STACK_TRUNCATED)
		count(RT_WALKER_STAT_TRUNCATED);
	if (deferred)
		count(RT_WALKER_STAT_CODE_DEFERRED);
}

#include "bpf/deep_stack.bpf.h"


/* Frame w->frame into slot @idx of this CPU's stack buffer @d; 1 when the
 * walk ends (no frame left, a fault, the buffer full).  A global function
 * too: verified once, not once per frame of a step. */
__noinline int py_walk_one(struct walk *w, struct scratch *sc, struct deep_stack *d, __u64 idx)
{
	__u64 size;
	const __u8 *buf;
	__u64 code = 0, previous = 0;
	__u8 is_entry = 0, owner = 0;
	__u32 flags = 0, tag = 0;
	__s64 lasti;
	struct walk_code *e = NULL;
	bool hit;

	if (!w || !sc || !d)
		return 1;
	bound_barrier(idx);
	if (!w->frame)
		return 1;
	/* The loop index, not a count kept in *w, places the frame: the
	 * verifier then need not follow every count value. */
	if (idx >= RT_REC_MAX_DEPTH) {
		sc->flags |= RT_REC_STACK_TRUNCATED;
		return 1;
	}
	/* One read per frame: the helper call, not the bytes, is the cost. */
	size = w->off.frame_read;
	bound_barrier(size);
	if (size > RT_WALKER_FRAME_READ || size < 8)
		return 1;
	/* 3.11+: the caller's frame lies below in the same data stack chunk */
	buf = window_at(&d->win[0], w->frame, size,
			w->off.frame_instr_ptr != RT_WALKER_NONE ? WINDOW_DOWN : WINDOW_FRAME);
	if (!buf) {
		sc->flags |= RT_REC_STACK_READ_FAULT;
		return 1;
	}
	py_frame_fields(&w->off, buf, &code, &previous, &lasti, &is_entry, &owner);
	if (!code) {
		sc->flags |= RT_REC_STACK_READ_FAULT;
		return 1;
	}
	if (w->off.frame_owner != RT_WALKER_NONE && owner >= w->off.frame_owner_cstack) {
		/* 3.12+ entry shim: marks where a C caller entered the eval loop */
		flags |= RT_REC_FRAME_SHIM;
		code = 0;
		lasti = 0;
	} else if (code == w->last_code) {
		tag = w->last_tag; /* recursion: the code object was just read */
	} else if ((e = walk_code_find(sc->codes, code, sc->walk_gen, &hit)) && hit) {
		tag = e->tag; /* met further down this walk */
		w->last_code = code;
		w->last_tag = tag;
	} else {
		__u32 firstlineno = 0;
		/* co_filename and co_name, next to each other in every CPython
		 * (rt_pyproc__walker_config checks): one read for both */
		__u64 names[2] = {}, name, type = 0;
		struct rt_walker_seen_key key = { .pid = w->pid, .generation = w->generation,
						  .code = code };
		__u32 *sent;

		/* 3.13's f_executable need not be a code object */
		if (w->code_type && (read_ptr(&type, code + w->off.object_type) || type != w->code_type)) {
			flags |= RT_REC_FRAME_SHIM;
			code = 0;
			lasti = 0;
			goto store;
		}
		if (bpf_probe_read_user(&firstlineno, sizeof(firstlineno),
					(const void *)(code + w->off.code_firstlineno)) ||
		    bpf_probe_read_user(names, sizeof(names),
					(const void *)(code + w->off.code_filename))) {
			sc->flags |= RT_REC_STACK_READ_FAULT;
			return 1;
		}
		name = names[1];
		tag = rt_rec_code_tag(code, firstlineno, name, names[0]);
		w->last_code = code;
		w->last_tag = tag;
		walk_code_put(e, code, sc->walk_gen, tag, 0);
		sent = bpf_map_lookup_elem(&seen, &key);
		if (!sent || *sent != tag) {
			__u32 k = sc->n_new;
			struct new_code *q = bpf_map_lookup_elem(&new_codes, &k);

			if (q) {
				q->code = code;
				q->name = name;
				q->tag = tag;
				q->firstlineno = firstlineno;
				sc->n_new = k + 1;
			} else {
				sc->deferred++;
			}
		}
	}
	if (is_entry)
		flags |= RT_REC_FRAME_ENTRY;
	if (w->off.frame_owner != RT_WALKER_NONE && owner == w->off.frame_owner_generator)
		flags |= RT_REC_FRAME_GENERATOR;
store:
	bound_barrier(idx);
	if (idx >= RT_REC_MAX_DEPTH)
		return 1;
	bound_barrier(idx);
	idx &= RT_REC_MAX_DEPTH - 1;
	d->frames[idx].code = code;
	d->frames[idx].lasti = (__u32)lasti;
	d->frames[idx].flags = flags | tag << RT_REC_FRAME_TAG_SHIFT;
	/* The count goes to map memory, not into *w: the record size derived
	 * from it must be bounded, and a bound on a value the callback kept in
	 * *w would make the verifier tell apart every iteration's state. */
	d->stack.nr_frames = idx + 1;
	w->frame = previous;
	return 0;
}

/* Frames walked per step: the step's look-ups (the scratch map, this CPU's
 * stack buffer) and the loop's callback are paid once for them. */
#define WALK_STEP_FRAMES 4

/*
 * One step of the walk: WALK_STEP_FRAMES frames from w->frame into slots
 * @i * WALK_STEP_FRAMES on.  A global function, so the verifier checks it
 * once on its own, for any *w, instead of once per state the loop's
 * callback is entered with (the walk step was a quarter of all the
 * instructions it went through for the walker, and that is CPU every
 * start of rt-bpf pays).  *w must hold scalars only (kernels up to 6.1
 * refuse a global function's pointer to a struct with pointers in it):
 * the scratch map's value is looked up here.
 */
__noinline int py_walk_step(struct walk *w, __u32 i)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct deep_stack *d = deep_stack();

	if (!w || !sc || !d)
		return 1;
	for (__u32 k = 0; k < WALK_STEP_FRAMES; k++)
		if (py_walk_one(w, sc, d, (__u64)i * WALK_STEP_FRAMES + k))
			return 1;
	return 0;
}

static long walk_frame(__u32 i, void *arg)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);

	return !sc || py_walk_step(&sc->walk, i) ? 1 : 0;
}

/* str objects (3.3+): the state bit field keeps kind in bits 2-4, compact
 * in bit 5, ascii in bit 6.  Non-compact (legacy) strings are not read.
 * 2.7's str is a byte string (unicode_length none): sent as Latin-1. */
static __always_inline void read_string(const struct rt_walker_offsets *off, __u64 obj,
					struct rt_rec_string *s)
{
	__u32 state = 0, kind;
	__s64 length = 0;
	__u64 data, n; /* 64-bit: a 32-bit copy would be what gets checked */

	s->length = 0;
	s->kind = 0;
	s->nbytes = 0;
	s->ascii = 0;
	if (!obj)
		return;
	if (off->unicode_length == RT_WALKER_NONE) {
		if (bpf_probe_read_user(&length, sizeof(length), (const void *)(obj + off->bytes_size)))
			return;
		state = 1 << 2 | 1 << 5; /* kind 1, compact, not ascii */
		data = obj + off->bytes_data;
	} else {
		if (bpf_probe_read_user(&state, sizeof(state), (const void *)(obj + off->unicode_state)) ||
		    bpf_probe_read_user(&length, sizeof(length), (const void *)(obj + off->unicode_length)))
			return;
		data = obj + (((state >> 6) & 1) ? off->unicode_ascii_data : off->unicode_compact_data);
	}
	kind = (state >> 2) & 7;
	if (!((state >> 5) & 1) || (kind != 1 && kind != 2 && kind != 4) || length < 0 ||
	    length > (1 << 24))
		return;
	n = (__u64)length * kind;
	if (n > RT_REC_STR_MAX)
		n = RT_REC_STR_MAX; /* a multiple of every kind */
	bound_barrier(n);
	if (n > RT_REC_STR_MAX)
		return;
	if (bpf_probe_read_user(s->data, n, (const void *)data))
		return;
	s->length = (__u32)length;
	s->kind = kind;
	s->nbytes = (__u32)n;
	s->ascii = (state >> 6) & 1;
}

/* Fills the code record of queued code object @i in the scratch map;
 * the caller writes it (bpf_perf_event_output needs the program's context,
 * which a global function cannot take from every program type on 6.1).  A
 * global (separately verified) function: inlined sixteen times into the
 * program, its branches would exceed the verifier's limits.  Returns 0 or
 * -EINVAL. */
__noinline int build_code(__u32 pid, __u32 i)
{
	const struct rt_walker_config *cfg = bpf_map_lookup_elem(&pids, &pid);
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct new_code *nc = bpf_map_lookup_elem(&new_codes, &i);

	if (!cfg || !sc || !nc)
		return -22;
	const struct rt_walker_offsets *off = &cfg->off;
	struct rt_rec_code *rec = &sc->code;
	__u64 qualname = 0, filename = 0, linetable = 0;
	__s64 lt_size = 0;
	__u64 n = 0;
	__s32 firsttraceable = 0;

	rec->hdr.magic = RT_REC_MAGIC;
	rec->hdr.version = RT_REC_VERSION;
	rec->hdr.type = RT_REC_CODE;
	rec->hdr.size = sizeof(*rec);
	rec->pid = pid;
	rec->tag = nc->tag;
	rec->code = nc->code;
	rec->runtime = cfg->runtime;
	rec->version = cfg->version;
	rec->firstlineno = nc->firstlineno;
	if (off->code_firsttraceable != RT_WALKER_NONE)
		bpf_probe_read_user(&firsttraceable, sizeof(firsttraceable),
				    (const void *)(nc->code + off->code_firsttraceable));
	rec->firsttraceable = firsttraceable > 0 ? firsttraceable : 0;
	if (off->code_qualname != RT_WALKER_NONE)
		read_ptr(&qualname, nc->code + off->code_qualname);
	read_ptr(&filename, nc->code + off->code_filename);
	read_ptr(&linetable, nc->code + off->code_linetable);
	read_string(off, nc->name, &rec->name);
	read_string(off, qualname, &rec->qualname);
	read_string(off, filename, &rec->filename);
	rec->linetable_length = 0;
	rec->linetable_nbytes = 0;
	sc->linetable_data = linetable + off->bytes_data;
	if (linetable &&
	    !bpf_probe_read_user(&lt_size, sizeof(lt_size), (const void *)(linetable + off->bytes_size)) &&
	    lt_size > 0 && lt_size < (1 << 24)) {
		n = lt_size > RT_REC_LINETABLE_MAX ? RT_REC_LINETABLE_MAX : (__u64)lt_size;
		bound_barrier(n);
		if (n <= RT_REC_LINETABLE_MAX &&
		    !bpf_probe_read_user(rec->linetable, n, (const void *)(linetable + off->bytes_data))) {
			rec->linetable_length = (__u32)lt_size;
			rec->linetable_nbytes = (__u32)n;
		}
	}
	return 0;
}

/* Address of the GIL of the process configured by @cfg, 0 when it has none
 * located or it cannot be read (yet: 3.12+ point to it once the interpreter
 * is initialised). */
static __always_inline __u64 gil_address(const struct rt_walker_config *cfg)
{
	__u64 interp = 0, gil = 0;

	if (!cfg->gil_addr || cfg->gil_ptr_off == RT_WALKER_NONE)
		return cfg->gil_addr;
	if (read_ptr(&interp, cfg->gil_addr) || !interp ||
	    read_ptr(&gil, interp + (cfg->gil_ptr_off & 0xffffff)))
		return 0;
	return gil;
}

/* Tables to send in pieces (RT_REC_CODE_PIECE), queued by the walks as
 * they write code records and sent by the perf_event program once the walk
 * returned: the loop's callback below the walks' frames passed the 512-byte
 * stack limit of the off-CPU and event programs, whose walks queue nothing
 * (a table first met off the CPU keeps only the record's part). */
#define PIECES_PENDING_MAX 32

struct piece_pending {
	__u64 code, src, index;
	__u32 pid, tag, runtime, field, sent, total;
};

struct piece_state {
	struct rt_rec_code_piece rec;
	struct piece_pending pending[PIECES_PENDING_MAX];
	__u32 n_pending, cur; /* queued; the one being sent */
	__u32 off, started;   /* in the current table */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct piece_state);
} piece_buf SEC(".maps");

/* Queues bytes @sent to @total of table @field (at @src in the target) of
 * the code record just written (@pid, @tag, @code of @runtime, channel
 * slot @index).  A full queue drops the table's rest. */
static __always_inline void queue_pieces(const __u32 *zero, __u64 index, __u32 pid, __u32 tag,
					 __u64 code, __u32 runtime, __u32 field, __u64 src,
					 __u32 sent, __u32 total)
{
	struct piece_state *st;
	struct piece_pending *e;
	__u32 k;

	if (!sent || sent >= total || !src)
		return;
	/* @zero: a key in a map value, off the walks' stack frames */
	st = bpf_map_lookup_elem(&piece_buf, zero);
	if (!st)
		return;
	k = st->n_pending;
	if (k >= PIECES_PENDING_MAX)
		return;
	e = &st->pending[k & (PIECES_PENDING_MAX - 1)];
	e->code = code;
	e->src = src;
	e->index = index;
	e->pid = pid;
	e->tag = tag;
	e->runtime = runtime;
	e->field = field;
	e->sent = sent;
	e->total = total - sent > RT_REC_PIECES_MAX * RT_REC_PIECE_MAX ?
		   sent + RT_REC_PIECES_MAX * RT_REC_PIECE_MAX : total;
	st->n_pending = k + 1;
}

/* Queues the rest of the line table of the code record in @sc (see
 * queue_pieces).  Out of line: inlined, its locals passed the event
 * programs' stack limit. */
static __noinline void queue_py_pieces(__u64 index, struct scratch *sc)
{
	queue_pieces(&sc->zero_key, index, sc->code.pid, sc->code.tag, sc->code.code,
		     sc->code.runtime, RT_REC_PIECE_PY_LINETABLE, sc->linetable_data,
		     sc->code.linetable_nbytes, sc->code.linetable_length);
}

/* Empties the queue, sent or not: a walk starts with none pending. */
static __always_inline void pieces_reset(void)
{
	__u32 zero = 0;
	struct piece_state *st = bpf_map_lookup_elem(&piece_buf, &zero);

	if (st) {
		st->n_pending = 0;
		st->cur = 0;
		st->started = 0;
	}
}

/* bpf_loop callback: the next piece of the queued tables.  @arg points to
 * the program's context. */
static int send_piece(__u32 k, void *arg)
{
	__u32 zero = 0, off;
	struct piece_state *st = bpf_map_lookup_elem(&piece_buf, &zero);
	struct piece_pending *e;
	__u64 n;

	if (!st || st->cur >= st->n_pending || st->cur >= PIECES_PENDING_MAX)
		return 1;
	e = &st->pending[st->cur & (PIECES_PENDING_MAX - 1)];
	if (!st->started) {
		st->started = 1;
		st->off = e->sent;
	}
	off = st->off;
	n = off < e->total ? e->total - off : 0;
	if (n > RT_REC_PIECE_MAX)
		n = RT_REC_PIECE_MAX;
	bound_barrier(n);
	/* done, or unreadable (the rest of the table stays unknown): the next */
	if (!n || n > RT_REC_PIECE_MAX ||
	    bpf_probe_read_user(st->rec.data, n, (const void *)(e->src + off))) {
		st->cur++;
		st->started = 0;
		return 0;
	}
	st->rec.hdr.magic = RT_REC_MAGIC;
	st->rec.hdr.version = RT_REC_VERSION;
	st->rec.hdr.type = RT_REC_CODE_PIECE;
	st->rec.hdr.size = sizeof(st->rec);
	st->rec.pid = e->pid;
	st->rec.tag = e->tag;
	st->rec.code = e->code;
	st->rec.runtime = e->runtime;
	st->rec.field = e->field;
	st->rec.offset = off;
	st->rec.nbytes = (__u32)n;
	if (code_output(*(void **)arg, e->index, &st->rec, sizeof(st->rec))) {
		st->cur++;
		st->started = 0;
		return 0;
	}
	st->off = off + (__u32)n;
	return 0;
}

/* Sends what the walk queued (see queue_pieces). */
static __always_inline void send_pieces(void *ctx)
{
	bpf_loop(PIECES_PENDING_MAX * (RT_REC_PIECES_MAX + 1), send_piece, &ctx, 0);
	pieces_reset();
}

/* true when thread state @ts holds the GIL of its process (the --gil view):
 * the GIL is locked and @ts took it last.  Only for versions whose GIL the
 * loader located (rt_walker_config.gil_addr). */
static __always_inline bool gil_held(const struct rt_walker_config *cfg, __u64 ts)
{
	__u64 holder = 0, gil = gil_address(cfg);
	__s32 locked = 0;

	if (!gil)
		return false;
	if (read_ptr(&holder, gil + cfg->gil_last_holder) ||
	    bpf_probe_read_user(&locked, sizeof(locked), (const void *)(gil + cfg->gil_locked)))
		return false;
	return locked && holder == ts;
}

/* bpf_loop callback: writes the code record of queued code object @i
 * unless it was sent before; @arg points to the program's context, the
 * rest is in the scratch map (py_walker_sample).  A code object counts as
 * sent only once its record was written, so a lost record is sent again.
 * A callback is verified once where a bounded loop is verified once per
 * step; its frame counts in the call chain's 512 bytes on 6.1 and 6.12,
 * hence no more than the context's pointer on the caller's stack. */
static long py_send_code(__u32 i, void *arg)
{
	__u32 zero = 0, slot = i;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct new_code *nc;
	__u32 *sent;

	if (!sc || i >= sc->n_new)
		return 1;
	nc = bpf_map_lookup_elem(&new_codes, &slot);
	if (!nc)
		return 1;
	/* the same code object can be queued twice (a -> b -> a) */
	sc->seen_key.code = nc->code;
	sent = bpf_map_lookup_elem(&seen, &sc->seen_key);
	if (sent && *sent == nc->tag)
		return 0;
	if (build_code(sc->seen_key.pid, i)) {
		count(RT_WALKER_STAT_CODE_LOST);
		return 0;
	}
	if (code_output(*(void **)arg, sc->index, &sc->code, sizeof(sc->code)))
		return 0;
	if (!(sc->stack_flags & RT_REC_STACK_OFFCPU))
		queue_py_pieces(sc->index, sc);
	count(RT_WALKER_STAT_CODE_OK);
	bpf_map_update_elem(&seen, &sc->seen_key, &nc->tag, BPF_ANY);
	return 0;
}

/* CRuby: its own maps and walk, selected by the process map it is in. */
#include "bpf/ruby_walk.bpf.h"

/* Handles a sample of a configured CPython process.  Out of line, as is
 * rb_walker_sample: inlined, both walks' locals share one frame, and with a
 * callee's frame that passes the 512-byte stack limit on kernels before 6.x,
 * which add up the frames of a call chain more strictly. */
static __noinline int py_walker_sample(void *ctx, const struct rt_walker_config *cfg, __u32 pid,
				       __u32 tid, __u32 stack_flags)
{
	struct scratch *sc;
	struct deep_stack *d;
	struct walk *w;
	__u64 index, ts, frame = 0;
	__u32 zero = 0;
	bool fault;

	count(RT_WALKER_STAT_SAMPLES);
	if (channel_index(tid, &index))
		return 1;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	d = deep_stack();
	if (!sc || !d)
		return 1;
	ts = find_tstate_frame(cfg, pid, tid, thread_key(&cfg->off), 0, &frame, &fault);
	if (!ts) {
		count(RT_WALKER_STAT_NO_TSTATE);
		return 1;
	}
	w = &sc->walk;
	__builtin_memset(w, 0, sizeof(*w));
	sc->walk_gen++; /* the code entries of earlier walks are free */
	w->off = cfg->off;
	sc->n_new = 0;
	sc->flags = 0;
	sc->deferred = 0;
	w->pid = pid;
	w->generation = cfg->generation;
	w->code_type = cfg->off.code_type;
	w->frame = frame;
	if (fault)
		sc->flags |= RT_REC_STACK_READ_FAULT;
	d->stack.nr_frames = 0;
	d->win[0].len = 0;
	if (w->frame)
		bpf_loop(RT_REC_MAX_DEPTH / WALK_STEP_FRAMES + 1, walk_frame, NULL, 0);
	count_walk(sc->flags, sc->deferred);

	/* Code records go first: the decoder must know a code object's names
	 * when the stack naming it arrives. */
	sc->seen_key.pid = pid;
	sc->seen_key.generation = cfg->generation;
	sc->index = index;
	sc->stack_flags = stack_flags;
	bpf_loop(MAX_NEW_CODES, py_send_code, &ctx, 0);

	if (gil_held(cfg, ts))
		sc->flags |= RT_REC_STACK_GIL_HELD;
	return output_stack(ctx, d, index, pid, tid, cfg->runtime, cfg->version, cfg->generation,
			    sc->flags | stack_flags);
}

/* Walks the current thread of process @pid, if it is a configured
 * interpreter process (*interp set then), and writes its stack record with
 * @stack_flags added.  Any program type that may call
 * bpf_perf_event_output with its @ctx can use it: the perf_event walker
 * below, the off-CPU program (bpf/offcpu.bpf.h).  Returns what a
 * perf_event program returns (0: written, the native sample may go). */
static __always_inline int walker_sample(void *ctx, __u32 pid, __u32 tid, __u32 stack_flags,
					 bool *interp)
{
	const struct rt_walker_config *cfg;
	const struct rt_ruby_walker_config *ruby;

	cfg = bpf_map_lookup_elem(&pids, &pid);
	if (cfg) {
		*interp = true;
		return py_walker_sample(ctx, cfg, pid, tid, stack_flags);
	}
	ruby = bpf_map_lookup_elem(&rb_pids, &pid);
	if (ruby) {
		int ret;

		*interp = true;
		ret = rb_walker_sample(ctx, ruby, pid, tid);
		return ret ? ret : rb_finish_sample(ctx, ruby, pid, tid, stack_flags);
	}
	return 1;
}

SEC("perf_event")
int rt_walker(struct bpf_perf_event_data *ctx)
{
	__u64 start = bpf_ktime_get_ns(), us, *bucket, id = bpf_get_current_pid_tgid();
	bool interp = false;
	int ret;
	__u32 key;

	pieces_reset();
	ret = walker_sample(ctx, id >> 32, (__u32)id, 0, &interp);
	send_pieces(ctx);

	if (keep_native)
		ret = 1;
	if (!interp) {
		count(RT_WALKER_STAT_OTHER_PID);
		return ret;
	}
	us = (bpf_ktime_get_ns() - start) / 1000;
	key = us < RT_WALKER_TIME_BUCKETS - 1 ? (__u32)us : RT_WALKER_TIME_BUCKETS - 1;
	bucket = bpf_map_lookup_elem(&run_time, &key);
	if (bucket)
		(*bucket)++;
	return ret;
}

/* Off-CPU intervals: the same walk, run as a thread leaves the CPU. */
#include "bpf/offcpu.bpf.h"

/* Interpreter stacks on the samples of any perf event. */
#include "bpf/event.bpf.h"
