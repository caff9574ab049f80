/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record decoder: location tables, symbol and stack records, identity
 * tags, and rejection of malformed input.  The location table vector was
 * produced by CPython 3.11.7 for the function in LT_SOURCE; the expected
 * lines are that interpreter's own co_lines() answer.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/decode.h"
#include "runtimes/python/decode.h"
#include "bpf/record.h"
#include "layouts/layout.h"

/* def f(a, b):            # line 2
 *     x = a + b
 *     if x > 3:
 *         y = [i * 2
 *              for i in range(x)]
 *     else:
 *         y = None
 *
 *
 *     return (x,
 *             y)                                                   */
static const uint8_t lt_f[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xd8, 0x07, 0x08,
	0x88, 0x31, 0x82, 0x75, 0x80, 0x75, 0xf0, 0x02, 0x01, 0x0d, 0x20, 0xf0, 0x00, 0x01,
	0x0d, 0x20, 0xdd, 0x16, 0x1b, 0x98, 0x41, 0x91, 0x68, 0x94, 0x68, 0xf0, 0x03, 0x01,
	0x0d, 0x20, 0xf1, 0x00, 0x01, 0x0d, 0x20, 0xf4, 0x00, 0x01, 0x0d, 0x20, 0x88, 0x01,
	0x88, 0x01, 0xf0, 0x06, 0x00, 0x0d, 0x11, 0x88, 0x01, 0xf0, 0x06, 0x00, 0x0d, 0x0e,
	0xd8, 0x0c, 0x0d, 0xf0, 0x03, 0x01, 0x0c, 0x0f, 0xf0, 0x00, 0x01, 0x05, 0x0f,
};
static const int lt_f_lines[] = { /* by code unit */
	2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 8, 8, 11, 12, 11, 11,
};
#define LT_F_FIRSTLINE 2

static void test_linetable(void)
{
	size_t n = sizeof(lt_f_lines) / sizeof(lt_f_lines[0]);

	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(rt_interp_linetable311__line(lt_f, sizeof(lt_f), LT_F_FIRSTLINE, i),
				lt_f_lines[i]);
	/* past the end, cut short, malformed */
	CU_ASSERT_EQUAL(rt_interp_linetable311__line(lt_f, sizeof(lt_f), LT_F_FIRSTLINE, n), 0);
	CU_ASSERT_EQUAL(rt_interp_linetable311__line(lt_f, 10, LT_F_FIRSTLINE, 40), 0);
	CU_ASSERT_EQUAL(rt_interp_linetable311__line(lt_f, 0, LT_F_FIRSTLINE, 0), 0);
	CU_ASSERT_EQUAL(rt_interp_linetable311__line(lt_f + 1, sizeof(lt_f) - 1, 2, 5), -EINVAL);
	/* negative deltas through the long form: line 10, then back to 7 */
	{
		static const uint8_t t[] = { 0x80, 0x00, 0xe8, 0x10, 0xf0, 0x07, 0x00, 0x01, 0x01 };

		CU_ASSERT_EQUAL(rt_interp_linetable311__line(t, sizeof(t), 2, 1), 10);
		CU_ASSERT_EQUAL(rt_interp_linetable311__line(t, sizeof(t), 2, 2), 7);
	}
	/* a "no location" entry gives no line */
	{
		static const uint8_t t[] = { 0x80, 0x00, 0xf8, 0xd8, 0x01, 0x02 };

		CU_ASSERT_EQUAL(rt_interp_linetable311__line(t, sizeof(t), 5, 0), 5);
		CU_ASSERT_EQUAL(rt_interp_linetable311__line(t, sizeof(t), 5, 1), 0);
		CU_ASSERT_EQUAL(rt_interp_linetable311__line(t, sizeof(t), 5, 2), 6);
	}
}

static void set_string(struct rt_rec_string *s, const char *ascii)
{
	memset(s, 0, sizeof(*s));
	s->length = strlen(ascii);
	s->kind = 1;
	s->ascii = 1;
	s->nbytes = s->length < RT_REC_STR_MAX ? s->length : RT_REC_STR_MAX;
	memcpy(s->data, ascii, s->nbytes);
}

