/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CUnit suite for rtmerge/merge_persample.c: per-sample lines go out as
 * they come until a stack holds a placeholder frame; from there on they
 * wait, in order, and get the placeholders' final names; read from a pipe
 * (rt-bpf top) they wait at most a second of sample time.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "rtmerge/merge_internal.h"
#include "rtmerge/stacks.h"

static uint32_t intern(struct rt_merge *m, const char *name)
{
	int64_t id = rt_stacks__intern(m->stacks, name, strlen(name));

	CU_ASSERT_FATAL(id >= 0);
	return (uint32_t)id;
}

/* A frame of a long function whose line table's pieces come after it. */
static const char long_fn[] = "long_body", long_file[] = "/srv/big.py";
static const struct rt_interp_frame long_body = {
	.function = long_fn, .file = long_file,
	.flags = RT_INTERP_FRAME_NO_LINE | RT_INTERP_FRAME_LINE_PENDING,
	.key = { 0x1000, 41, 0, RT_REC_RUNTIME_CPYTHON },
};

/* What was written to @out, as a string in @text. */
static void read_all(FILE *out, char *text, size_t size)
{
	size_t n;

	fflush(out);
	rewind(out);
	n = fread(text, 1, size - 1, out);
	text[n] = '\0';
}

static void test_per_sample_waits(void)
{
	FILE *out = tmpfile();
	struct rt_merge_opts opts = { .sz = sizeof(opts), .per_sample = out };
	struct rt_merge *m;
	struct rt_perf_sample s = { .pid = 7, .tid = 8, .time = 1000 };
	struct rt_interp_frame f = long_body;
	uint32_t frames[3], final[64];
	char text[512];
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	m = rt_merge__new(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	frames[0] = intern(m, "python3");
	frames[1] = intern(m, "main (big.py:3)");
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 2), 0);
	/* a frame whose line comes later: a placeholder */
	CU_ASSERT_EQUAL_FATAL(rt_merge__interp_frame(m, 7, &f, &frames[2]), 0);
	CU_ASSERT_EQUAL(rt_stacks__name(m->stacks, frames[2])[0], '\002');
	s.time = 2000;
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 3), 0);
	s.time = 3000; /* no placeholder, but after one: waits too, in order */
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 2), 0);
	fflush(out);
	CU_ASSERT_EQUAL(ftell(out), (long)strlen("8 1000 python3;main (big.py:3)\n"));

	/* the end: the placeholder gets its name, the lines go out */
	for (n = 0; n < 64; n++)
		final[n] = UINT32_MAX;
	CU_ASSERT_FATAL(frames[2] < 64);
	final[frames[2]] = intern(m, "long_body (big.py:3006)");
	CU_ASSERT_EQUAL(rt_merge__per_sample_flush(m, final, 64), 0);
	CU_ASSERT_PTR_NULL(m->spool);
	read_all(out, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "8 1000 python3;main (big.py:3)\n"
				     "8 2000 python3;main (big.py:3);long_body (big.py:3006)\n"
				     "8 3000 python3;main (big.py:3)\n");
	rt_merge__free(m);
	fclose(out);
}

/* A live stream: the kept lines go out a second after the first, the
 * placeholder named without its line; later stacks with it go out at once. */
static void test_per_sample_live(void)
{
	FILE *out = tmpfile();
	struct rt_merge_opts opts = { .sz = sizeof(opts), .per_sample = out };
	struct rt_merge *m;
	struct rt_perf_sample s = { .pid = 7, .tid = 8, .time = 1000 };
	struct rt_interp_frame f = long_body;
	uint32_t frames[3];
	char text[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	m = rt_merge__new(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->live_lines = true;
	frames[0] = intern(m, "python3");
	frames[1] = intern(m, "main (big.py:3)");
	CU_ASSERT_EQUAL_FATAL(rt_merge__interp_frame(m, 7, &f, &frames[2]), 0);
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 3), 0);
	s.time = 1000 + 999999999ull; /* within the second: still kept */
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 2), 0);
	CU_ASSERT_PTR_NOT_NULL(m->spool);
	read_all(out, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "");
	fseek(out, 0, SEEK_END);
	s.time = 1000 + 1000000000ull; /* a second on: everything goes out */
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 2), 0);
	CU_ASSERT_PTR_NULL(m->spool);
	s.time++; /* the placeholder again: at once, under the same name */
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 3), 0);
	CU_ASSERT_PTR_NULL(m->spool);
	read_all(out, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "8 1000 python3;main (big.py:3);long_body (srv/big.py)\n"
				     "8 1000000999 python3;main (big.py:3)\n"
				     "8 1000001000 python3;main (big.py:3)\n"
				     "8 1000001001 python3;main (big.py:3);long_body (srv/big.py)\n");
	/* a second placeholder: kept until the second is up again */
	fseek(out, 0, SEEK_END);
	f.key.lasti = 43;
	CU_ASSERT_EQUAL_FATAL(rt_merge__interp_frame(m, 7, &f, &frames[2]), 0);
	CU_ASSERT_EQUAL(rt_merge__per_sample_line(m, &s, frames, 3), 0);
	CU_ASSERT_PTR_NOT_NULL(m->spool);
	CU_ASSERT_EQUAL(m->stats.late_lines, 0);
	rt_merge__free(m);
	fclose(out);
}

/* What outputs name a stack's weight: the time views count microseconds
 * (the SVG said "period" for them). */
static void test_weight_unit(void)
{
	struct rt_merge_opts o = { .sz = sizeof(o) };

	CU_ASSERT_STRING_EQUAL(rt_merge__weight_unit(NULL), "samples");
	CU_ASSERT_STRING_EQUAL(rt_merge__weight_unit(&o), "samples");
	o.by_period = true;
	CU_ASSERT_STRING_EQUAL(rt_merge__weight_unit(&o), "period");
	o.view = RT_MERGE_VIEW_WALL;
	CU_ASSERT_STRING_EQUAL(rt_merge__weight_unit(&o), "microseconds");
	o.view = RT_MERGE_VIEW_OFFCPU;
	CU_ASSERT_STRING_EQUAL(rt_merge__weight_unit(&o), "microseconds");
	o.view = RT_MERGE_VIEW_GIL;
	o.by_period = false;
	CU_ASSERT_STRING_EQUAL(rt_merge__weight_unit(&o), "samples");
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("merge_persample", NULL, NULL);
	CU_add_test(s, "per-sample lines wait for placeholder names", test_per_sample_waits);
	CU_add_test(s, "live per-sample lines wait a second at most", test_per_sample_live);
	CU_add_test(s, "the weight's unit by view", test_weight_unit);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned int failed = CU_get_number_of_failures();

	CU_cleanup_registry();
	return failed ? 1 : 0;
}
