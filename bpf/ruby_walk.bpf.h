/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CRuby stack walker, included by walker.bpf.c (it shares that file's
 * channel, seen and stats maps and helpers, output_stack among them).  For
 * a sample of a configured Ruby process it finds the sampled thread's
 * rb_thread_t in the main ractor's thread list by pthread_t (so a thread
 * that released the GVL gets its own frames), walks its control frames
 * from ec->cfp to the bottom of its VM stack and writes one stack record;
 * before that one RT_REC_RUBY_CODE record per iseq or C method entry not
 * yet sent.
 */
#ifndef RT_BPF_RUBY_WALK_BPF_H
#define RT_BPF_RUBY_WALK_BPF_H

#include "bpf/ruby_walk.h"

#define RB_MAX_THREADS  64
#define RB_MAX_CFPS     (RT_REC_MAX_DEPTH + 64) /* control frames looked at, skipped ones too */
#define RB_MAX_IVARS    16

/* Word @off (a byte offset from the layout) of @a (8 words), 0 past
 * @nwords.  The mask after the barrier is what the verifier sees. */
static __always_inline __u64 word_at(const __u64 *a, __u32 nwords, __u32 off)
{
	__u32 i = off >> 3;

	if (i >= nwords)
		return 0;
	bound_barrier(i);
	return a[i & 7];
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct rt_ruby_walker_config);
} rb_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct rt_ruby_walker_thread);
} rb_threads SEC(".maps");

struct rb_new_code {
	__u64 addr;
	__u32 tag;
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_NEW_CODES);
	__type(key, __u32);
	__type(value, struct rb_new_code);
} rb_new_codes SEC(".maps");

/* The search of a class's instance variable table: what rb_ivar_step
 * needs and finds. */
struct rb_ivar_search {
	__u64 start, bound, entries; /* the st_table's */
	/* the layout's, copied: a pointer read back from a map is a number */
	__u64 entry_size, last_op_id, id_scope_shift;
	__u64 serial;
	__u64 value;
	__u64 kv[3]; /* the entry read */
	__u64 st[8]; /* the table's header read */
};

struct rb_scratch {
	struct rt_rec_ruby_code code;
	__u8 body[RT_RUBY_BODY_MASK + 1 + 8]; /* masked offsets stay inside */
	__u64 words[8];
	/* a finished walk, handed from rb_walker_sample to rb_finish_sample;
	 * n_new counts the queued code records during the walk (rb_queue).
	 * The walk's counts and flags live here, not in struct rb_walk: see
	 * rb_queue. */
	__u64 index;
	__u32 n_new, flags, deferred;
	/* the code record's tables in the target, and their whole sizes, for
	 * the pieces that do not fit it */
	__u64 info_src, index_src;
	__u32 info_total, index_total;
	__u32 zero_key; /* stays 0: a lookup key off the stack */
	/* for rb_send_code (key: pid and generation) and rb_ivar_step: off
	 * the stack, as their frames add to the call chain's */
	__u32 stack_flags;
	struct rt_walker_seen_key key;
	struct rb_ivar_search ivar;
	/* iseqs and C methods' entries the walk met, as the CPython walk's
	 * (struct walk_code) */
	struct walk_code codes[WALK_CODE_SLOTS];
	__u32 walk_gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rb_scratch);
} rb_scratch SEC(".maps");

struct rb_walk {
	__u64 cfp, end;
	__u64 last_iseq, last_encoded;
	__u32 last_tag;
	__u32 pid;
	__u32 generation;
	__u32 cfp_size;
	__u32 cfp_pc, cfp_iseq, cfp_ep;
	__u32 iseq_body, body_encoded;
	__u32 magic_mask, magic_cfunc, magic_dummy, flag_finish, flag_cframe;
	__s32 env_me, env_flags;
	__u32 me_called_id, me_owner;
};

/* Queues a code record; the count of queued ones is kept in the scratch
 * map, not in *w: a count the verifier knows exactly (a stack slot) makes
 * it check each walk step once per count value (a quarter of the
 * instructions the verifier went through for the walker). */
static __always_inline void rb_queue(struct rb_walk *w, struct rb_scratch *sc, __u64 addr,
				     __u32 tag, __u32 kind)
{
	struct rt_walker_seen_key key = { .pid = w->pid, .generation = w->generation, .code = addr };
	__u32 *sent = bpf_map_lookup_elem(&seen, &key);
	__u32 k = sc->n_new;
	struct rb_new_code *q;

	if (sent && *sent == tag)
		return;
	q = bpf_map_lookup_elem(&rb_new_codes, &k);
	if (!q) {
		sc->deferred++;
		return;
	}
	q->addr = addr;
	q->tag = tag;
	q->kind = kind;
	sc->n_new = k + 1;
}