static struct rt_rec_code *make_code(uint32_t pid, uint64_t code, uint64_t name_ptr,
				     const char *name, const char *qualname, const char *file,
				     uint32_t firstlineno)
{
	struct rt_rec_code *c = calloc(1, sizeof(*c));

	c->hdr.magic = RT_REC_MAGIC;
	c->hdr.version = RT_REC_VERSION;
	c->hdr.type = RT_REC_CODE;
	c->hdr.size = sizeof(*c);
	c->pid = pid;
	c->code = code;
	c->tag = rt_rec_code_tag(code, firstlineno, name_ptr, 0);
	c->runtime = RT_REC_RUNTIME_CPYTHON;
	c->version = 0x030b07;
	c->firstlineno = firstlineno;
	set_string(&c->name, name);
	set_string(&c->qualname, qualname);
	set_string(&c->filename, file);
	memcpy(c->linetable, lt_f, sizeof(lt_f));
	c->linetable_nbytes = c->linetable_length = sizeof(lt_f);
	return c;
}

struct stack_buf {
	struct rt_rec_stack s;
	struct rt_rec_frame f[RT_REC_MAX_FRAMES];
};

static size_t make_stack(struct stack_buf *b, uint32_t pid, uint32_t tid, uint32_t n)
{
	memset(b, 0, sizeof(*b));
	b->s.hdr.magic = RT_REC_MAGIC;
	b->s.hdr.version = RT_REC_VERSION;
	b->s.hdr.type = RT_REC_STACK;
	b->s.hdr.size = sizeof(b->s) + n * sizeof(struct rt_rec_frame);
	b->s.pid = pid;
	b->s.tid = tid;
	b->s.runtime = RT_REC_RUNTIME_CPYTHON;
	b->s.version = 0x030b07;
	b->s.nr_frames = n;
	return b->s.hdr.size;
}

static void set_frame(struct stack_buf *b, int i, uint64_t code, uint64_t name_ptr,
		      uint32_t firstlineno, uint32_t lasti, uint32_t flags)
{
	b->f[i].code = code;
	b->f[i].lasti = lasti;
	b->f[i].flags = flags | rt_rec_code_tag(code, firstlineno, name_ptr, 0) << RT_REC_FRAME_TAG_SHIFT;
}

