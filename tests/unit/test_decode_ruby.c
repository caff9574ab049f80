/* SPDX-License-Identifier: GPL-2.0-only */
/* CRuby record decoding: line tables in all three index forms, names of
 * iseq and C method frames, malformed records. */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/decode.h"
#include "runtimes/ruby/decode.h"
#include "bpf/record.h"

#define IMM 54
#define BLOCK 80

/* Builds the succinct index the way the VM lays it out: 7-bit ranks, nine
 * to a word, for positions below IMM; then 512-position blocks of a 32-bit
 * rank, 9-bit small-block ranks and eight 64-bit words of bits. */
static size_t build_succinct(const uint32_t *pos, int n, int max_pos, uint8_t *out, size_t cap)
{
	int imm_words = (max_pos < IMM ? max_pos + 8 : IMM) / 9;
	int blocks = (max_pos < IMM ? 0 : (max_pos - IMM + 511)) / 512;
	size_t len = (size_t)(IMM / 9) * 8 + (size_t)blocks * BLOCK;
	int r = 0;

	CU_ASSERT_FATAL(len <= cap);
	memset(out, 0, len);
	for (int j = 0; j < imm_words; j++) {
		uint64_t w = 0;

		for (int i = 0; i < 9; i++) {
			if (r < n && (int)pos[r] == j * 9 + i)
				r++;
			w |= (uint64_t)r << (7 * i);
		}
		memcpy(out + j * 8, &w, 8);
	}
	for (int k = 0; k < blocks; k++) {
		uint8_t *b = out + (IMM / 9) * 8 + (size_t)k * BLOCK;
		uint32_t rank = (uint32_t)r;
		uint64_t ranks = 0;
		int small = 0;

		memcpy(b, &rank, 4);
		for (int j = 0; j < 8; j++) {
			uint64_t bits = 0;

			if (j)
				ranks |= (uint64_t)small << (9 * (j - 1));
			for (int i = 0; i < 64; i++)
				if (r < n && (int)pos[r] == k * 512 + j * 64 + i + IMM) {
					bits |= 1ull << i;
					r++;
				}
			memcpy(b + 16 + j * 8, &bits, 8);
			small += __builtin_popcountll(bits);
		}
		memcpy(b + 8, &ranks, 8);
	}
	return len;
}

static void test_succinct_matches_positions(void)
{
	enum { N = 300 };
	uint32_t pos[N];
	uint8_t info[N * 12], index[RT_REC_RUBY_INDEX_MAX];
	uint32_t p = 0;
	size_t len;

	srand(7);
	for (int i = 0; i < N; i++) {
		int32_t line = 10 + i;

		pos[i] = p;
		p += 1 + (uint32_t)(rand() % 7);
		memset(info + i * 12, 0, 12);
		memcpy(info + i * 12, &line, 4);
	}
	len = build_succinct(pos, N, (int)pos[N - 1], index, sizeof(index));
	for (uint32_t x = 0; x < p; x++) {
		int want = 0;

		for (int i = 0; i < N && pos[i] <= x; i++)
			want = 10 + i;
		CU_ASSERT_EQUAL_FATAL(rt_ruby_linetable__line(info, N, 12, 0, RT_REC_RUBY_INDEX_SUCCINCT,
							      index, len, IMM, BLOCK, x), want);
		CU_ASSERT_EQUAL_FATAL(rt_ruby_linetable__line(info, N, 12, 0, RT_REC_RUBY_INDEX_POSITIONS,
							      (const uint8_t *)pos, sizeof(pos), IMM,
							      BLOCK, x), want);
	}
	/* one entry: no index */
	CU_ASSERT_EQUAL(rt_ruby_linetable__line(info, 1, 12, 0, RT_REC_RUBY_INDEX_NONE, NULL, 0, IMM,
						BLOCK, 99), 10);
	/* a table cut short answers 0, not garbage */
	CU_ASSERT_EQUAL(rt_ruby_linetable__line(info, N, 12, 0, RT_REC_RUBY_INDEX_SUCCINCT, index, 48,
						IMM, BLOCK, p - 1), 0);
	CU_ASSERT_EQUAL(rt_ruby_linetable__line(info, N, 12, 0, 9, index, len, IMM, BLOCK, 1), -EINVAL);
}

/* Ruby 2.7's block `{ |i| x += i }`: nop (line 5, b_call), getlocal at 1
 * (line event), code at 3, the nop at 10 the compiler gave line 0, leave
 * at 11; its own succinct index as read from a running ruby2.7. */