/* One control frame of the walk, the next after w->cfp, into @d; 1 when
 * the walk ends (no frame left, a fault, the buffer full).  A global
 * function too: verified once, not once per frame of a step. */
__noinline int rb_walk_one(struct rb_walk *w, struct rb_scratch *sc, struct deep_stack *d)
{
	__u32 flags = 0, n, tag, kind;
	__u64 pc, iseq, ep, fl, me, code, lasti = 0, encoded = 0;
	const __u8 *cfp, *envp;
	struct walk_code *c = NULL;
	bool hit;

	if (!w || !sc || !d || w->cfp >= w->end)
		return 1;
	/* Control frames lie one after the other up the VM stack, the
	 * environments their ep point at down it: a page of each at a time. */
	cfp = window_at(&d->win[0], w->cfp, RT_RUBY_CFP_READ, WINDOW_UP);
	if (!cfp)
		goto fault;
	w->cfp += w->cfp_size;
	pc = *(__u64 *)(cfp + (w->cfp_pc & (RT_RUBY_CFP_MASK - 7)));
	iseq = *(__u64 *)(cfp + (w->cfp_iseq & (RT_RUBY_CFP_MASK - 7)));
	ep = *(__u64 *)(cfp + (w->cfp_ep & (RT_RUBY_CFP_MASK - 7)));
	/* ep[-2] (method entry or cref) .. ep[0] (frame flags) */
	if (!ep)
		goto fault;
	envp = window_at(&d->win[1], ep - 16, 3 * 8, WINDOW_DOWN);
	if (!envp)
		goto fault;
	fl = *(const __u64 *)(envp + 16);
	me = *(const __u64 *)envp;
	{
		__u32 magic = (__u32)fl & w->magic_mask;

		if (magic == w->magic_dummy)
			return 0;
		if (fl & w->flag_cframe) {
			__u64 ids[2] = {};

			/* ifunc frames (C blocks) carry no method of their own */
			if (magic != w->magic_cfunc || !me)
				return 0;
			code = me;
			kind = RT_REC_RUBY_CFUNC;
			flags |= RT_REC_FRAME_RUBY_CFUNC;
			if (code == w->last_iseq) {
				tag = w->last_tag;
			} else if ((c = walk_code_find(sc->codes, me, sc->walk_gen, &hit)) && hit) {
				tag = c->tag; /* met further down this walk */
				w->last_iseq = code;
				w->last_tag = tag;
			} else {
				if (bpf_probe_read_user(ids, sizeof(ids),
							(const void *)(me + w->me_called_id)))
					return 0;
				tag = rt_rec_code_tag(me, (__u32)ids[0], ids[1], 0);
				w->last_iseq = code;
				w->last_tag = tag;
				walk_code_put(c, me, sc->walk_gen, tag, 0);
				rb_queue(w, sc, code, tag, kind);
			}
		} else {
			if (!iseq)
				return 0;
			if (iseq == w->last_iseq) {
				tag = w->last_tag;
				encoded = w->last_encoded;
			} else if ((c = walk_code_find(sc->codes, iseq, sc->walk_gen, &hit)) && hit) {
				tag = c->tag; /* met further down this walk */
				encoded = c->encoded;
				w->last_iseq = iseq;
				w->last_tag = tag;
				w->last_encoded = encoded;
			} else {
				__u64 body = 0;

				if (read_ptr(&body, iseq + w->iseq_body) || !body ||
				    read_ptr(&encoded, body + w->body_encoded)) {
					sc->flags |= RT_REC_STACK_READ_FAULT;
					return 1;
				}
				tag = rt_rec_code_tag(iseq, (__u32)encoded, body, 0);
				w->last_iseq = iseq;
				w->last_tag = tag;
				w->last_encoded = encoded;
				walk_code_put(c, iseq, sc->walk_gen, tag, encoded);
				rb_queue(w, sc, iseq, tag, RT_REC_RUBY_ISEQ);
			}
			code = iseq;
			if (pc > encoded)
				lasti = (pc - encoded) >> 3;
		}
		if (fl & w->flag_finish)
			flags |= RT_REC_FRAME_ENTRY;
	}
	n = d->stack.nr_frames;
	if (n >= RT_REC_MAX_DEPTH) {
		sc->flags |= RT_REC_STACK_TRUNCATED;
		return 1;
	}
	bound_barrier(n);
	if (n >= RT_REC_MAX_DEPTH)
		return 1;
	bound_barrier(n);
	n &= RT_REC_MAX_DEPTH - 1;
	d->frames[n].code = code;
	d->frames[n].lasti = (__u32)lasti;
	d->frames[n].flags = flags | tag << RT_REC_FRAME_TAG_SHIFT;
	d->stack.nr_frames = n + 1;
	return 0;
fault:
	sc->flags |= RT_REC_STACK_READ_FAULT;
	return 1;
}