static void test_stack(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *a = make_code(42, 0x1000, 0x5000, "f", "f", "a.py", 2);
	struct rt_rec_code *m = make_code(42, 0x2000, 0x6000, "<module>", "<module>", "main.py", 2);
	struct rt_interp_decoder_stats st;
	struct rt_interp_stack out;
	struct stack_buf b;
	size_t sz;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, a, sizeof(*a), 42, 43, &out), 0);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, m, sizeof(*m), 42, 42, &out), 0);

	sz = make_stack(&b, 42, 43, 3); /* leaf first: f (line 12), f (line 4), <module> */
	set_frame(&b, 0, 0x1000, 0x5000, 2, 41, 0);
	set_frame(&b, 1, 0x1000, 0x5000, 2, 8, RT_REC_FRAME_ENTRY);
	set_frame(&b, 2, 0x2000, 0x6000, 2, 0, RT_REC_FRAME_ENTRY);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz + 4 /* padding */, 42, 43, &out), 1);
	CU_ASSERT_EQUAL(out.pid, 42);
	CU_ASSERT_EQUAL(out.tid, 43);
	CU_ASSERT_EQUAL(out.runtime, RT_RUNTIME_CPYTHON);
	CU_ASSERT_EQUAL(out.flags, 0);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, 3);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "<module>");
	CU_ASSERT_STRING_EQUAL(out.frames[0].file, "main.py");
	CU_ASSERT_EQUAL(out.frames[0].line, 2);
	CU_ASSERT_EQUAL(out.frames[0].flags, RT_INTERP_FRAME_ENTRY);
	CU_ASSERT_STRING_EQUAL(out.frames[1].function, "f");
	CU_ASSERT_EQUAL(out.frames[1].line, 4);
	CU_ASSERT_EQUAL(out.frames[1].flags, RT_INTERP_FRAME_ENTRY);
	CU_ASSERT_EQUAL(out.frames[2].line, 12);
	CU_ASSERT_EQUAL(out.frames[2].flags, 0);

	/* Same address, different identity (memory reused): no stale name. */
	set_frame(&b, 0, 0x1000, 0x7777, 9, 3, 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	CU_ASSERT_EQUAL(out.flags, RT_INTERP_STACK_NO_SYMBOLS);
	CU_ASSERT(out.frames[2].flags & RT_INTERP_FRAME_NO_SYMBOLS);
	CU_ASSERT_STRING_NOT_EQUAL(out.frames[2].function, "f");

	/* An incomplete (just pushed) frame is left out. */
	set_frame(&b, 0, 0x1000, 0x5000, 2, UINT32_MAX, 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	CU_ASSERT_EQUAL(out.nr_frames, 2);

	/* Another process's code object at the same address is unknown here. */
	b.s.pid = 7;
	b.s.tid = 7;
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 7, 7, &out), 1);
	CU_ASSERT(out.flags & RT_INTERP_STACK_NO_SYMBOLS);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 8, 7, &out), -EINVAL);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, UINT32_MAX, UINT32_MAX, &out), 1);

	/* Truncated / read fault flags pass through. */
	b.s.flags = RT_REC_STACK_TRUNCATED | RT_REC_STACK_READ_FAULT;
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 7, 7, &out), 1);
	CU_ASSERT(out.flags & RT_INTERP_STACK_TRUNCATED);
	CU_ASSERT(out.flags & RT_INTERP_STACK_INCOMPLETE);

	rt_interp_decoder__stats(dec, &st);
	CU_ASSERT_EQUAL(st.code_records, 2);
	CU_ASSERT_EQUAL(st.stacks, 6);
	CU_ASSERT_EQUAL(st.bad_records, 1);
	CU_ASSERT_EQUAL(st.truncated, 1);
	free(a);
	free(m);
	rt_interp_decoder__free(dec);
}

/* A recursion repeats one code object at a few instructions: each frame
 * keeps its own line, and a frame of the same address with another tag
 * (memory reused) in the middle is not named from the repeats. */
static void test_repeated_frames(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *a = make_code(42, 0x1000, 0x5000, "f", "f", "a.py", 2);
	static const uint32_t lastis[] = { 8, 41, 13, 0, 29 };
	struct rt_interp_stack out;
	struct stack_buf b;
	uint32_t n = 200;
	size_t sz;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, a, sizeof(*a), 42, 43, &out), 0);
	sz = make_stack(&b, 42, 43, n);
	for (uint32_t i = 0; i < n; i++)
		set_frame(&b, (int)i, 0x1000, 0x5000, 2, lastis[i % 5], RT_REC_FRAME_ENTRY);
	set_frame(&b, 100, 0x1000, 0x7777, 9, lastis[0], RT_REC_FRAME_ENTRY);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct rt_interp_frame *f = &out.frames[n - 1 - i]; /* root first */

		if (i == 100) {
			CU_ASSERT(f->flags & RT_INTERP_FRAME_NO_SYMBOLS);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(f->function, "f");
		CU_ASSERT_EQUAL(f->line, lt_f_lines[lastis[i % 5]]);
	}
	free(a);
	rt_interp_decoder__free(dec);
}

