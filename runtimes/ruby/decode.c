/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/decode_common.h"
#include "runtimes/ruby/decode.h"
#include "bpf/record.h"

#define UNKNOWN_FUNCTION "[unknown ruby]"

struct entry {
	struct rt_code_key key; /* first: an entry of dec->codes */
	uint32_t tag;
	bool cfunc;
	const char *function; /* interned */
	const char *file;     /* interned */
	int first_lineno;
	struct rt_rec_ruby_code *rec; /* iseqs: the record, for its line table */
	/* its line table: the record's part and the pieces after it */
	struct rt_ruby_table {
		uint8_t *data;
		size_t len, max;
	} info, index;
};

static void entry_exit(void *entry)
{
	struct entry *e = entry;

	free(e->rec);
	free(e->info.data);
	free(e->index.data);
}

/* The VM's bytes as one C string: NUL becomes '?', a cut string ends "...". */
static int string_text(const struct rt_rec_string *s, char *out, size_t cap)
{
	size_t n = 0;

	if (s->kind == 0) {
		out[0] = '\0';
		return 0;
	}
	if (s->kind != 1 || s->nbytes > RT_REC_STR_MAX || s->nbytes > s->length || cap < RT_REC_STR_MAX + 4)
		return -EINVAL;
	for (; n < s->nbytes; n++)
		out[n] = s->data[n] ? (char)s->data[n] : '?';
	if (s->nbytes < s->length) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return 0;
}

/* @t holds @n bytes of @data, of a table of at most @max. */
static int table_set(struct rt_ruby_table *t, const uint8_t *data, size_t n, size_t max)
{
	t->data = n ? malloc(n) : NULL;
	if (n && !t->data)
		return -ENOMEM;
	if (n)
		memcpy(t->data, data, n);
	t->len = n;
	t->max = max;
	return 0;
}

static int ruby_take_code(struct rt_runtime_decoder *dec, const void *raw, size_t size,
			  uint32_t pid, struct rt_interp_decoder_stats *stats)
{
	char label[RT_REC_STR_MAX + 8], path[RT_REC_STR_MAX + 8], fn[2 * RT_REC_STR_MAX + 24];
	struct rt_rec_ruby_code *rec;
	struct entry *e;
	int err = -EINVAL;

	if (size < sizeof(*rec))
		return -EINVAL;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	memcpy(rec, raw, sizeof(*rec));
	if (rec->hdr.size != sizeof(*rec) || (pid != UINT32_MAX && pid != rec->pid) ||
	    rec->tag > 0xffffff || (rec->kind != RT_REC_RUBY_ISEQ && rec->kind != RT_REC_RUBY_CFUNC) ||
	    rec->index_kind > RT_REC_RUBY_INDEX_SUCCINCT || rec->index_nbytes > RT_REC_RUBY_INDEX_MAX ||
	    rec->info_nbytes > RT_REC_RUBY_INFO_MAX || rec->info_entry_size == 0 ||
	    rec->info_entry_size > 64 || rec->info_line_offset + 4 > rec->info_entry_size ||
	    rec->first_lineno > INT32_MAX || string_text(&rec->label, label, sizeof(label)) ||
	    string_text(&rec->path, path, sizeof(path)))
		goto out;
	err = -ENOMEM;
	if (rec->kind == RT_REC_RUBY_CFUNC) {
		/* Ruby's own notation: Class#method, Class.method for singletons */
		if (!label[0])
			snprintf(fn, sizeof(fn), "%s", UNKNOWN_FUNCTION);
		else if (path[0])
			snprintf(fn, sizeof(fn), "%s%s%s", path,
				 rec->class_flags & RT_REC_RUBY_SINGLETON ? "." : "#", label);
		else
			snprintf(fn, sizeof(fn), "%s", label);
		path[0] = '\0';
	} else {
		snprintf(fn, sizeof(fn), "%s", label[0] ? label : UNKNOWN_FUNCTION);
	}
	e = rt_code_table__insert(&dec->codes, rec->pid, rec->addr);
	if (!e)
		goto out;
	e->function = rt_string_table__intern(&dec->strings, fn);
	e->file = rt_string_table__intern(&dec->strings, path);
	if (!e->function || !e->file) {
		e->function = UNKNOWN_FUNCTION;
		e->file = "";
		goto out;
	}
	e->tag = rec->tag;
	e->cfunc = rec->kind == RT_REC_RUBY_CFUNC;
	e->first_lineno = (int)rec->first_lineno;
	free(e->rec);
	e->rec = NULL;
	free(e->info.data);
	free(e->index.data);
	e->info = e->index = (struct rt_ruby_table){ 0 };
	if (!e->cfunc) {
		if (table_set(&e->info, rec->info, rec->info_nbytes,
			      (size_t)rec->info_size * rec->info_entry_size) ||
		    table_set(&e->index, rec->index, rec->index_nbytes,
			      RT_REC_RUBY_INDEX_MAX + RT_REC_PIECES_MAX * RT_REC_PIECE_MAX))
			goto out;
		e->rec = rec; /* kept for its line table's parameters */
		rec = NULL;
	}
	stats->code_records++;
	err = 0;
out:
	free(rec);
	return err;
}