/* Control frames walked per step, as WALK_STEP_FRAMES. */
#define RB_STEP_FRAMES 4

/* RB_STEP_FRAMES control frames of the walk, the next after w->cfp.  A
 * global function, checked by the verifier once for any *w (scalars only)
 * rather than once per state the loop's callback is entered with: that
 * made it the largest part of the instructions the verifier went through
 * for the walker, CPU paid at every start of rt-bpf. */
__noinline int rb_walk_step(struct rb_walk *w)
{
	__u32 zero = 0;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	struct deep_stack *d = deep_stack();

	if (!w || !sc || !d)
		return 1;
	for (__u32 k = 0; k < RB_STEP_FRAMES; k++)
		if (rb_walk_one(w, sc, d))
			return 1;
	return 0;
}

static long rb_walk_frame(__u32 i, void *arg)
{
	return rb_walk_step(arg) ? 1 : 0;
}

/* A String's bytes (UTF-8 as the VM keeps them) into @s; empty when @v is
 * not a readable String. */
static __always_inline void rb_read_string(const struct rt_layout_ruby *off, __u64 v,
					   struct rt_rec_string *s)
{
	__u64 hdr[8] = {}, len, ptr, n;

	s->length = 0;
	s->kind = 0;
	s->nbytes = 0;
	s->ascii = 0;
	if (!v || (v & 7) || bpf_probe_read_user(hdr, 4 * 8, (const void *)v))
		return;
	if ((hdr[0] & off->t_mask) != off->t_string)
		return;
	if (hdr[0] & off->rstring_noembed) {
		len = word_at(hdr, 4, off->rstring_len);
		ptr = word_at(hdr, 4, off->rstring_ptr);
	} else {
		len = off->rstring_embed_len_mask ?
			      (hdr[0] & off->rstring_embed_len_mask) >> off->rstring_embed_len_shift :
			      word_at(hdr, 4, off->rstring_len);
		ptr = v + off->rstring_embed;
	}
	if (len > (1 << 24))
		return;
	n = len > RT_REC_STR_MAX ? RT_REC_STR_MAX : len;
	bound_barrier(n);
	if (n > RT_REC_STR_MAX || (n && bpf_probe_read_user(s->data, n, (const void *)ptr)))
		return;
	s->length = (__u32)len;
	s->kind = 1;
	s->nbytes = (__u32)n;
}

/* Element @i of Array @ary, 0 when out of range or unreadable. */
static __always_inline __u64 rb_array_at(const struct rt_layout_ruby *off, __u64 ary, __u64 i)
{
	__u64 hdr[8] = {}, len, ptr, v = 0;

	if (!ary || (ary & 7) || bpf_probe_read_user(hdr, 5 * 8, (const void *)ary))
		return 0;
	if ((hdr[0] & off->t_mask) != off->t_array)
		return 0;
	if (hdr[0] & off->rarray_embed_flag) {
		len = (hdr[0] & off->rarray_embed_len_mask) >> off->rarray_embed_len_shift;
		ptr = ary + off->rarray_embed;
	} else {
		len = word_at(hdr, 5, off->rarray_len);
		ptr = word_at(hdr, 5, off->rarray_ptr);
	}
	if (i >= len || read_ptr(&v, ptr + i * 8))
		return 0;
	return v;
}

/* The String the global symbol table keeps for @id, or 0. */
static __always_inline __u64 rb_id_string(const struct rt_ruby_walker_config *cfg, __u64 id)
{
	const struct rt_layout_ruby *off = &cfg->off;
	__u64 serial, ids = 0, entry;
	__u32 last = 0;

	if (!id || !cfg->symbols_addr)
		return 0;
	serial = id > off->last_op_id ? id >> off->id_scope_shift : id;
	if (bpf_probe_read_user(&last, sizeof(last), (const void *)(cfg->symbols_addr + off->symbols_last_id)) ||
	    serial > last || read_ptr(&ids, cfg->symbols_addr + off->symbols_ids) || !off->id_entry_unit)
		return 0;
	entry = rb_array_at(off, ids, serial / off->id_entry_unit);
	return rb_array_at(off, entry, (serial % off->id_entry_unit) * off->id_entry_size);
}