static void test_line_zero_entry(void)
{
	static const uint64_t words[6] = { 0x03060c1830608101ull, 0x050a142850a14203ull };
	static const int32_t info[10] = { 5, 256, 5, 1, 5, 0, 0, 0, 5, 512 };
	static const int32_t zero_first[6] = { 0, 0, 0, 0, 7, 0 };
	static const uint32_t firsts[3] = { 0, 2, 4 };
	uint8_t index[48];

	memcpy(index, words, sizeof(index));
	for (uint32_t pos = 0; pos < 12; pos++)
		CU_ASSERT_EQUAL(rt_ruby_linetable__line((const uint8_t *)info, 5, 8, 0,
							RT_REC_RUBY_INDEX_SUCCINCT, index,
							sizeof(index), IMM, BLOCK, pos), 5);
	/* no earlier entry has a line: the next one's */
	CU_ASSERT_EQUAL(rt_ruby_linetable__line((const uint8_t *)zero_first, 3, 8, 0,
						RT_REC_RUBY_INDEX_POSITIONS, (const uint8_t *)firsts,
						sizeof(firsts), IMM, BLOCK, 1), 7);
	/* no entry has a line */
	CU_ASSERT_EQUAL(rt_ruby_linetable__line((const uint8_t *)zero_first, 2, 8, 0,
						RT_REC_RUBY_INDEX_POSITIONS, (const uint8_t *)firsts,
						sizeof(firsts), IMM, BLOCK, 3), 0);
}

static void set_string(struct rt_rec_string *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	s->length = s->nbytes = (uint32_t)strlen(text);
	s->kind = 1;
	memcpy(s->data, text, strlen(text));
}

static struct rt_rec_ruby_code *code_record(uint64_t addr, uint32_t kind, const char *label,
					    const char *path, uint32_t tag)
{
	struct rt_rec_ruby_code *r = calloc(1, sizeof(*r));

	r->hdr.magic = RT_REC_MAGIC;
	r->hdr.version = RT_REC_VERSION;
	r->hdr.type = RT_REC_RUBY_CODE;
	r->hdr.size = sizeof(*r);
	r->pid = 42;
	r->tag = tag;
	r->addr = addr;
	r->kind = kind;
	r->info_entry_size = 12;
	r->succ_immediate = IMM;
	r->succ_block_size = BLOCK;
	set_string(&r->label, label);
	set_string(&r->path, path);
	return r;
}

/* A Ruby stack record's header: @nr frames of @size bytes in all, tid @tid. */
static void stack_header(struct rt_rec_stack *h, size_t size, uint32_t tid, uint32_t nr)
{
	h->hdr.magic = RT_REC_MAGIC;
	h->hdr.version = RT_REC_VERSION;
	h->hdr.type = RT_REC_STACK;
	h->hdr.size = (uint32_t)size;
	h->pid = 42;
	h->tid = tid;
	h->runtime = RT_REC_RUNTIME_RUBY;
	h->nr_frames = nr;
}