static void test_strings_outlive_replacement(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *a = make_code(1, 0x1000, 0x5000, "old", "Cls.old", "x.py", 2);
	struct rt_rec_code *n = make_code(1, 0x1000, 0x5100, "new", "new", "y.py", 2);
	struct rt_interp_stack out;
	struct stack_buf b;
	const char *old;
	size_t sz = make_stack(&b, 1, 1, 1);

	rt_interp_decoder__feed(dec, a, sizeof(*a), 1, 1, &out);
	set_frame(&b, 0, 0x1000, 0x5000, 2, 1, 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 1, 1, &out), 1);
	old = out.frames[0].function;
	CU_ASSERT_STRING_EQUAL(old, "Cls.old");
	CU_ASSERT_EQUAL(out.frames[0].line, 3);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, n, sizeof(*n), 1, 1, &out), 0);
	set_frame(&b, 0, 0x1000, 0x5100, 2, 1, 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 1, 1, &out), 1);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "new");
	CU_ASSERT_STRING_EQUAL(out.frames[0].file, "y.py");
	CU_ASSERT_STRING_EQUAL(old, "Cls.old"); /* still valid */
	free(a);
	free(n);
	rt_interp_decoder__free(dec);
}

static void test_unicode(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *c = make_code(1, 0x1000, 0x5000, "x", "", "f.py", 2);
	struct rt_interp_stack out;
	struct stack_buf b;
	size_t sz = make_stack(&b, 1, 1, 1);
	uint16_t ucs2[] = { 0x3b1, 0x3b2, 0x20ac };
	uint32_t ucs4[] = { 0x1f600, 'z' };

	/* name in UCS-2, file in UCS-4, empty qualname: co_name is used */
	c->name.kind = 2;
	c->name.ascii = 0;
	c->name.length = 3;
	c->name.nbytes = sizeof(ucs2);
	memcpy(c->name.data, ucs2, sizeof(ucs2));
	c->filename.kind = 4;
	c->filename.ascii = 0;
	c->filename.length = 2;
	c->filename.nbytes = sizeof(ucs4);
	memcpy(c->filename.data, ucs4, sizeof(ucs4));
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 1, 1, &out), 0);
	set_frame(&b, 0, 0x1000, 0x5000, 2, 0, 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 1, 1, &out), 1);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "\xce\xb1\xce\xb2\xe2\x82\xac");
	CU_ASSERT_STRING_EQUAL(out.frames[0].file, "\xf0\x9f\x98\x80z");

	/* Latin-1 and a string cut at the record's bound. */
	c->name.kind = 1;
	c->name.length = 1000;
	c->name.nbytes = RT_REC_STR_MAX;
	memset(c->name.data, 0xe9, RT_REC_STR_MAX);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 1, 1, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 1, 1, &out), 1);
	CU_ASSERT_EQUAL(strlen(out.frames[0].function), 2 * RT_REC_STR_MAX + 3);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function + 2 * RT_REC_STR_MAX, "...");

	/* ASCII flag with a high byte, bad kind, odd byte count: rejected. */
	c->name.ascii = 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 1, 1, &out), -EINVAL);
	c->name.ascii = 0;
	c->name.kind = 3;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 1, 1, &out), -EINVAL);
	c->name.kind = 2;
	c->name.nbytes = 5;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 1, 1, &out), -EINVAL);
	free(c);
	rt_interp_decoder__free(dec);
}