/* bpf_loop callback: looks at entry @k of the table, verified once where
 * a bounded loop is verified once per entry. */
static long rb_ivar_step(__u32 k, void *arg)
{
	__u32 zero = 0;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	struct rb_ivar_search *s;
	__u64 *kv;

	if (!sc)
		return 1;
	s = &sc->ivar;
	kv = s->kv;
	if (k >= s->bound)
		return 1;
	if (k < s->start)
		return 0;
	if (bpf_probe_read_user(kv, sizeof(s->kv), (const void *)(s->entries + k * s->entry_size)))
		return 1;
	if (kv[1] > s->last_op_id && (kv[1] >> (s->id_scope_shift & 63)) == s->serial) {
		s->value = kv[2];
		return 1;
	}
	return 0;
}

/* Instance variable @serial of class @klass (its st_table iv_tbl), or 0. */
static __always_inline __u64 rb_class_ivar(const struct rt_ruby_walker_config *cfg, __u64 klass,
					   __u32 serial)
{
	const struct rt_layout_ruby *off = &cfg->off;
	__u32 zero = 0;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	__u64 ext = 0, tbl = 0, *st;

	if (!sc)
		return 0;
	st = sc->ivar.st;
	if (!klass || !serial || read_ptr(&ext, klass + off->rclass_ext) || !ext ||
	    read_ptr(&tbl, ext + off->classext_iv_tbl) || !tbl ||
	    bpf_probe_read_user(st, 7 * 8, (const void *)tbl))
		return 0;
	sc->ivar.entry_size = off->st_entry_size;
	sc->ivar.last_op_id = off->last_op_id;
	sc->ivar.id_scope_shift = off->id_scope_shift;
	sc->ivar.serial = serial;
	sc->ivar.value = 0;
	sc->ivar.start = word_at(st, 7, off->st_entries_start);
	sc->ivar.bound = word_at(st, 7, off->st_entries_bound);
	sc->ivar.entries = word_at(st, 7, off->st_entries);
	/* class ivar tables are small: the first few entries suffice */
	bpf_loop(RB_MAX_IVARS, rb_ivar_step, NULL, 0);
	return sc->ivar.value;
}

/* The class path of @klass or, @attached, the object a singleton class is
 * attached to: members of the class's ext (3.3) or its instance variables
 * __classpath__ / __attached__ (earlier); 0 when unreadable. */
static __always_inline __u64 rb_class_field(const struct rt_ruby_walker_config *cfg, __u64 klass,
					    bool attached)
{
	const struct rt_layout_ruby *off = &cfg->off;
	__u32 member = attached ? off->classext_attached : off->classext_classpath;
	__u64 ext = 0, v = 0;

	if (member == RT_RUBY_NONE)
		return rb_class_ivar(cfg, klass,
				     attached ? cfg->attached_serial : cfg->classpath_serial);
	if (!klass)
		return 0;
	if (off->rclass_ext_inline)
		ext = klass + off->rclass_ext;
	else if (read_ptr(&ext, klass + off->rclass_ext) || !ext)
		return 0;
	if (read_ptr(&v, ext + member))
		return 0;
	return v;
}

/* Fills the code record of queued entry @i in the scratch map, for the
 * caller to write (as build_code).  Separately verified, as build_code:
 * inlined per queued entry it would multiply the program's size.  Returns
 * 0 or -EINVAL. */
