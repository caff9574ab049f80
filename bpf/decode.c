/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/decode.h"
#include "bpf/decode_ruby.h"
#include "bpf/record.h"
#include "layouts/layout.h"

#define UNKNOWN_FUNCTION "[unknown python]"

struct code_entry {
	uint32_t pid;
	uint32_t tag;
	uint64_t code;
	int firstlineno;
	uint32_t firsttraceable;
	uint32_t version;
	const char *function; /* interned */
	const char *file;     /* interned */
	uint8_t *linetable;
	size_t linetable_len;
	bool used;
};

struct rt_interp_decoder {
	struct code_entry *codes;
	size_t codes_cap, codes_used; /* open addressing, power of two */
	char **strings;
	size_t strings_cap, strings_used;
	struct rt_interp_frame frames[RT_REC_MAX_FRAMES];
	struct rt_interp_decoder_stats stats;
	struct rt_ruby_decoder *ruby; /* CRuby records (decode_ruby.c); NULL until one comes */
};

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t code_hash(uint32_t pid, uint64_t code)
{
	return hash64(code ^ ((uint64_t)pid << 47) ^ pid);
}

struct rt_interp_decoder *rt_interp_decoder__new(void)
{
	struct rt_interp_decoder *dec = calloc(1, sizeof(*dec));

	if (!dec)
		return NULL;
	dec->codes_cap = 256;
	dec->codes = calloc(dec->codes_cap, sizeof(*dec->codes));
	dec->strings_cap = 256;
	dec->strings = calloc(dec->strings_cap, sizeof(*dec->strings));
	if (!dec->codes || !dec->strings) {
		rt_interp_decoder__free(dec);
		errno = ENOMEM;
		return NULL;
	}
	return dec;
}

void rt_interp_decoder__free(struct rt_interp_decoder *dec)
{
	if (!dec)
		return;
	if (dec->codes)
		for (size_t i = 0; i < dec->codes_cap; i++)
			free(dec->codes[i].linetable);
	if (dec->strings)
		for (size_t i = 0; i < dec->strings_cap; i++)
			free(dec->strings[i]);
	rt_ruby_decoder__free(dec->ruby);
	free(dec->codes);
	free(dec->strings);
	free(dec);
}

void rt_interp_decoder__stats(const struct rt_interp_decoder *dec,
			      struct rt_interp_decoder_stats *stats)
{
	*stats = dec->stats;
}

/* Strings live until the decoder is freed, so handed-out pointers stay valid
 * when a code object's record is replaced. */
static const char *intern(struct rt_interp_decoder *dec, const char *s)
{
	size_t mask, i;

	if (dec->strings_used * 2 >= dec->strings_cap) {
		size_t ncap = dec->strings_cap * 2;
		char **n = calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < dec->strings_cap; j++) {
			if (!dec->strings[j])
				continue;
			i = hash_str(dec->strings[j]) & (ncap - 1);
			while (n[i])
				i = (i + 1) & (ncap - 1);
			n[i] = dec->strings[j];
		}
		free(dec->strings);
		dec->strings = n;
		dec->strings_cap = ncap;
	}
	mask = dec->strings_cap - 1;
	for (i = hash_str(s) & mask; dec->strings[i]; i = (i + 1) & mask)
		if (!strcmp(dec->strings[i], s))
			return dec->strings[i];
	dec->strings[i] = strdup(s);
	if (!dec->strings[i])
		return NULL;
	dec->strings_used++;
	return dec->strings[i];
}

static struct code_entry *code_find(const struct rt_interp_decoder *dec, uint32_t pid,
				    uint64_t code)
{
	size_t mask = dec->codes_cap - 1;

	for (size_t i = code_hash(pid, code) & mask; dec->codes[i].used; i = (i + 1) & mask)
		if (dec->codes[i].pid == pid && dec->codes[i].code == code)
			return &dec->codes[i];
	return NULL;
}

static int codes_grow(struct rt_interp_decoder *dec)
{
	size_t ncap = dec->codes_cap * 2;
	struct code_entry *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t j = 0; j < dec->codes_cap; j++) {
		struct code_entry *e = &dec->codes[j];
		size_t i;

		if (!e->used)
			continue;
		for (i = code_hash(e->pid, e->code) & (ncap - 1); n[i].used; i = (i + 1) & (ncap - 1))
			;
		n[i] = *e;
	}
	free(dec->codes);
	dec->codes = n;
	dec->codes_cap = ncap;
	return 0;
}