static int popcount64(uint64_t v)
{
	return __builtin_popcountll(v);
}

/* Entry index for @pos from the succinct bit vector of iseq.c: the number
 * of entries starting at or before @pos, minus one. */
static int succinct_entry(const uint8_t *index, size_t len, unsigned int imm,
			  unsigned int block_size, uint32_t pos)
{
	size_t imm_bytes = (imm / 9) * 8;
	int rank;

	if (pos < imm) {
		uint64_t w;

		if ((pos / 9 + 1) * 8 > len)
			return -1;
		memcpy(&w, index + (pos / 9) * 8, 8);
		rank = (int)((w >> ((pos % 9) * 7)) & 0x7f);
	} else {
		/* block: unsigned rank; u64 small_block_ranks (9 bits each,
		 * for small blocks 1..7); u64 bits[8] */
		uint32_t x = pos - imm, b = x / 512, bit = x % 512, small = bit / 64;
		size_t at = imm_bytes + (size_t)b * block_size;
		uint32_t brank;
		uint64_t ranks, bits;
		int small_rank;

		if (block_size < 80 || at + 80 > len)
			return -1;
		memcpy(&brank, index + at, 4);
		memcpy(&ranks, index + at + 8, 8);
		memcpy(&bits, index + at + 16 + small * 8, 8);
		small_rank = small ? (int)((ranks >> ((small - 1) * 9)) & 0x1ff) : 0;
		rank = (int)brank + small_rank + popcount64(bits << (63 - bit % 64));
	}
	return rank - 1;
}

int rt_ruby_linetable__line(const uint8_t *info, size_t nr_entries, size_t entry_size,
			    size_t line_offset, unsigned int index_kind, const uint8_t *index,
			    size_t index_len, unsigned int succ_immediate,
			    unsigned int succ_block_size, uint32_t pos)
{
	int64_t k = -1;
	int32_t line;

	if (!nr_entries || !entry_size || line_offset + 4 > entry_size)
		return 0;
	switch (index_kind) {
	case RT_REC_RUBY_INDEX_NONE:
		k = 0;
		break;
	case RT_REC_RUBY_INDEX_POSITIONS:
		/* the last entry starting at or before pos */
		for (size_t i = 0; i < nr_entries && (i + 1) * 4 <= index_len; i++) {
			uint32_t p;

			memcpy(&p, index + i * 4, 4);
			if (p > pos)
				break;
			k = (int64_t)i;
		}
		break;
	case RT_REC_RUBY_INDEX_SUCCINCT:
		if (succ_immediate == 0 || succ_immediate >= 128)
			return -EINVAL;
		k = succinct_entry(index, index_len, succ_immediate, succ_block_size, pos);
		break;
	default:
		return -EINVAL;
	}
	if (k < 0 || (size_t)k >= nr_entries)
		return 0;
	/* An instruction the compiler emitted without a line (Ruby 2.7 puts
	 * a nop with line 0 before a block's leave) belongs to the code
	 * before it: the nearest earlier entry with a line, or else the
	 * nearest later one. */
	for (int64_t j = k; j >= 0; j--) {
		memcpy(&line, info + (size_t)j * entry_size + line_offset, 4);
		if (line > 0)
			return line;
	}
	for (size_t j = (size_t)k + 1; j < nr_entries; j++) {
		memcpy(&line, info + j * entry_size + line_offset, 4);
		if (line > 0)
			return line;
	}
	return 0;
}

/* The line of bytecode position @pos of iseq entry @e; 0 when unknown.
 * With only a part of a positions index (pieces lost, or a table longer
 * than the pieces carry), the last position held at or before @pos is the
 * answer only if a later one held is past @pos: an entry after the held
 * part could start before it. */
static int entry_line(const struct entry *e, uint32_t pos)
{
	const struct rt_rec_ruby_code *r = e->rec;
	size_t have = e->info.len / r->info_entry_size;

	if (r->index_kind == RT_REC_RUBY_INDEX_POSITIONS) {
		size_t m = e->index.len / 4 < have ? e->index.len / 4 : have;
		bool bounded = m >= r->info_size;

		for (size_t i = 0; i < m && !bounded; i++) {
			uint32_t p;

			memcpy(&p, e->index.data + i * 4, 4);
			bounded = p > pos;
		}
		if (!bounded)
			return 0;
	}
	return rt_ruby_linetable__line(e->info.data, have, r->info_entry_size, r->info_line_offset,
				       r->index_kind, e->index.data, e->index.len, r->succ_immediate,
				       r->succ_block_size, pos);
}