static void test_stack_names_and_lines(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_ruby_code *main_rec = code_record(0x1000, RT_REC_RUBY_ISEQ, "<main>", "/t/app.rb", 5);
	struct rt_rec_ruby_code *cf = code_record(0x2000, RT_REC_RUBY_CFUNC, "times", "Integer", 6);
	struct rt_rec_ruby_code *sg = code_record(0x3000, RT_REC_RUBY_CFUNC, "deflate", "Zlib::Deflate", 7);
	struct {
		struct rt_rec_stack s;
		struct rt_rec_frame f[3];
	} st = { 0 };
	struct rt_interp_stack out;
	uint32_t pos[2] = { 0, 4 };
	int32_t lines[6] = { 3, 0, 0, 8, 0, 0 };

	CU_ASSERT_FATAL(dec != NULL);
	main_rec->info_size = 2;
	main_rec->info_nbytes = sizeof(lines);
	memcpy(main_rec->info, lines, sizeof(lines));
	main_rec->index_kind = RT_REC_RUBY_INDEX_POSITIONS;
	main_rec->index_nbytes = sizeof(pos);
	memcpy(main_rec->index, pos, sizeof(pos));
	sg->class_flags = RT_REC_RUBY_SINGLETON;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, main_rec, sizeof(*main_rec), 42, 43, &out), 0);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, cf, sizeof(*cf), 42, 43, &out), 0);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, sg, sizeof(*sg), UINT32_MAX, UINT32_MAX, &out), 0);
	stack_header(&st.s, sizeof(st), 43, 3);
	/* leaf first: deflate, times, <main> at pc 6 (position 5: line 8) */
	st.f[0] = (struct rt_rec_frame){ 0x3000, 0, RT_REC_FRAME_RUBY_CFUNC | 7u << RT_REC_FRAME_TAG_SHIFT };
	st.f[1] = (struct rt_rec_frame){ 0x2000, 0, RT_REC_FRAME_RUBY_CFUNC | 6u << RT_REC_FRAME_TAG_SHIFT };
	st.f[2] = (struct rt_rec_frame){ 0x1000, 6, RT_REC_FRAME_ENTRY | 5u << RT_REC_FRAME_TAG_SHIFT };
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 43, &out), 1);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, 3);
	CU_ASSERT_STRING_EQUAL(out.frames[0].function, "<main>");
	CU_ASSERT_STRING_EQUAL(out.frames[0].file, "/t/app.rb");
	CU_ASSERT_EQUAL(out.frames[0].line, 8);
	CU_ASSERT(out.frames[0].flags & RT_INTERP_FRAME_ENTRY);
	CU_ASSERT_STRING_EQUAL(out.frames[1].function, "Integer#times");
	CU_ASSERT_STRING_EQUAL(out.frames[2].function, "Zlib::Deflate.deflate");
	/* pc 2 -> position 1 -> line 3; a wrong tag gives an unknown frame */
	st.f[2].lasti = 2;
	st.f[1].flags = RT_REC_FRAME_RUBY_CFUNC | 9u << RT_REC_FRAME_TAG_SHIFT;
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 43, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 3);
	CU_ASSERT(out.frames[1].flags & RT_INTERP_FRAME_NO_SYMBOLS);
	CU_ASSERT(out.flags & RT_INTERP_STACK_NO_SYMBOLS);
	/* malformed: wrong tid, bad kind, oversized counts */
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 44, &out), -EINVAL);
	cf->kind = 9;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, cf, sizeof(*cf), 42, 43, &out), -EINVAL);
	cf->kind = RT_REC_RUBY_CFUNC;
	cf->info_nbytes = RT_REC_RUBY_INFO_MAX + 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, cf, sizeof(*cf), 42, 43, &out), -EINVAL);
	st.s.nr_frames = RT_REC_MAX_FRAMES + 1;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 43, &out), -EINVAL);
	free(main_rec);
	free(cf);
	free(sg);
	rt_interp_decoder__free(dec);
}

/* A deep recursion repeats one iseq at a few pcs: each frame keeps its
 * line, and a frame of that address with another tag in the middle is not
 * named from the repeats. */
static void test_repeated_frames(void)
{
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_ruby_code *rec = code_record(0x1000, RT_REC_RUBY_ISEQ, "deep", "/t/app.rb", 5);
	struct {
		struct rt_rec_stack s;
		struct rt_rec_frame f[200];
	} st = { 0 };
	struct rt_interp_stack out;
	uint32_t pos[2] = { 0, 4 };
	int32_t lines[6] = { 3, 0, 0, 8, 0, 0 };
	static const uint32_t pcs[] = { 6, 2, 6, 6, 2 }, want[] = { 8, 3, 8, 8, 3 };

	CU_ASSERT_FATAL(dec != NULL);
	rec->info_size = 2;
	rec->info_nbytes = sizeof(lines);
	memcpy(rec->info, lines, sizeof(lines));
	rec->index_kind = RT_REC_RUBY_INDEX_POSITIONS;
	rec->index_nbytes = sizeof(pos);
	memcpy(rec->index, pos, sizeof(pos));
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, rec, sizeof(*rec), 42, 43, &out), 0);
	stack_header(&st.s, sizeof(st), 43, 200);
	for (int i = 0; i < 200; i++)
		st.f[i] = (struct rt_rec_frame){ 0x1000, pcs[i % 5],
						 RT_REC_FRAME_ENTRY | 5u << RT_REC_FRAME_TAG_SHIFT };
	st.f[100].flags = RT_REC_FRAME_ENTRY | 9u << RT_REC_FRAME_TAG_SHIFT;
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 43, &out), 1);
	CU_ASSERT_EQUAL_FATAL(out.nr_frames, 200);
	for (int i = 0; i < 200; i++) {
		const struct rt_interp_frame *f = &out.frames[199 - i]; /* root first */

		if (i == 100) {
			CU_ASSERT(f->flags & RT_INTERP_FRAME_NO_SYMBOLS);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(f->function, "deep");
		CU_ASSERT_EQUAL(f->line, (int)want[i % 5]);
	}
	free(rec);
	rt_interp_decoder__free(dec);
}