__noinline int rb_build_code(__u32 pid, __u32 i)
{
	const struct rt_ruby_walker_config *cfg = bpf_map_lookup_elem(&rb_pids, &pid);
	__u32 zero = 0;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	struct rb_new_code *nc = bpf_map_lookup_elem(&rb_new_codes, &i);

	if (!cfg || !sc || !nc)
		return -22;
	const struct rt_layout_ruby *off = &cfg->off;
	struct rt_rec_ruby_code *rec = &sc->code;
	__u64 n;

	rec->hdr.magic = RT_REC_MAGIC;
	rec->hdr.version = RT_REC_VERSION;
	rec->hdr.type = RT_REC_RUBY_CODE;
	rec->hdr.size = sizeof(*rec);
	rec->pid = pid;
	rec->tag = nc->tag;
	rec->addr = nc->addr;
	rec->version = cfg->version;
	rec->kind = nc->kind;
	rec->first_lineno = 0;
	rec->iseq_size = 0;
	rec->info_size = 0;
	rec->index_kind = RT_REC_RUBY_INDEX_NONE;
	rec->index_nbytes = 0;
	rec->info_nbytes = 0;
	rec->info_entry_size = off->insn_info_entry_size;
	rec->info_line_offset = off->insn_info_line_no;
	rec->succ_immediate = off->succ_immediate_size;
	rec->succ_block_size = off->succ_block_size;
	rec->class_flags = 0;
	rec->pad = 0;
	rec->label.kind = 0;
	rec->path.kind = 0;
	sc->info_src = sc->index_src = 0;
	sc->info_total = sc->index_total = 0;
	if (nc->kind == RT_REC_RUBY_CFUNC) {
		__u64 me[8] = {}, flags = 0, klass, name;

		if (bpf_probe_read_user(me, 5 * 8, (const void *)nc->addr))
			return -14;
		name = rb_id_string(cfg, word_at(me, 5, off->me_called_id));
		rb_read_string(off, name, &rec->label);
		klass = word_at(me, 5, off->me_owner);
		if (!klass || (klass & 7) || read_ptr(&flags, klass))
			klass = 0;
		if (klass && (flags & off->fl_singleton)) {
			rec->class_flags |= RT_REC_RUBY_SINGLETON;
			klass = rb_class_field(cfg, klass, true);
		}
		rb_read_string(off, rb_class_field(cfg, klass, false), &rec->path);
	} else {
		__u64 body = 0, label, pathobj, fl, info, positions, succ;
		__u32 iseq_size, info_size;

		if (read_ptr(&body, nc->addr + off->iseq_body) || !body ||
		    bpf_probe_read_user(sc->body, RT_RUBY_BODY_READ, (const void *)body))
			return -14;
#define BODY64(o) (*(__u64 *)(sc->body + ((o) & (RT_RUBY_BODY_MASK - 7))))
#define BODY32(o) (*(__u32 *)(sc->body + ((o) & (RT_RUBY_BODY_MASK - 3))))
		label = BODY64(off->body_location_label);
		pathobj = BODY64(off->body_location_pathobj);
		fl = BODY64(off->body_location_first_lineno);
		info = BODY64(off->body_insns_info_body);
		positions = BODY64(off->body_insns_info_positions);
		succ = BODY64(off->body_insns_info_succ_index_table);
		iseq_size = BODY32(off->body_iseq_size);
		info_size = BODY32(off->body_insns_info_size);
#undef BODY64
#undef BODY32
		rb_read_string(off, label, &rec->label);
		if (pathobj && !(pathobj & 7)) {
			__u64 f = 0;

			/* a String, or [path, realpath] */
			if (!read_ptr(&f, pathobj) && (f & off->t_mask) == off->t_array)
				pathobj = rb_array_at(off, pathobj, 0);
		}
		rb_read_string(off, pathobj, &rec->path);
		if (!off->first_lineno_fixnum)
			rec->first_lineno = (__u32)fl; /* an int: the low half */
		else
			rec->first_lineno = (fl & 1) ? (__u32)((__s64)fl >> 1) : 0;
		rec->iseq_size = iseq_size;
		rec->info_size = info_size;
		n = (__u64)info_size * off->insn_info_entry_size;
		sc->info_src = info;
		sc->info_total = n < (1u << 24) ? (__u32)n : 0;
		if (n > RT_REC_RUBY_INFO_MAX)
			n = RT_REC_RUBY_INFO_MAX;
		bound_barrier(n);
		if (info && n && n <= RT_REC_RUBY_INFO_MAX &&
		    !bpf_probe_read_user(rec->info, n, (const void *)info))
			rec->info_nbytes = (__u32)n;
		if (info_size > 1 && positions) {
			n = (__u64)info_size * 4;
			sc->index_src = positions;
			sc->index_total = n < (1u << 24) ? (__u32)n : 0;
			if (n > RT_REC_RUBY_INDEX_MAX)
				n = RT_REC_RUBY_INDEX_MAX;
			bound_barrier(n);
			if (n <= RT_REC_RUBY_INDEX_MAX &&
			    !bpf_probe_read_user(rec->index, n, (const void *)positions)) {
				rec->index_kind = RT_REC_RUBY_INDEX_POSITIONS;
				rec->index_nbytes = (__u32)n;
			}
		} else if (info_size > 1 && succ) {
			/* the table covers positions up to the last entry's, which is
			 * below iseq_size: size it for iseq_size */
			__u64 imm = off->succ_immediate_size, blocks = 0;

			if (iseq_size > imm && off->succ_block_size)
				blocks = (iseq_size - imm + 511) / 512;
			n = (imm / 9) * 8 + blocks * off->succ_block_size;
			sc->index_src = succ;
			sc->index_total = n < (1u << 24) ? (__u32)n : 0;
			if (n > RT_REC_RUBY_INDEX_MAX)
				n = RT_REC_RUBY_INDEX_MAX;
			bound_barrier(n);
			if (n && n <= RT_REC_RUBY_INDEX_MAX &&
			    !bpf_probe_read_user(rec->index, n, (const void *)succ)) {
				rec->index_kind = RT_REC_RUBY_INDEX_SUCCINCT;
				rec->index_nbytes = (__u32)n;
			}
		}
	}
	return 0;
}

