/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests for rtbpf/topview.c: the keys of `rt-bpf top` and its lines. */
#include <CUnit/Basic.h>
#include <string.h>

#include "rtbpf/topview.h"

static const struct rt_top_thread threads[] = {
	{ .tid = 30, .comm = "hot", .samples = 9 },
	{ .tid = 10, .comm = "warm", .samples = 5 },
};

static void test_sort_pause_quit(void)
{
	struct rt_top_view v = { .sort = RT_TOP_SORT_OWN };

	CU_ASSERT_TRUE(rt_top_view__key(&v, 't', NULL, 0));
	CU_ASSERT_EQUAL(v.sort, RT_TOP_SORT_TOTAL);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 'o', NULL, 0));
	CU_ASSERT_EQUAL(v.sort, RT_TOP_SORT_OWN);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 's', NULL, 0));
	CU_ASSERT_EQUAL(v.sort, RT_TOP_SORT_TOTAL);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 'p', NULL, 0));
	CU_ASSERT_TRUE(v.paused);
	CU_ASSERT_TRUE(rt_top_view__key(&v, ' ', NULL, 0));
	CU_ASSERT_FALSE(v.paused);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 'w', NULL, 0));
	CU_ASSERT_TRUE(v.window);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 'i', NULL, 0));
	CU_ASSERT_TRUE(v.interp_only);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 'i', NULL, 0));
	CU_ASSERT_FALSE(v.interp_only);
	CU_ASSERT_FALSE(rt_top_view__key(&v, 'x', NULL, 0));
	CU_ASSERT_FALSE(v.quit);
	CU_ASSERT_TRUE(rt_top_view__key(&v, 'q', NULL, 0));
	CU_ASSERT_TRUE(v.quit);
}

/* f steps through the threads hottest first, then back to all of them. */
static void test_thread_filter(void)
{
	struct rt_top_view v = { 0 };

	rt_top_view__key(&v, 'f', threads, 2);
	CU_ASSERT_EQUAL(v.tid, 30);
	CU_ASSERT_STRING_EQUAL(v.comm, "hot");
	rt_top_view__key(&v, 'f', threads, 2);
	CU_ASSERT_EQUAL(v.tid, 10);
	rt_top_view__key(&v, 'f', threads, 2);
	CU_ASSERT_EQUAL(v.tid, 0);
	CU_ASSERT_STRING_EQUAL(v.comm, "");
	rt_top_view__key(&v, 'f', threads, 2);
	rt_top_view__key(&v, 'a', threads, 2);
	CU_ASSERT_EQUAL(v.tid, 0);
	/* a filtered thread gone from the list: the hottest next */
	v.tid = 99;
	rt_top_view__key(&v, 'f', threads, 2);
	CU_ASSERT_EQUAL(v.tid, 30);
	/* no thread yet: every thread */
	rt_top_view__key(&v, 'a', NULL, 0);
	rt_top_view__key(&v, 'f', NULL, 0);
	CU_ASSERT_EQUAL(v.tid, 0);
}

static void test_lines(void)
{
	struct rt_top_view v = { .sort = RT_TOP_SORT_TOTAL, .paused = true, .tid = 30 };
	struct rt_top_status st = { .target = "pid 7", .rate = 99, .samples = 200, .lost_samples = 3,
				    .message = "rt-bpf: walking pid 7" };
	struct rt_top_row py = { .name = "spin (app.py)", .line = 14, .own = 50, .total = 150 };
	struct rt_top_row native = { .name = "PyObject_Free", .own = 20, .total = 20 };
	char lines[3][256], row[256];

	strcpy(v.comm, "hot");
	CU_ASSERT_EQUAL(rt_top_view__header(&v, &st, lines, 3), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[0], "pid 7"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[0], "sort: total"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[0], "thread 30 (hot)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[0], "PAUSED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[0], "all frames"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[1], "samples: 200 (99.0/s)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[1], "3 samples"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[2], "walking pid 7"));
	CU_ASSERT_EQUAL(rt_top_view__header(&v, &st, lines, 1), 1);
	/* why sampling ended comes first: an 80-column terminal cuts the rest */
	st.state = "cannot run /nonexistent: No such file or directory";
	CU_ASSERT_EQUAL(rt_top_view__header(&v, &st, lines, 1), 1);
	CU_ASSERT_NSTRING_EQUAL(lines[0], "rt-bpf top  |  cannot run /nonexistent: No such file",
				strlen("rt-bpf top  |  cannot run /nonexistent: No such file"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lines[0], "pid 7"));
	rt_top_view__row(&py, 200, row, sizeof(row));
	CU_ASSERT_STRING_EQUAL(row, " 25.0%  75.0%       50      150  spin (app.py:14)");
	rt_top_view__row(&native, 200, row, sizeof(row));
	CU_ASSERT_STRING_EQUAL(row, " 10.0%  10.0%       20       20  PyObject_Free");
	rt_top_view__row(&native, 0, row, sizeof(row));
	CU_ASSERT_STRING_EQUAL(row, "  0.0%   0.0%       20       20  PyObject_Free");
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("topview", NULL, NULL);
	CU_add_test(suite, "sort, pause, window, quit", test_sort_pause_quit);
	CU_add_test(suite, "thread filter", test_thread_filter);
	CU_add_test(suite, "header and rows", test_lines);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