static void test_malformed(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *c = make_code(1, 0x1000, 0x5000, "f", "f", "f.py", 2);
	struct rt_interp_decoder_stats st;
	struct rt_interp_stack out;
	struct stack_buf b, copy;
	size_t sz = make_stack(&b, 1, 1, 2);
	int bad = 0;

	set_frame(&b, 0, 0x1000, 0x5000, 2, 3, 0);
	set_frame(&b, 1, 0x1000, 0x5000, 2, 3, RT_REC_FRAME_ENTRY);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, NULL, 0, 1, 1, &out), -EINVAL);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, 8, 1, 1, &out), -EINVAL);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz - 1, 1, 1, &out), -EINVAL);
	copy = b;
	copy.s.hdr.magic ^= 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &copy, sz, 1, 1, &out), -EINVAL);
	copy = b;
	copy.s.hdr.version = 99;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &copy, sz, 1, 1, &out), -EINVAL);
	copy = b;
	copy.s.nr_frames = 3;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &copy, sz, 1, 1, &out), -EINVAL);
	copy = b;
	copy.s.nr_frames = UINT32_MAX;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &copy, sz, 1, 1, &out), -EINVAL);
	copy = b;
	copy.s.hdr.type = 77;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &copy, sz, 1, 1, &out), -EINVAL);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c) - 1, 1, 1, &out), -EINVAL);
	c->linetable_nbytes = RT_REC_LINETABLE_MAX + 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 1, 1, &out), -EINVAL);
	rt_interp_decoder__stats(dec, &st);
	CU_ASSERT_EQUAL(st.bad_records, 10);

	/* Random bit flips of valid records: any answer but a crash. */
	srand(1234);
	for (int i = 0; i < 20000; i++) {
		unsigned char rec[sizeof(*c)];
		size_t len;

		if (i & 1) {
			len = sizeof(*c);
			memcpy(rec, c, len);
			((struct rt_rec_code *)rec)->linetable_nbytes = sizeof(lt_f);
		} else {
			len = sz;
			memcpy(rec, &b, len);
		}
		for (int k = rand() % 4; k >= 0; k--)
			rec[rand() % (i & 1 ? 120 : len)] ^= 1u << (rand() % 8);
		if (rt_interp_decoder__feed(dec, rec, len, UINT32_MAX, UINT32_MAX, &out) < 0)
			bad++;
	}
	CU_ASSERT(bad > 0);
	free(c);
	rt_interp_decoder__free(dec);
	rt_interp_decoder__free(NULL);
}

static void test_old_line_tables(void)
{
	/* co_lnotab: +6 bytes +1 line, +8 bytes +2 lines, +4 bytes -1 line */
	static const uint8_t lnotab[] = { 6, 1, 8, 2, 4, 0xff };
	/* 3.10: 6 bytes at +1, 4 bytes without a line, 10 bytes at +2 */
	static const uint8_t lt310[] = { 6, 1, 4, 0x80, 10, 2 };

	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, -1, true), 10);
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, 5, true), 10);
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, 6, true), 11);
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, 13, true), 11);
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, 14, true), 13);
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, 30, true), 12);
	/* 2.7: increments are unsigned */
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, sizeof(lnotab), 10, 30, false), 10 + 1 + 2 + 255);
	CU_ASSERT_EQUAL(rt_interp_lnotab__line(lnotab, 3, 10, 30, true), 11); /* odd length */

	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, -1), 10);
	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, 0), 11);
	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, 2), 11);
	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, 3), 0);
	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, 5), 13);
	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, 9), 13);
	CU_ASSERT_EQUAL(rt_interp_linetable310__line(lt310, sizeof(lt310), 10, 10), 0);
}

/* Code objects that share their name and first line (every module's
 * <module> at line 1) and are allocated at the same address one after the
 * other differ by their file, and so must their tags. */