/* Queues the rest of the line table (entries and index) of the code
 * record in @sc (see queue_pieces).  Out of line, as queue_py_pieces. */
static __noinline void queue_rb_pieces(__u64 index, struct rb_scratch *sc)
{
	queue_pieces(&sc->zero_key, index, sc->code.pid, sc->code.tag, sc->code.addr,
		     RT_REC_RUNTIME_RUBY, RT_REC_PIECE_RUBY_INFO, sc->info_src,
		     sc->code.info_nbytes, sc->info_total);
	queue_pieces(&sc->zero_key, index, sc->code.pid, sc->code.tag, sc->code.addr,
		     RT_REC_RUNTIME_RUBY, RT_REC_PIECE_RUBY_INDEX, sc->index_src,
		     sc->code.index_nbytes, sc->index_total);
}

/* bpf_loop callback: writes the code record of queued entry @i unless it
 * was sent before (as py_send_code). */
static long rb_send_code(__u32 i, void *arg)
{
	__u32 zero = 0, slot = i;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	struct rb_new_code *nc;
	__u32 *sent;

	if (!sc || i >= sc->n_new)
		return 1;
	nc = bpf_map_lookup_elem(&rb_new_codes, &slot);
	if (!nc)
		return 1;
	sc->key.code = nc->addr;
	sent = bpf_map_lookup_elem(&seen, &sc->key);
	if (sent && *sent == nc->tag)
		return 0;
	if (rb_build_code(sc->key.pid, i)) {
		count(RT_WALKER_STAT_CODE_LOST);
		return 0;
	}
	if (code_output(*(void **)arg, sc->index, &sc->code, sizeof(sc->code)))
		return 0;
	if (!(sc->stack_flags & RT_REC_STACK_OFFCPU))
		queue_rb_pieces(sc->index, sc);
	count(RT_WALKER_STAT_CODE_OK);
	bpf_map_update_elem(&seen, &sc->key, &nc->tag, BPF_ANY);
	return 0;
}

/* The pthread_t of @th (rb_thread_t), through its native thread where the
 * VM keeps it there (3.3); 0 when unreadable. */
static __always_inline __u64 rb_thread_pthread(const struct rt_layout_ruby *off, __u64 th)
{
	__u64 holder = th, id = 0;

	if (off->thread_nt != RT_RUBY_NONE && (read_ptr(&holder, th + off->thread_nt) || !holder))
		return 0;
	if (read_ptr(&id, holder + off->thread_pthread))
		return 0;
	return id;
}

/* The search of a VM's thread list for the sampled thread: what
 * rb_thread_step needs and finds. */
struct rb_thread_search {
	const struct rt_layout_ruby *off;
	__u64 self, head; /* the thread's pthread_t; the list's head */
	__u64 node;       /* the node looked at next */
	__u64 found;
};

/* bpf_loop callback: looks at one thread of the list, verified once where
 * a bounded loop is verified once per step. */
static long rb_thread_step(__u32 k, void *arg)
{
	struct rb_thread_search *s = arg;
	__u64 node = s->node, th;

	if (!node || node == s->head)
		return 1;
	th = node - s->off->thread_lt_node;
	if (rb_thread_pthread(s->off, th) == s->self) {
		s->found = th;
		return 1;
	}
	if (read_ptr(&s->node, node))
		return 1;
	return 0;
}

/* What owns the threads and the GVL of the process of @cfg: its main
 * ractor (3.x), or the VM (2.7); 0 when unreadable. */
static __always_inline __u64 rb_main_owner(const struct rt_ruby_walker_config *cfg)
{
	const struct rt_layout_ruby *off = &cfg->off;
	__u64 vm = 0, owner;

	if (read_ptr(&vm, cfg->vm_ptr_addr) || !vm)
		return 0;
	owner = vm;
	if (off->vm_main_ractor != RT_RUBY_NONE &&
	    (read_ptr(&owner, vm + off->vm_main_ractor) || !owner))
		return 0;
	return owner;
}