static struct code_entry *code_insert(struct rt_interp_decoder *dec, uint32_t pid, uint64_t code)
{
	struct code_entry *e = code_find(dec, pid, code);
	size_t mask, i;

	if (e)
		return e;
	if (dec->codes_used * 2 >= dec->codes_cap && codes_grow(dec))
		return NULL;
	mask = dec->codes_cap - 1;
	for (i = code_hash(pid, code) & mask; dec->codes[i].used; i = (i + 1) & mask)
		;
	e = &dec->codes[i];
	e->used = true;
	e->pid = pid;
	e->code = code;
	dec->codes_used++;
	return e;
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

static bool header_ok(const struct rt_rec_header *h, size_t size)
{
	return h->magic == RT_REC_MAGIC && h->version >= RT_REC_VERSION_MIN &&
	       h->version <= RT_REC_VERSION &&
	       h->size >= sizeof(*h) && h->size <= size;
}

static int take_code(struct rt_interp_decoder *dec, const struct rt_rec_code *rec)
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
	function = intern(dec, qualname[0] ? qualname : name[0] ? name : UNKNOWN_FUNCTION);
	filename = intern(dec, file);
	if (!function || !filename)
		return -ENOMEM;
	if (rec->linetable_nbytes) {
		lt = malloc(rec->linetable_nbytes);
		if (!lt)
			return -ENOMEM;
		memcpy(lt, rec->linetable, rec->linetable_nbytes);
	}
	e = code_insert(dec, rec->pid, rec->code);
	if (!e) {
		free(lt);
		return -ENOMEM;
	}
	free(e->linetable);
	e->linetable = lt;
	e->linetable_len = rec->linetable_nbytes;
	e->tag = rec->tag;
	e->firstlineno = (int)rec->firstlineno;
	e->firsttraceable = rec->firsttraceable;
	e->version = rec->version;
	e->function = function;
	e->file = filename;
	dec->stats.code_records++;
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

static int take_stack(struct rt_interp_decoder *dec, const struct rt_rec_stack *rec, size_t size,
		      uint32_t pid, uint32_t tid, struct rt_interp_stack *out)
{
	const unsigned char *base = (const unsigned char *)rec;
	size_t n = 0;
	unsigned int sflags = 0;
	bool every_frame_entry, pending_entry = false;

	if (rec->hdr.size < sizeof(*rec) || rec->nr_frames > RT_REC_MAX_FRAMES ||
	    sizeof(*rec) + (size_t)rec->nr_frames * sizeof(struct rt_rec_frame) > rec->hdr.size ||
	    rec->runtime != RT_REC_RUNTIME_CPYTHON ||
	    rec->flags & ~(RT_REC_STACK_TRUNCATED | RT_REC_STACK_READ_FAULT))
		return -EINVAL;
	if ((pid != UINT32_MAX && pid != rec->pid) || (tid != UINT32_MAX && tid != rec->tid))
		return -EINVAL;
	(void)size;
	if (rec->flags & RT_REC_STACK_TRUNCATED)
		sflags |= RT_INTERP_STACK_TRUNCATED;
	if (rec->flags & RT_REC_STACK_READ_FAULT)
		sflags |= RT_INTERP_STACK_INCOMPLETE;

	/* Before 3.11 every Python frame runs in its own eval-loop C frame. */
	every_frame_entry = ((rec->version >> 16) & 0xff) < 3 ||
			    (((rec->version >> 16) & 0xff) == 3 && ((rec->version >> 8) & 0xff) < 11);
	/* Record frames are leaf first; the output is root first.  A 3.12+
	 * shim frame marks a C entry into the eval loop: the frame leafward of
	 * it (the next one here) is that loop's first. */
	for (uint32_t k = rec->nr_frames; k-- > 0;) {
		struct rt_rec_frame f;
		struct rt_interp_frame *o = &dec->frames[n];
		const struct code_entry *e;
		uint32_t tag;
		bool entry = pending_entry;

		memcpy(&f, base + sizeof(*rec) + (size_t)k * sizeof(f), sizeof(f));
		pending_entry = false;
		if (f.flags & RT_REC_FRAME_SHIM) {
			pending_entry = true;
			continue;
		}
		tag = f.flags >> RT_REC_FRAME_TAG_SHIFT;
		e = code_find(dec, rec->pid, f.code);
		if (e && e->tag != tag)
			e = NULL;
		/* A frame whose first instruction has not run yet is still being
		 * set up (CPython's _PyFrame_IsIncomplete): not part of the stack.
		 * Before 3.11 a new frame is complete, at its first line. */
		if (!every_frame_entry && !(f.flags & RT_REC_FRAME_GENERATOR) &&
		    (int32_t)f.lasti < (e ? (int32_t)e->firsttraceable : 0))
			continue;
		o->flags = (f.flags & RT_REC_FRAME_ENTRY) || entry || every_frame_entry ?
				   RT_INTERP_FRAME_ENTRY : 0;
		if (e) {
			int line = frame_line(e, f.lasti);
			o->function = e->function;
			o->file = e->file;
			o->line = line > 0 ? line : 0;
			if (line <= 0)
				o->flags |= RT_INTERP_FRAME_NO_LINE;
		} else {
			o->function = UNKNOWN_FUNCTION;
			o->file = "";
			o->line = 0;
			o->flags |= RT_INTERP_FRAME_NO_SYMBOLS | RT_INTERP_FRAME_NO_LINE;
			sflags |= RT_INTERP_STACK_NO_SYMBOLS;
			dec->stats.unknown_frames++;
		}
		n++;
	}
	out->pid = rec->pid;
	out->tid = rec->tid;
	out->runtime = RT_RUNTIME_CPYTHON;
	out->nr_frames = n;
	out->frames = dec->frames;
	out->flags = sflags;
	dec->stats.stacks++;
	dec->stats.frames += n;
	if (sflags & RT_INTERP_STACK_TRUNCATED)
		dec->stats.truncated++;
	if (sflags & RT_INTERP_STACK_INCOMPLETE)
		dec->stats.incomplete++;
	return 1;
}

int rt_interp_decoder__feed(struct rt_interp_decoder *dec, const void *raw, size_t size,
			    uint32_t pid, uint32_t tid, struct rt_interp_stack *out)
{
	struct rt_rec_header h;
	uint32_t runtime = 0;
	int err = -EINVAL;

	if (!raw || size < sizeof(h))
		goto bad;
	memcpy(&h, raw, sizeof(h));
	if (!header_ok(&h, size))
		goto bad;
	/* Records are copied out before use: RAW data in a perf.data mapping
	 * is only 4-byte aligned behind the 4-byte size field. */
	if (h.type == RT_REC_STACK && h.size >= sizeof(struct rt_rec_stack))
		memcpy(&runtime, (const char *)raw + offsetof(struct rt_rec_stack, runtime),
		       sizeof(runtime));
	if (h.type == RT_REC_RUBY_CODE) {
		err = rt_ruby_decoder__take_code(&dec->ruby, raw, h.size, pid, &dec->stats);
	} else if (h.type == RT_REC_STACK && runtime == RT_REC_RUNTIME_RUBY) {
		err = rt_ruby_decoder__take_stack(&dec->ruby, raw, h.size, pid, tid, out, &dec->stats);
	} else if (h.type == RT_REC_STACK) {
		union {
			struct rt_rec_stack s;
			unsigned char b[sizeof(struct rt_rec_stack) +
					RT_REC_MAX_FRAMES * sizeof(struct rt_rec_frame)];
		} buf;

		if (h.size > sizeof(buf) || h.size < sizeof(struct rt_rec_stack))
			goto bad;
		memcpy(&buf, raw, h.size);
		err = take_stack(dec, &buf.s, h.size, pid, tid, out);
	} else if (h.type == RT_REC_CODE) {
		struct rt_rec_code *rec;

		if (h.size != sizeof(*rec))
			goto bad;
		rec = malloc(sizeof(*rec));
		if (!rec)
			return -ENOMEM;
		memcpy(rec, raw, sizeof(*rec));
		err = pid != UINT32_MAX && pid != rec->pid ? -EINVAL : take_code(dec, rec);
		free(rec);
	}
	if (err >= 0 || err == -ENOMEM)
		return err;
bad:
	dec->stats.bad_records++;
	return -EINVAL;
}