/* Pieces of @e's line table are still to come. */
static bool table_pending(const struct entry *e)
{
	return e->rec && (e->info.len < e->info.max || e->index.len < e->index.max);
}

/* The line of pc @lasti of entry @e (NULL: none). */
static int frame_line(const struct entry *e, uint32_t lasti)
{
	/* pc points past the instruction being run */
	return e && e->rec ? entry_line(e, lasti ? lasti - 1 : 0) : 0;
}

static int ruby_line(const struct rt_runtime_decoder *dec, uint32_t pid,
		     const struct rt_interp_frame_key *key)
{
	const struct entry *e = rt_code_table__find(&dec->codes, pid, key->code);

	if (!e || e->tag != key->rec_flags >> RT_REC_FRAME_TAG_SHIFT ||
	    e->cfunc != !!(key->rec_flags & RT_REC_FRAME_RUBY_CFUNC))
		return 0;
	return frame_line(e, key->lasti);
}

static int ruby_take_stack(struct rt_runtime_decoder *dec, const void *raw, size_t size,
			   uint32_t pid, uint32_t tid, struct rt_interp_stack *out,
			   struct rt_interp_decoder_stats *stats)
{
	const struct rt_rec_frame *frames;
	struct rt_rec_stack rec;
	unsigned int sflags;
	size_t n = 0, nr;
	struct rt_frame_memo memo[RT_FRAME_MEMO] = { 0 };

	if (size < sizeof(rec))
		return -EINVAL;
	memcpy(&rec, raw, sizeof(rec));
	if (rt_rec_stack__check(&rec, size, RT_REC_RUNTIME_RUBY, pid, tid, &sflags) ||
	    rt_rec_stack__frames(dec, &rec, raw, &frames, &nr, &sflags, stats))
		return -EINVAL;
	for (size_t k = nr; k-- > 0;) {
		struct rt_rec_frame f = frames[k];
		struct rt_interp_frame *o = &dec->frames[n];
		bool hit;
		const struct entry *e;
		struct rt_frame_memo *slot = rt_frame_memo__slot(memo, &f, &hit);

		if (hit) {
			e = slot->entry;
		} else {
			e = rt_code_table__find(&dec->codes, rec.pid, f.code);
			if (e && (e->tag != f.flags >> RT_REC_FRAME_TAG_SHIFT ||
				  e->cfunc != !!(f.flags & RT_REC_FRAME_RUBY_CFUNC)))
				e = NULL;
			if (e)
				*slot = (struct rt_frame_memo){ f.code, f.lasti, f.flags, e,
								frame_line(e, f.lasti) };
		}
		o->flags = (f.flags & RT_REC_FRAME_ENTRY) ? RT_INTERP_FRAME_ENTRY : 0;
		if (e) {
			rt_interp_frame__set(o, e->function, e->file, slot->line);
			if (!slot->line && table_pending(e))
				rt_interp_frame__line_pending(o, &f, RT_REC_RUNTIME_RUBY);
		} else {
			rt_interp_frame__set_unknown(o, UNKNOWN_FUNCTION, &sflags, stats);
		}
		n++;
	}
	return rt_interp_stack__finish(out, &rec, (int)RT_REC_RUNTIME_RUBY, dec->frames, n, sflags,
				       stats);
}

/* Appends a piece of an iseq's line table (its entries or its index) where
 * it continues exactly what the entry holds, for the record with the same
 * tag; any other piece is ignored. */
static int ruby_take_piece(struct rt_runtime_decoder *dec, const struct rt_rec_code_piece *rec,
			   uint32_t pid)
{
	struct rt_ruby_table *t;
	struct entry *e;
	uint8_t *d;

	if ((pid != UINT32_MAX && pid != rec->pid) || !rec->nbytes ||
	    rec->nbytes > RT_REC_PIECE_MAX ||
	    (rec->field != RT_REC_PIECE_RUBY_INFO && rec->field != RT_REC_PIECE_RUBY_INDEX))
		return -EINVAL;
	e = rt_code_table__find(&dec->codes, rec->pid, rec->code);
	if (!e || e->tag != rec->tag || !e->rec)
		return 0;
	t = rec->field == RT_REC_PIECE_RUBY_INFO ? &e->info : &e->index;
	if (rec->offset != t->len || t->len > t->max || rec->nbytes > t->max - t->len)
		return 0;
	d = realloc(t->data, t->len + rec->nbytes);
	if (!d)
		return -ENOMEM;
	memcpy(d + t->len, rec->data, rec->nbytes);
	t->data = d;
	t->len += rec->nbytes;
	return 0;
}

const struct rt_decoding rt_ruby_decoding = {
	.code_type = RT_REC_RUBY_CODE,
	.stack_runtime = RT_REC_RUNTIME_RUBY,
	.entry_size = sizeof(struct entry),
	.exit_entry = entry_exit,
	.take_code = ruby_take_code,
	.take_stack = ruby_take_stack,
	.take_piece = ruby_take_piece,
	.line = ruby_line,
};