/* An iseq whose line table is longer than its record: the entries and the
 * index past the record's part come in pieces, appended where they
 * continue it. */
static void test_line_table_pieces(void)
{
	enum { N = 400 }; /* entries: 4,800 bytes, past the record's 2,048 */
	struct rt_interp_decoder *dec = rt_interp_decoder__new();
	struct rt_rec_ruby_code *r = code_record(0x1000, RT_REC_RUBY_ISEQ, "long", "/t/l.rb", 5);
	struct rt_rec_code_piece *p = calloc(1, sizeof(*p));
	static uint8_t info[N * 12];
	static uint32_t pos[N];
	struct {
		struct rt_rec_stack s;
		struct rt_rec_frame f[1];
	} st = { 0 };
	struct rt_interp_stack out;

	CU_ASSERT_FATAL(dec != NULL && p != NULL);
	for (int i = 0; i < N; i++) {
		int32_t line = 10 + i;

		pos[i] = (uint32_t)i * 2;
		memcpy(info + i * 12, &line, 4);
	}
	r->info_size = N;
	r->iseq_size = 2 * N;
	r->info_nbytes = RT_REC_RUBY_INFO_MAX;
	memcpy(r->info, info, RT_REC_RUBY_INFO_MAX);
	r->index_kind = RT_REC_RUBY_INDEX_POSITIONS;
	r->index_nbytes = RT_REC_RUBY_INDEX_MAX;
	memcpy(r->index, pos, RT_REC_RUBY_INDEX_MAX);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, r, sizeof(*r), 42, 42, &out), 0);
	stack_header(&st.s, sizeof(st), 42, 1);
	/* pc 2 * 390 + 1: position 780, entry 390, line 400 */
	st.f[0] = (struct rt_rec_frame){ 0x1000, 781, RT_REC_FRAME_ENTRY | 5u << RT_REC_FRAME_TAG_SHIFT };
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0);

	p->hdr = r->hdr;
	p->hdr.type = RT_REC_CODE_PIECE;
	p->hdr.size = sizeof(*p);
	p->pid = 42;
	p->tag = 5;
	p->code = 0x1000;
	p->runtime = RT_REC_RUNTIME_RUBY;
	/* the entries' rest alone: the index still stops short */
	p->field = RT_REC_PIECE_RUBY_INFO;
	p->offset = RT_REC_RUBY_INFO_MAX;
	p->nbytes = sizeof(info) - RT_REC_RUBY_INFO_MAX;
	memcpy(p->data, info + RT_REC_RUBY_INFO_MAX, p->nbytes);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0);
	/* again: not the continuation any more, ignored */
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	/* the index's rest */
	p->field = RT_REC_PIECE_RUBY_INDEX;
	p->offset = RT_REC_RUBY_INDEX_MAX;
	p->nbytes = sizeof(pos) - RT_REC_RUBY_INDEX_MAX;
	memcpy(p->data, (uint8_t *)pos + RT_REC_RUBY_INDEX_MAX, p->nbytes);
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 400);
	/* a field this runtime does not have */
	p->field = RT_REC_PIECE_PY_LINETABLE;
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, p, sizeof(*p), 42, 42, &out), -EINVAL);
	/* a new record for the iseq starts its table again */
	CU_ASSERT_EQUAL(rt_interp_decoder__feed(dec, r, sizeof(*r), 42, 42, &out), 0);
	CU_ASSERT_EQUAL_FATAL(rt_interp_decoder__feed(dec, &st, sizeof(st), 42, 42, &out), 1);
	CU_ASSERT_EQUAL(out.frames[0].line, 0);
	free(p);
	free(r);
	rt_interp_decoder__free(dec);
}

int main(void)
{
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("decode_ruby", NULL, NULL);
	CU_add_test(s, "succinct index agrees with positions", test_succinct_matches_positions);
	CU_add_test(s, "an entry without a line takes the line before it", test_line_zero_entry);
	CU_add_test(s, "stack names and lines", test_stack_names_and_lines);
	CU_add_test(s, "line tables in pieces", test_line_table_pieces);
	CU_add_test(s, "a recursion's repeated frames keep their lines", test_repeated_frames);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
