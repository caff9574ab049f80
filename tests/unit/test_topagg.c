/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests for rtbpf/topagg.c: own and total shares, recursion, lines,
 * threads, windows and sorting of `rt-bpf top`'s function table. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rtbpf/topagg.h"

static void add(struct rt_top_agg *agg, const char *line)
{
	CU_ASSERT_EQUAL_FATAL(rt_top_agg__add_line(agg, line, strlen(line)), 0);
}

static const struct rt_top_row *find(const struct rt_top_row *rows, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

/* A 70/30 program: the two branches' shares and their order by either key. */
static void test_split(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	struct rt_top_snapshot_opts o = { .sz = sizeof(o), .sort = RT_TOP_SORT_OWN };
	struct rt_top_snapshot_info info;
	struct rt_top_row rows[16];
	const struct rt_top_row *a, *b, *m;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(agg);
	for (int i = 0; i < 70; i++)
		add(agg, "100 5 python3;_start;<module> (split.py:20);branch_a (split.py:5)");
	for (int i = 0; i < 30; i++)
		add(agg, "100 6 python3;_start;<module> (split.py:21);branch_b (split.py:11)");
	n = rt_top_agg__snapshot(agg, &o, rows, 16, &info);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(info.samples, 100);
	CU_ASSERT_EQUAL(info.nr_functions, 4);
	CU_ASSERT_STRING_EQUAL(rows[0].name, "branch_a (split.py)");
	CU_ASSERT_STRING_EQUAL(rows[1].name, "branch_b (split.py)");
	a = find(rows, n, "branch_a (split.py)");
	b = find(rows, n, "branch_b (split.py)");
	m = find(rows, n, "<module> (split.py)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(a->own, 70);
	CU_ASSERT_EQUAL(a->total, 70);
	CU_ASSERT_EQUAL(a->line, 5);
	CU_ASSERT_EQUAL(b->own, 30);
	CU_ASSERT_EQUAL(m->own, 0);
	CU_ASSERT_EQUAL(m->total, 100);
	CU_ASSERT_EQUAL(m->line, 20);   /* the hottest of its lines */
	CU_ASSERT_PTR_NULL(find(rows, n, "python3")); /* the root is the thread */
	o.sort = RT_TOP_SORT_TOTAL;
	n = rt_top_agg__snapshot(agg, &o, rows, 16, NULL);
	CU_ASSERT_EQUAL(rows[0].total, 100);
	CU_ASSERT_EQUAL(rows[1].total, 100);
	CU_ASSERT_STRING_EQUAL(rows[2].name, "branch_a (split.py)");
	CU_ASSERT_STRING_EQUAL(rows[3].name, "branch_b (split.py)");
	/* the row limit keeps the hottest */
	n = rt_top_agg__snapshot(agg, &o, rows, 3, &info);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(info.nr_functions, 4);
	rt_top_agg__free(agg);
}

/* A recursive function counts once per sample in total; own goes to the leaf. */
static void test_recursion(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	struct rt_top_row rows[8];
	const struct rt_top_row *f;
	int n;

	add(agg, "7 1 ruby;main;fib (fib.rb:2);fib (fib.rb:3);fib (fib.rb:3);rb_ary_push");
	add(agg, "7 2 ruby;main;fib (fib.rb:2);fib (fib.rb:4)");
	n = rt_top_agg__snapshot(agg, &(struct rt_top_snapshot_opts){ .sz = sizeof(struct
		rt_top_snapshot_opts), .sort = RT_TOP_SORT_TOTAL }, rows, 8, NULL);
	CU_ASSERT_EQUAL(n, 3);
	f = find(rows, n, "fib (fib.rb)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->total, 2);
	CU_ASSERT_EQUAL(f->own, 1);
	CU_ASSERT_EQUAL(f->line, 2);
	f = find(rows, n, "rb_ary_push");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->own, 1);
	CU_ASSERT_EQUAL(f->line, 0);
	rt_top_agg__free(agg);
}

/* Per-thread filtering and the thread list, hottest first, latest comm. */
static void test_threads(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	struct rt_top_snapshot_opts o = { .sz = sizeof(o), .tid = 11 };
	struct rt_top_snapshot_info info;
	struct rt_top_thread th[4];
	struct rt_top_row rows[8];
	int n;

	add(agg, "10 1 app;main;work (w.py:1)");
	add(agg, "11 1 app;start;idle (w.py:9)");
	add(agg, "11 2 worker-1;start;idle (w.py:9)");
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(info.samples, 2);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_PTR_NULL(find(rows, n, "work (w.py)"));
	CU_ASSERT_PTR_NULL(find(rows, n, "main"));
	CU_ASSERT_EQUAL(rt_top_agg__threads(agg, th, 4), 2);
	CU_ASSERT_EQUAL(th[0].tid, 11);
	CU_ASSERT_STRING_EQUAL(th[0].comm, "worker-1");
	CU_ASSERT_EQUAL(th[0].samples, 2);
	CU_ASSERT_EQUAL(th[1].tid, 10);
	CU_ASSERT_EQUAL(rt_top_agg__threads(agg, th, 1), 1);
	CU_ASSERT_EQUAL(rt_top_agg__samples(agg), 3);
	rt_top_agg__free(agg);
}

/* A windowed snapshot counts what came since the previous one. */
static void test_window(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	struct rt_top_snapshot_opts o = { .sz = sizeof(o), .window = true };
	struct rt_top_snapshot_info info;
	struct rt_top_row rows[8];
	int n;

	add(agg, "1 1 p;old (a.py:1)");
	add(agg, "1 1 p;old (a.py:1)");
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(rows[0].own, 2);
	add(agg, "1 2 p;new (a.py:7)");
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(rows[0].name, "new (a.py)");
	CU_ASSERT_EQUAL(info.samples, 1);
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(info.samples, 0);
	/* since the start, windows or not */
	o.window = false;
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(info.samples, 3);
	rt_top_agg__free(agg);
}

/* Lines of other shapes are refused; names that only look like lines stay whole. */
static void test_parse(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	struct rt_top_row rows[8];
	static const char *const bad[] = { "", "12", "12 ", "x 1 a;b", "12 3", "12 3 " };
	int n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(rt_top_agg__add_line(agg, bad[i], strlen(bad[i])), -EINVAL);
	CU_ASSERT_EQUAL(rt_top_agg__samples(agg), 0);
	add(agg, "3 9 c;f (x:y);g (a:1:2);[libz.so.1];h (b.py)");
	n = rt_top_agg__snapshot(agg, NULL, rows, 8, NULL);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_PTR_NOT_NULL(find(rows, n, "f (x:y)"));
	CU_ASSERT_PTR_NOT_NULL(find(rows, n, "g (a:1)"));
	CU_ASSERT_PTR_NOT_NULL(find(rows, n, "[libz.so.1]"));
	CU_ASSERT_PTR_NOT_NULL(find(rows, n, "h (b.py)"));
	CU_ASSERT_EQUAL(find(rows, n, "g (a:1)")->line, 2);
	/* a stack of the root alone: a sample of the thread, no function */
	add(agg, "3 10 c");
	CU_ASSERT_EQUAL(rt_top_agg__samples(agg), 2);
	rt_top_agg__free(agg);
}

/* Interpreter functions only: natives leave the rows, and own goes to the
 * leafmost interpreter frame (an interpreter without symbols, a C call). */
static void test_interp_only(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	struct rt_top_snapshot_opts o = { .sz = sizeof(o), .interp_only = true };
	struct rt_top_snapshot_info info;
	struct rt_top_row rows[8];
	const struct rt_top_row *r;
	int n;

	add(agg, "5 1 ruby;main;<main> (a.rb:20);work (a.rb:7);[libruby.so.3.1]");
	add(agg, "5 2 ruby;main;<main> (a.rb:20);work (a.rb:8);[libruby.so.3.1]");
	add(agg, "5 3 ruby;main;<main> (a.rb:21);zlib (a.rb:12);deflate;[libz.so.1]");
	add(agg, "5 4 ruby;main;rb_gc");    /* no interpreter frame: no own */
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(info.samples, 4);
	CU_ASSERT_STRING_EQUAL(rows[0].name, "work (a.rb)");
	CU_ASSERT_EQUAL(rows[0].own, 2);
	CU_ASSERT_EQUAL(rows[0].total, 2);
	r = find(rows, n, "zlib (a.rb)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->own, 1);
	r = find(rows, n, "<main> (a.rb)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->own, 0);
	CU_ASSERT_EQUAL(r->total, 3);
	CU_ASSERT_PTR_NULL(find(rows, n, "[libruby.so.3.1]"));
	CU_ASSERT_PTR_NULL(find(rows, n, "main"));
	/* every frame again: the native leaves own their samples */
	o.interp_only = false;
	n = rt_top_agg__snapshot(agg, &o, rows, 8, NULL);
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_STRING_EQUAL(rows[0].name, "[libruby.so.3.1]");
	CU_ASSERT_EQUAL(find(rows, n, "work (a.rb)")->own, 0);
	/* windows keep both counts */
	o.window = true;
	rt_top_agg__snapshot(agg, &o, rows, 8, NULL);
	add(agg, "5 5 ruby;main;<main> (a.rb:20);work (a.rb:7);[libruby.so.3.1]");
	o.interp_only = true;
	n = rt_top_agg__snapshot(agg, &o, rows, 8, &info);
	CU_ASSERT_EQUAL(info.samples, 1);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(rows[0].name, "work (a.rb)");
	CU_ASSERT_EQUAL(rows[0].own, 1);
	rt_top_agg__free(agg);
}

/* Many functions and threads: the tables grow and stay exact. */
static void test_many(void)
{
	struct rt_top_agg *agg = rt_top_agg__new();
	static struct rt_top_row rows[5000];
	struct rt_top_snapshot_info info;
	char line[128];
	uint64_t own = 0;
	int n;

	for (int i = 0; i < 20000; i++) {
		snprintf(line, sizeof(line), "%d 1 t;f%d (m.py:%d)", 1 + i % 37, i % 3000, i % 11);
		add(agg, line);
	}
	n = rt_top_agg__snapshot(agg, NULL, rows, 5000, &info);
	CU_ASSERT_EQUAL(n, 3000);
	CU_ASSERT_EQUAL(info.samples, 20000);
	for (int i = 0; i < n; i++)
		own += rows[i].own;
	CU_ASSERT_EQUAL(own, 20000);
	CU_ASSERT_EQUAL(rows[0].own, 7);   /* f0..f1999 ran 7 times, the rest 6 */
	rt_top_agg__free(agg);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("topagg", NULL, NULL);
	CU_add_test(suite, "70/30 split", test_split);
	CU_add_test(suite, "recursion", test_recursion);
	CU_add_test(suite, "threads", test_threads);
	CU_add_test(suite, "window", test_window);
	CU_add_test(suite, "parsing", test_parse);
	CU_add_test(suite, "interpreter functions only", test_interp_only);
	CU_add_test(suite, "many", test_many);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