/*
 * The sampled thread's rb_thread_t, searched for in the VM's list (and
 * remembered in rb_threads for thread @tid of @pid) by @self, its pthread_t,
 * which on x86_64 glibc is the thread pointer the kernel keeps as fsbase:
 * 2.7 keeps no kernel tid, and the tid 3.x keeps is the one of the
 * process's own PID namespace, not the host's tid the program sees in a
 * container.
 */
static __always_inline __u64 rb_search_thread(const struct rt_ruby_walker_config *cfg, __u32 pid,
					      __u32 tid, __u64 self)
{
	const struct rt_layout_ruby *off = &cfg->off;
	struct rt_ruby_walker_thread fresh = {};
	struct rb_thread_search s = { .off = off, .self = self };
	__u64 owner;

	owner = rb_main_owner(cfg);
	if (!owner)
		return 0;
	s.head = owner + off->thread_list;
	if (read_ptr(&s.node, s.head))
		return 0;
	bpf_loop(RB_MAX_THREADS, rb_thread_step, &s, 0);
	if (!s.found)
		return 0;
	fresh.thread = s.found;
	fresh.pid = pid;
	fresh.generation = cfg->generation;
	bpf_map_update_elem(&rb_threads, &tid, &fresh, BPF_ANY);
	return s.found;
}

/* The current thread's pthread_self(): the thread pointer, fsbase. */
static __always_inline __u64 rb_self(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, thread.fsbase);
}

/* The rb_thread_t that thread @tid of @pid (the current thread) runs as. */
static __always_inline __u64 rb_find_thread(const struct rt_ruby_walker_config *cfg, __u32 pid,
					    __u32 tid)
{
	struct rt_ruby_walker_thread *cached = bpf_map_lookup_elem(&rb_threads, &tid);
	__u64 self = rb_self();

	if (!self)
		return 0;
	/* trusted only while it still names this thread: rb_thread_t memory
	 * is reused as threads come and go */
	if (cached && cached->pid == pid && cached->generation == cfg->generation &&
	    rb_thread_pthread(&cfg->off, cached->thread) == self)
		return cached->thread;
	return rb_search_thread(cfg, pid, tid, self);
}

/* Whether rb_thread_t @th still is the thread whose pthread_self() is
 * @self, its execution context then in *@ec: the thread's ec and its
 * pthread_t (or, 3.3+, its native thread's pointer) lie within a few words
 * of each other, read in one helper call (read_two_words). */
static __always_inline bool rb_thread_still(const struct rt_layout_ruby *off, __u64 th, __u64 self,
					    __u64 *ec)
{
	__u64 hat = off->thread_nt != RT_RUBY_NONE ? off->thread_nt : off->thread_pthread;
	__u64 holder, id;

	if (read_two_words(th, off->thread_ec, hat, ec, &holder))
		return false;
	if (off->thread_nt == RT_RUBY_NONE)
		return holder == self;
	return holder && !read_ptr(&id, holder + off->thread_pthread) && id == self;
}

/*
 * Whether thread @tid, blocked in a futex wait on @futex, waits for the GVL
 * of its process's main ractor: the futex is in the GVL itself (its lock;
 * the condition variables of a yield's handshake), or the thread is queued
 * in the GVL's list of waiting threads (thread_pthread.c: a waiting thread
 * sleeps on a condition variable of its own while queued there, one it
 * also sleeps on for other reasons, so the futex alone does not tell).
 */
static __always_inline bool rb_gvl_wait(const struct rt_ruby_walker_config *cfg, __u32 pid,
					__u32 tid, __u64 futex)
{
	const struct rt_layout_ruby *off = &cfg->off;
	__u64 owner, gvl, head, node = 0, mine, th;

	if (off->gvl == RT_RUBY_NONE)
		return false;
	owner = rb_main_owner(cfg);
	if (!owner)
		return false;
	gvl = owner + off->gvl;
	if (futex - gvl < off->gvl_size)
		return true;
	th = rb_find_thread(cfg, pid, tid);
	if (!th)
		return false;
	mine = th + off->thread_gvl_node;
	head = gvl + off->gvl_waitq;
	if (read_ptr(&node, head))
		return false;
	for (int k = 0; k < RB_MAX_THREADS && node && node != head; k++) {
		if (node == mine)
			return true;
		if (read_ptr(&node, node))
			break;
	}
	return false;
}

/* Thread @tid's (of @pid) current control frame in @cfp and the end of its
 * VM stack in @end, read through its execution context into @ecw (three
 * words of scratch memory); -1 when the thread has none (not yet, or no
 * longer, running Ruby) or it cannot be read.  *@th is the rb_thread_t the
 * caller keeps for the thread (0: the rb_threads map's), and on return the
 * one found (0: none). */