static void test_code_tag_file(void)
{
	uint64_t code = 0x7f0012345000ull, name = 0x7f00aaaa0000ull;
	uint32_t tags[64];

	for (int i = 0; i < 64; i++) {
		tags[i] = rt_rec_code_tag(code, 1, name, 0x7f00bbbb0000ull + 0x40ull * (uint64_t)i);
		CU_ASSERT(tags[i] <= 0xffffffu);
		for (int j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(tags[i], tags[j]);
	}
	CU_ASSERT_EQUAL(rt_rec_code_tag(code, 1, name, 0), rt_rec_code_tag(code, 1, name, 0));
}

static void test_frame_models(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *a = make_code(7, 0x1000, 0x5000, "f", "", "a.py", 10);
	struct rt_rec_code *m = make_code(7, 0x2000, 0x6000, "<module>", "", "m.py", 1);
	static const uint8_t lnotab[] = { 6, 1, 8, 2 };
	struct rt_interp_stack out;
	struct stack_buf b;
	size_t sz;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
	/* 3.9: PyFrameObject model, lnotab, every frame its own eval loop */
	a->version = m->version = 0x030912;
	memcpy(a->linetable, lnotab, sizeof(lnotab));
	a->linetable_nbytes = a->linetable_length = sizeof(lnotab);
	m->linetable_nbytes = m->linetable_length = 0;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, a, sizeof(*a), 7, 7, &out), 0);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, m, sizeof(*m), 7, 7, &out), 0);
	sz = make_stack(&b, 7, 7, 3);
	b.s.version = 0x030912;
	set_frame(&b, 0, 0x1000, 0x5000, 10, UINT32_MAX /* -1: not started */, 0);
	set_frame(&b, 1, 0x1000, 0x5000, 10, 14, 0);
	set_frame(&b, 2, 0x2000, 0x6000, 1, 0, 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 7, 7, &out), 1);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, 3);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "<module>");
	CU_ASSERT_EQUAL(out.frames[0].line, 1);
	CU_ASSERT_EQUAL(out.frames[1].line, 13);
	CU_ASSERT_EQUAL(out.frames[2].line, 10);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(out.frames[i].flags & RT_INTERP_FRAME_ENTRY);

	/* 3.12: shim frames are dropped; the frame run after each is an entry */
	sz = make_stack(&b, 7, 7, 5);
	b.s.version = 0x030c01;
	set_frame(&b, 0, 0x1000, 0x5000, 10, 3, 0);
	b.f[1].flags = RT_REC_FRAME_SHIM;
	set_frame(&b, 2, 0x1000, 0x5000, 10, 3, 0);
	set_frame(&b, 3, 0x2000, 0x6000, 1, 0, 0);
	b.f[4].flags = RT_REC_FRAME_SHIM;
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 7, 7, &out), 1);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, 3);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "<module>");
	CU_ASSERT_EQUAL(out.frames[0].flags & RT_INTERP_FRAME_ENTRY, RT_INTERP_FRAME_ENTRY);
	CU_ASSERT_EQUAL(out.frames[1].flags & RT_INTERP_FRAME_ENTRY, 0);
	CU_ASSERT_EQUAL(out.frames[2].flags & RT_INTERP_FRAME_ENTRY, RT_INTERP_FRAME_ENTRY);
	free(a);
	free(m);
	rt_interp_decoder__free(dec);
}

struct chunk_buf {
	struct rt_rec_chunk c;
	struct rt_rec_frame f[RT_REC_CHUNK_FRAMES];
};

/* Chunk @id of @pid: frames @from.. of the leaf-first @all. */
static void make_chunk(struct chunk_buf *b, uint32_t pid, uint64_t id, uint64_t parent,
		       const struct rt_rec_frame *all, size_t from)
{
	memset(b, 0, sizeof(*b));
	b->c.hdr = (struct rt_rec_header){ RT_REC_MAGIC, RT_REC_VERSION, RT_REC_STACK_CHUNK, sizeof(*b) };
	b->c.pid = pid;
	b->c.runtime = RT_REC_RUNTIME_CPYTHON;
	b->c.id = id;
	b->c.parent = parent;
	b->c.nr_frames = RT_REC_CHUNK_FRAMES;
	memcpy(b->f, all + from, sizeof(b->f));
}

/* A 600-deep stack as the walker sends it: 88 frames inline, then a
 * reference to two root-anchored chunks of 256. */
