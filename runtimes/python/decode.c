/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython records (RT_REC_CODE, stack records of RT_REC_RUNTIME_CPYTHON):
 * code objects' names, files and line tables, and stacks turned into
 * frames with line numbers, for runtimes/decode.c's dispatch.
 */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "layouts/layout.h"
#include "runtimes/decode_common.h"
#include "runtimes/python/decode.h"

#define UNKNOWN_FUNCTION "[unknown python]"

struct code_entry {
	struct rt_code_key key; /* first: an entry of dec->codes */
	uint32_t tag;
	int firstlineno;
	uint32_t firsttraceable;
	uint32_t version;
	const char *function; /* interned */
	const char *file;     /* interned */
	uint8_t *linetable;
	size_t linetable_len;
	size_t linetable_total; /* the runtime's whole table: pieces may follow */
};

static void code_entry_exit(void *entry)
{
	free(((struct code_entry *)entry)->linetable);
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd; /* lone surrogates (surrogateescape) are not valid UTF-8 */
	if (cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Converts the runtime's fixed-width characters to UTF-8 in @out (at least
 * 4 * RT_REC_STR_MAX + 8 bytes).  NUL characters become '?' so the result is
 * one C string; a cut-off string ends in "...". */
static int string_to_utf8(const struct rt_rec_string *s, char *out)
{
	size_t n = 0;

	if (s->kind != 1 && s->kind != 2 && s->kind != 4)
		return -EINVAL;
	if (s->nbytes > RT_REC_STR_MAX || s->nbytes % s->kind ||
	    (uint64_t)s->nbytes > (uint64_t)s->length * s->kind)
		return -EINVAL;
	for (size_t i = 0; i < s->nbytes; i += s->kind) {
		uint32_t cp;

		if (s->kind == 1) {
			cp = s->data[i];
		} else if (s->kind == 2) {
			uint16_t v;

			memcpy(&v, &s->data[i], 2);
			cp = v;
		} else {
			memcpy(&cp, &s->data[i], 4);
		}
		if (s->kind == 1 && s->ascii && cp >= 0x80)
			return -EINVAL;
		if (cp == 0)
			cp = '?';
		n += put_utf8(out + n, cp);
	}
	if ((uint64_t)s->nbytes < (uint64_t)s->length * s->kind) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return 0;
}

static int take_code(struct rt_runtime_decoder *dec, const struct rt_rec_code *rec,
		     struct rt_interp_decoder_stats *stats)
{
	char name[4 * RT_REC_STR_MAX + 8], qualname[4 * RT_REC_STR_MAX + 8];
	char file[4 * RT_REC_STR_MAX + 8];
	const char *function, *filename;
	struct code_entry *e;
	uint8_t *lt = NULL;

	if (rec->runtime != RT_REC_RUNTIME_CPYTHON || rec->tag > 0xffffff ||
	    rec->linetable_nbytes > RT_REC_LINETABLE_MAX ||
	    rec->linetable_nbytes > rec->linetable_length || rec->firstlineno > INT32_MAX)
		return -EINVAL;
	if (string_to_utf8(&rec->name, name) || string_to_utf8(&rec->filename, file))
		return -EINVAL;
	/* An unreadable qualname is tolerated: co_name names the function too. */
	if (rec->qualname.kind == 0 || string_to_utf8(&rec->qualname, qualname))
		qualname[0] = '\0';
	function = rt_string_table__intern(&dec->strings,
					   qualname[0] ? qualname : name[0] ? name : UNKNOWN_FUNCTION);
	filename = rt_string_table__intern(&dec->strings, file);
	if (!function || !filename)
		return -ENOMEM;
	if (rec->linetable_nbytes) {
		lt = malloc(rec->linetable_nbytes);
		if (!lt)
			return -ENOMEM;
		memcpy(lt, rec->linetable, rec->linetable_nbytes);
	}
	e = rt_code_table__insert(&dec->codes, rec->pid, rec->code);
	if (!e) {
		free(lt);
		return -ENOMEM;
	}
	free(e->linetable);
	e->linetable = lt;
	e->linetable_len = rec->linetable_nbytes;
	e->linetable_total = rec->linetable_length;
	e->tag = rec->tag;
	e->firstlineno = (int)rec->firstlineno;
	e->firsttraceable = rec->firsttraceable;
	e->version = rec->version;
	e->function = function;
	e->file = filename;
	stats->code_records++;
	return 0;
}

static bool read_varint(const uint8_t *t, size_t len, size_t *pos, uint32_t *val)
{
	uint32_t v = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		if (*pos >= len || shift > 30)
			return false;
		b = t[(*pos)++];
		if (b & 0x80)
			return false; /* an entry start inside a varint: malformed */
		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*val = v;
	return true;
}

int rt_interp_linetable311__line(const uint8_t *t, size_t len, int firstlineno, uint32_t lasti)
{
	/* One entry per address range: a start byte (bit 7 set) holding the
	 * kind (bits 3-6) and the range length in code units minus one (bits
	 * 0-2), then kind-specific bytes.  Lines are deltas from the previous
	 * entry's line, starting at co_firstlineno. */
	int64_t line = firstlineno;
	uint64_t addr = 0;
	size_t pos = 0;

	while (pos < len) {
		uint8_t b = t[pos++];
		unsigned int kind = (b >> 3) & 15, units = (b & 7) + 1;
		int64_t delta = 0;
		uint32_t v;

		if (!(b & 0x80))
			return -EINVAL;
		switch (kind) {
		case 15: /* no location */
			break;
		case 14: /* long form: line delta, end line delta, column, end column */
			if (!read_varint(t, len, &pos, &v))
				return lasti >= addr ? 0 : -EINVAL;
			delta = (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
			for (int k = 0; k < 3; k++)
				if (!read_varint(t, len, &pos, &v))
					return 0;
			break;
		case 13: /* no column */
			if (!read_varint(t, len, &pos, &v))
				return 0;
			delta = (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
			break;
		case 10: case 11: case 12: /* one line form: delta kind-10, two column bytes */
			delta = kind - 10;
			pos += 2;
			break;
		default: /* short form: same line, one column byte */
			pos += 1;
			break;
		}
		line += delta;
		if (line < -(int64_t)INT32_MAX || line > INT32_MAX)
			return -EINVAL;
		if (lasti >= addr && lasti < addr + units) {
			if (pos > len)
				return 0; /* the entry's own bytes were cut off */
			return kind == 15 || line <= 0 ? 0 : (int)line;
		}
		addr += units;
	}
	return 0;
}

int rt_interp_lnotab__line(const uint8_t *t, size_t len, int firstlineno, int32_t lasti,
			   bool signed_lines)
{
	/* (bytecode offset increment, line increment) byte pairs; the line
	 * increment is signed from 3.6 on.  A frame that has not started
	 * (lasti -1) is at the first line. */
	int64_t line = firstlineno, addr = 0;

	for (size_t pos = 0; pos + 1 < len; pos += 2) {
		addr += t[pos];
		if (addr > lasti)
			break;
		line += signed_lines ? (int8_t)t[pos + 1] : t[pos + 1];
	}
	return line > 0 && line <= INT32_MAX ? (int)line : 0;
}

int rt_interp_linetable310__line(const uint8_t *t, size_t len, int firstlineno, int32_t lasti)
{
	/* 3.10 (PEP 626): (range length in bytes, signed line delta) pairs,
	 * delta -128 meaning "no line"; lasti counts 2-byte code units. */
	int64_t addr = (int64_t)lasti * 2, end = 0, line = firstlineno, range_line = -1;
	size_t pos = 0;

	if (lasti < 0)
		return firstlineno > 0 ? firstlineno : 0;
	while (end <= addr) {
		int8_t delta;

		if (pos + 1 >= len)
			return 0;
		end += t[pos];
		delta = (int8_t)t[pos + 1];
		pos += 2;
		if (delta == -128) {
			range_line = -1;
		} else {
			line += delta;
			range_line = line;
		}
	}
	return range_line > 0 && range_line <= INT32_MAX ? (int)range_line : 0;
}

/* Line of a frame at @lasti (as the walker sent it) in code object @e. */
static int frame_line(const struct code_entry *e, uint32_t lasti)
{
	unsigned int major = (e->version >> 16) & 0xff, minor = (e->version >> 8) & 0xff;

	if (major > 3 || (major == 3 && minor >= 11))
		return rt_interp_linetable311__line(e->linetable, e->linetable_len, e->firstlineno, lasti);
	if (major == 3 && minor == 10)
		return rt_interp_linetable310__line(e->linetable, e->linetable_len, e->firstlineno,
						    (int32_t)lasti);
	return rt_interp_lnotab__line(e->linetable, e->linetable_len, e->firstlineno, (int32_t)lasti,
				      major >= 3 && (major > 3 || minor >= 6));
}

static int take_stack(struct rt_runtime_decoder *dec, const struct rt_rec_stack *rec, size_t size,
		      uint32_t pid, uint32_t tid, struct rt_interp_stack *out,
		      struct rt_interp_decoder_stats *stats)
{
	const struct rt_rec_frame *frames;
	size_t n = 0, nr;
	unsigned int sflags;
	bool every_frame_entry, pending_entry = false;
	struct rt_frame_memo memo[RT_FRAME_MEMO] = { 0 };

	if (rt_rec_stack__check(rec, size, RT_REC_RUNTIME_CPYTHON, pid, tid, &sflags) ||
	    rt_rec_stack__frames(dec, rec, rec, &frames, &nr, &sflags, stats))
		return -EINVAL;

	/* Before 3.11 every Python frame runs in its own eval-loop C frame. */
	every_frame_entry = ((rec->version >> 16) & 0xff) < 3 ||
			    (((rec->version >> 16) & 0xff) == 3 && ((rec->version >> 8) & 0xff) < 11);
	/* Record frames are leaf first; the output is root first.  A 3.12+
	 * shim frame marks a C entry into the eval loop: the frame leafward of
	 * it (the next one here) is that loop's first. */
	for (size_t k = nr; k-- > 0;) {
		struct rt_rec_frame f = frames[k];
		struct rt_interp_frame *o = &dec->frames[n];
		const struct code_entry *e;
		struct rt_frame_memo *slot;
		uint32_t tag;
		bool entry = pending_entry, hit;

		pending_entry = false;
		if (f.flags & RT_REC_FRAME_SHIM) {
			pending_entry = true;
			continue;
		}
		tag = f.flags >> RT_REC_FRAME_TAG_SHIFT;
		slot = rt_frame_memo__slot(memo, &f, &hit);
		if (hit) {
			e = slot->entry;
		} else {
			e = rt_code_table__find(&dec->codes, rec->pid, f.code);
			if (e && e->tag != tag)
				e = NULL;
			if (e)
				*slot = (struct rt_frame_memo){ f.code, f.lasti, f.flags, e,
								frame_line(e, f.lasti) };
		}
		/* A frame whose first instruction has not run yet is still being
		 * set up (CPython's _PyFrame_IsIncomplete): not part of the stack.
		 * Before 3.11 a new frame is complete, at its first line. */
		if (!every_frame_entry && !(f.flags & RT_REC_FRAME_GENERATOR) &&
		    (int32_t)f.lasti < (e ? (int32_t)e->firsttraceable : 0))
			continue;
		o->flags = (f.flags & RT_REC_FRAME_ENTRY) || entry || every_frame_entry ?
				   RT_INTERP_FRAME_ENTRY : 0;
		if (e)
			rt_interp_frame__set(o, e->function, e->file, slot->line);
		else
			rt_interp_frame__set_unknown(o, UNKNOWN_FUNCTION, &sflags, stats);
		if (e && !slot->line && e->linetable_len < e->linetable_total)
			rt_interp_frame__line_pending(o, &f, RT_REC_RUNTIME_CPYTHON);
		n++;
	}
	return rt_interp_stack__finish(out, rec, RT_RUNTIME_CPYTHON, dec->frames, n, sflags,
				       stats);
}

static int python_take_code(struct rt_runtime_decoder *dec, const void *raw, size_t size,
			    uint32_t pid, struct rt_interp_decoder_stats *stats)
{
	struct rt_rec_code *rec;
	int err;

	if (size != sizeof(*rec))
		return -EINVAL;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	memcpy(rec, raw, sizeof(*rec));
	err = pid != UINT32_MAX && pid != rec->pid ? -EINVAL : take_code(dec, rec, stats);
	free(rec);
	return err;
}

static int python_take_stack(struct rt_runtime_decoder *dec, const void *raw, size_t size,
			     uint32_t pid, uint32_t tid, struct rt_interp_stack *out,
			     struct rt_interp_decoder_stats *stats)
{
	union {
		struct rt_rec_stack s;
		unsigned char b[sizeof(struct rt_rec_stack) +
				RT_REC_MAX_FRAMES * sizeof(struct rt_rec_frame)];
	} buf;

	if (size > sizeof(buf) || size < sizeof(struct rt_rec_stack))
		return -EINVAL;
	memcpy(&buf, raw, size);
	return take_stack(dec, &buf.s, size, pid, tid, out, stats);
}

static int python_line(const struct rt_runtime_decoder *dec, uint32_t pid,
		       const struct rt_interp_frame_key *key)
{
	const struct code_entry *e = rt_code_table__find(&dec->codes, pid, key->code);

	if (!e || e->tag != key->rec_flags >> RT_REC_FRAME_TAG_SHIFT)
		return 0;
	return frame_line(e, key->lasti);
}

/* Appends a piece to its code object's line table: only the piece that
 * continues it exactly (a lost piece leaves the rest out, the lines past
 * it unknown), for the record with the same tag. */
static int python_take_piece(struct rt_runtime_decoder *dec, const struct rt_rec_code_piece *rec,
			     uint32_t pid)
{
	struct code_entry *e;
	uint8_t *lt;

	if ((pid != UINT32_MAX && pid != rec->pid) || rec->field != RT_REC_PIECE_PY_LINETABLE ||
	    !rec->nbytes || rec->nbytes > RT_REC_PIECE_MAX)
		return -EINVAL;
	e = rt_code_table__find(&dec->codes, rec->pid, rec->code);
	if (!e || e->tag != rec->tag || rec->offset != e->linetable_len ||
	    rec->nbytes > e->linetable_total - e->linetable_len)
		return 0; /* not the continuation of what we hold: ignored */
	lt = realloc(e->linetable, e->linetable_len + rec->nbytes);
	if (!lt)
		return -ENOMEM;
	memcpy(lt + e->linetable_len, rec->data, rec->nbytes);
	e->linetable = lt;
	e->linetable_len += rec->nbytes;
	return 0;
}

const struct rt_decoding rt_python_decoding = {
	.code_type = RT_REC_CODE,
	.stack_runtime = RT_REC_RUNTIME_CPYTHON,
	.entry_size = sizeof(struct code_entry),
	.exit_entry = code_entry_exit,
	.take_code = python_take_code,
	.take_stack = python_take_stack,
	.take_piece = python_take_piece,
	.line = python_line,
};