static __always_inline int rb_thread_cfps(const struct rt_ruby_walker_config *cfg, __u32 pid,
					  __u32 tid, __u64 *th, __u64 *ecw, __u64 *cfp, __u64 *end)
{
	const struct rt_layout_ruby *off = &cfg->off;
	struct rt_ruby_walker_thread *cached;
	__u64 self = rb_self(), ec = 0;

	if (!self) {
		*th = 0;
		return -1;
	}
	if (!*th) {
		cached = bpf_map_lookup_elem(&rb_threads, &tid);
		if (cached && cached->pid == pid && cached->generation == cfg->generation)
			*th = cached->thread;
	}
	if (!*th || !rb_thread_still(off, *th, self, &ec)) {
		*th = rb_search_thread(cfg, pid, tid, self);
		if (!*th || read_ptr(&ec, *th + off->thread_ec))
			return -1;
	}
	if (!ec || bpf_probe_read_user(ecw, 3 * 8, (const void *)ec))
		return -1;
	*cfp = word_at(ecw, 3, off->ec_cfp);
	/* the first control frame sits at the very end of the VM stack */
	*end = word_at(ecw, 3, off->ec_vm_stack) + word_at(ecw, 3, off->ec_vm_stack_size) * 8;
	return 0;
}

/* Walks a sample of a configured Ruby process into the scratch map: 0 when
 * rb_finish_sample is to send it, else what the perf_event program returns
 * (1: keep the native sample). */
static __noinline int rb_walker_sample(void *ctx,
				       const struct rt_ruby_walker_config *cfg, __u32 pid,
				       __u32 tid)
{
	const struct rt_layout_ruby *off = &cfg->off;
	__u64 index, th = 0;
	struct rb_walk w = {};
	struct rb_scratch *sc;
	struct deep_stack *d;
	__u32 zero = 0;

	count(RT_WALKER_STAT_SAMPLES);
	if (channel_index(tid, &index))
		return 1;
	sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	d = deep_stack();
	if (!sc || !d)
		return 1;
	sc->walk_gen++; /* the code entries of earlier walks are free */
	/* the scratch map, not the stack: the program's stack is full */
	if (rb_thread_cfps(cfg, pid, tid, &th, sc->words, &w.cfp, &w.end)) {
		count(RT_WALKER_STAT_NO_TSTATE);
		return 1;
	}
	w.pid = pid;
	w.generation = cfg->generation;
	w.cfp_size = off->cfp_size;
	w.cfp_pc = off->cfp_pc;
	w.cfp_iseq = off->cfp_iseq;
	w.cfp_ep = off->cfp_ep;
	w.iseq_body = off->iseq_body;
	w.body_encoded = off->body_iseq_encoded;
	w.magic_mask = off->frame_magic_mask;
	w.magic_cfunc = off->frame_magic_cfunc;
	w.magic_dummy = off->frame_magic_dummy;
	w.flag_finish = off->frame_flag_finish;
	w.flag_cframe = off->frame_flag_cframe;
	w.me_called_id = off->me_called_id;
	w.me_owner = off->me_owner;
	d->stack.nr_frames = 0;
	d->win[0].len = 0;
	d->win[1].len = 0;
	sc->n_new = 0;
	sc->flags = 0;
	sc->deferred = 0;
	if (w.cfp && w.cfp < w.end && w.cfp_size)
		bpf_loop(RB_MAX_CFPS / RB_STEP_FRAMES, rb_walk_frame, &w, 0);
	count_walk(sc->flags, sc->deferred);
	sc->index = index;
	return 0;
}

/* Sends a walk's new code records, then its stack; returns what the
 * perf_event program returns.  Apart from rb_walker_sample so that the
 * chain down to rb_build_code stays within the 512-byte stack that
 * kernels before 6.x count over a whole call chain. */
static __noinline int rb_finish_sample(void *ctx, const struct rt_ruby_walker_config *cfg,
				       __u32 pid, __u32 tid, __u32 stack_flags)
{
	__u32 zero = 0;
	struct rb_scratch *sc = bpf_map_lookup_elem(&rb_scratch, &zero);
	struct deep_stack *d = deep_stack();
	__u64 index;

	if (!sc || !d)
		return 1;
	index = sc->index;

	sc->key.pid = pid;
	sc->key.generation = cfg->generation;
	sc->stack_flags = stack_flags;
	bpf_loop(MAX_NEW_CODES, rb_send_code, &ctx, 0);
	return output_stack(ctx, d, index, pid, tid, RT_REC_RUNTIME_RUBY, cfg->version,
			    cfg->generation, sc->flags | stack_flags);
}

#endif