static void test_deep_stack(void)
{
	enum { DEPTH = 600, INLINE = DEPTH % RT_REC_CHUNK_FRAMES };
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *f = make_code(42, 0x1000, 0x5000, "f", "f", "a.py", 2);
	struct rt_rec_code *m = make_code(42, 0x2000, 0x6000, "<module>", "<module>", "main.py", 2);
	struct rt_rec_frame *all = calloc(DEPTH, sizeof(*all));
	struct chunk_buf *root = malloc(sizeof(*root)), *mid = malloc(sizeof(*mid));
	struct rt_interp_decoder_stats st;
	struct rt_interp_stack out;
	struct stack_buf b;
	size_t sz;
	bool in_order = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mid);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, f, sizeof(*f), 42, 43, &out), 0);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, m, sizeof(*m), 42, 43, &out), 0);
	/* leaf first: f at line 12 or 4 by depth, <module> at the root */
	sz = make_stack(&b, 42, 43, 0);
	for (int i = 0; i < DEPTH - 1; i++) {
		set_frame(&b, 0, 0x1000, 0x5000, 2, i % 3 ? 41 : 8, 0);
		all[i] = b.f[0];
	}
	set_frame(&b, 0, 0x2000, 0x6000, 2, 0, RT_REC_FRAME_ENTRY);
	all[DEPTH - 1] = b.f[0];
	make_chunk(root, 42, 0xaaaa, 0, all, DEPTH - RT_REC_CHUNK_FRAMES);
	make_chunk(mid, 42, 0xbbbb, 0xaaaa, all, INLINE);
	sz = make_stack(&b, 42, 43, INLINE + 1);
	memcpy(b.f, all, INLINE * sizeof(*all));
	b.f[INLINE] = (struct rt_rec_frame){ .code = 0xbbbb, .lasti = 2, .flags = RT_REC_FRAME_CHUNK };

	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, root, sizeof(*root), 42, 43, &out), 0);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, mid, sizeof(*mid), 42, 43, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	CU_ASSERT_EQUAL(out.flags, 0);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, DEPTH);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "<module>");
	for (int j = 1; j < DEPTH; j++) /* root first: frame j is all[DEPTH - 1 - j] */
		in_order &= !strcmp(out.frames[j].function, "f") &&
			    out.frames[j].line == ((DEPTH - 1 - j) % 3 ? 12 : 4);
	CU_ASSERT(in_order);

	/* a chunk that never came: the stack ends there, marked truncated */
	rt_interp_decoder__free(dec);
	dec = rt_interp_decoder__new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, mid, sizeof(*mid), 42, 43, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	CU_ASSERT(out.flags & RT_INTERP_STACK_TRUNCATED);
	CU_ASSERT_EQUAL(out.nr_frames, INLINE + RT_REC_CHUNK_FRAMES);
	rt_interp_decoder__stats(dec, &st);
	CU_ASSERT_EQUAL(st.chunks, 1);
	CU_ASSERT_EQUAL(st.missing_chunks, 1);
	CU_ASSERT_EQUAL(st.truncated, 1);

	/* malformed: a reference not last, more chunks than a stack holds, a
	 * reference in a version 2 record, a short chunk, another pid's chunk */
	b.f[0] = b.f[INLINE];
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), -EINVAL);
	b.f[0] = all[0];
	b.f[INLINE].lasti = RT_REC_MAX_CHUNKS + 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), -EINVAL);
	b.f[INLINE].lasti = 2;
	b.s.hdr.version = 2;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), -EINVAL);
	mid->c.hdr.size -= sizeof(struct rt_rec_frame);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, mid, sizeof(*mid), 42, 43, &out), -EINVAL);
	mid->c.hdr.size += sizeof(struct rt_rec_frame);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, mid, sizeof(*mid), 7, 43, &out), -EINVAL);

	/* version 2 records hold up to 250 frames, version 3 up to 256 */
	sz = make_stack(&b, 42, 43, 251);
	memcpy(b.f, all, 251 * sizeof(*all));
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	b.s.hdr.version = 2;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), -EINVAL);
	sz = make_stack(&b, 42, 43, 250);
	b.s.hdr.version = 2;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), 1);
	CU_ASSERT_EQUAL(out.nr_frames, 250);

	/* a newer format is refused and counted as such */
	b.s.hdr.version = RT_REC_VERSION + 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &b, sz, 42, 43, &out), -EINVAL);
	rt_interp_decoder__stats(dec, &st);
	CU_ASSERT_EQUAL(st.newer_records, 1);
	CU_ASSERT_EQUAL(st.newer_version, RT_REC_VERSION + 1);

	free(all);
	free(root);
	free(mid);
	free(f);
	free(m);
	rt_interp_decoder__free(dec);
}

/* A line table longer than its code record: the rest comes in pieces,
 * appended only where they continue it. */
static void test_linetable_pieces(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_code *c = make_code(42, 0x1000, 0x5000, "f", "f", "a.py", 2);
	struct rt_rec_code_piece *p = calloc(1, sizeof(*p));
	struct rt_interp_frame pending;
	struct rt_interp_stack out;
	struct stack_buf b;
	size_t sz, head = 20;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c->linetable_nbytes = head;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, c, sizeof(*c), 42, 42, &out), 0);
	sz = make_stack(&b, 42, 42, 1);
	set_frame(&b, 0, 0x1000, 0x5000, 2, 41, RT_REC_FRAME_ENTRY);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0); /* past the part the record had */
	CU_ASSERT(out.frames[0].flags & RT_INTERP_FRAME_LINE_PENDING);
	pending = out.frames[0];
	CU_ASSERT_EQUAL(rt_interp_decoder__line(dec, 42, &pending), 0);

	p->hdr = c->hdr;
	p->hdr.type = RT_REC_CODE_PIECE;
	p->hdr.size = sizeof(*p);
	p->pid = 42;
	p->tag = c->tag;
	p->code = 0x1000;
	p->runtime = RT_REC_RUNTIME_CPYTHON;
	p->field = RT_REC_PIECE_PY_LINETABLE;
	/* not the continuation (a piece before it was lost): ignored */
	p->offset = head + 4;
	p->nbytes = sizeof(lt_f) - head - 4;
	memcpy(p->data, lt_f + head + 4, p->nbytes);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0);
	/* another code object's tag: ignored */
	p->offset = head;
	p->nbytes = sizeof(lt_f) - head;
	memcpy(p->data, lt_f + head, p->nbytes);
	p->tag = c->tag ^ 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0);
	/* more than the table holds: ignored */
	p->tag = c->tag;
	p->nbytes = sizeof(lt_f) - head + 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0);
	/* the continuation: every line known */
	p->nbytes = sizeof(lt_f) - head;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &b, sz, 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 12);
	CU_ASSERT_FALSE(out.frames[0].flags & RT_INTERP_FRAME_LINE_PENDING);
	/* the frame that came before the pieces: its line is known now, but not
	 * in another process or for another code object at that address */
	CU_ASSERT_EQUAL(rt_interp_decoder__line(dec, 42, &pending), 12);
	CU_ASSERT_EQUAL(rt_interp_decoder__line(dec, 7, &pending), 0);
	pending.key.rec_flags ^= 1u << RT_REC_FRAME_TAG_SHIFT;
	CU_ASSERT_EQUAL(rt_interp_decoder__line(dec, 42, &pending), 0);
	/* a malformed piece is counted bad */
	p->hdr.size = sizeof(*p) - 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), -EINVAL);
	free(p);
	free(c);
	rt_interp_decoder__free(dec);
}

int main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	s = CU_add_suite("decode", NULL, NULL);
	CU_add_test(s, "3.11 location table", test_linetable);
	CU_add_test(s, "code and stack records", test_stack);
	CU_add_test(s, "strings outlive replaced records", test_strings_outlive_replacement);
	CU_add_test(s, "a recursion's repeated frames keep their lines", test_repeated_frames);
	CU_add_test(s, "string kinds", test_unicode);
	CU_add_test(s, "malformed records", test_malformed);
	CU_add_test(s, "lnotab and 3.10 line tables", test_old_line_tables);
	CU_add_test(s, "frame models: <= 3.10 entries, 3.12 shims", test_frame_models);
	CU_add_test(s, "code tags tell files apart", test_code_tag_file);
	CU_add_test(s, "deep stacks: chunks, a missing chunk, old versions", test_deep_stack);
	CU_add_test(s, "line tables in pieces", test_linetable_pieces);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
