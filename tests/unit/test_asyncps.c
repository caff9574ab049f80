/* SPDX-License-Identifier: GPL-2.0-only */
/* rt-bpf async --ps: the table and the awaited-by tree drawn from a set of
 * tasks (the shapes `python -m asyncio ps/pstree` print: a task under each
 * coroutine chain of each task awaiting it, a task awaiting none with its
 * own chain, roots = tasks nobody awaits), and what reading a process that
 * runs no CPython says. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtbpf/asyncps.h"
#include "runtimes/python/asyncps.h"

static struct rt_asyncps_frame f_main[] = { { "main", "app.py", 30 } };
static struct rt_asyncps_frame f_mid[] = { { "Event.wait", "locks.py", 213 }, { "mid", "app.py", 15 } };
static struct rt_asyncps_frame f_leaf[] = { { "leaf", "app.py", 11 } };
static uint64_t by_main[] = { 0x10 };
static uint64_t by_both[] = { 0x10, 0x20 };

/* Task-1 (0x10) awaits nothing of its own kind; mid (0x20) is awaited by
 * Task-1; leaf (0x30) by Task-1 and mid; stray (0x40) by a future that is
 * not a task. */
static struct rt_asyncps_task tasks[] = {
	{ 0x10, 7, "Task-1", f_main, 1, NULL, 0 },
	{ 0x20, 7, "mid", f_mid, 2, by_main, 1 },
	{ 0x30, 7, "leaf", f_leaf, 1, by_both, 2 },
};

static char *print(const struct rt_asyncps *ps)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(rt_async_ps__print(f, ps), 0);
	fclose(f);
	return buf;
}

static void test_tree(void)
{
	struct rt_asyncps ps = { 3, 14, 0, tasks, 3 };
	char *out = print(&ps), *tree;

	tree = strstr(out, "└── (T) Task-1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(tree,
		"└── (T) Task-1\n"
		"    └──  main app.py:30\n"
		"        ├── (T) mid\n"
		"        │   └──  mid app.py:15\n"
		"        │       └──  Event.wait locks.py:213\n"
		"        │           └── (T) leaf\n"
		"        │               └──  leaf app.py:11\n"
		"        └── (T) leaf\n"
		"            └──  leaf app.py:11\n");
	/* the table: each task's awaiters by name, its chain innermost first */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Task-1,mid"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Event.wait (locks.py:213) -> mid (app.py:15)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x20 "));
	free(out);
}

static void test_unknown_awaiter(void)
{
	static uint64_t by_future[] = { 0x99 };
	struct rt_asyncps_task one[] = { { 0x40, 7, "stray", f_leaf, 1, by_future, 1 } };
	struct rt_asyncps ps = { 3, 14, 0, one, 1 };
	char *out = print(&ps);

	/* awaited only by something that is not a task: a root with its chain */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(not a task)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "└── (T) stray\n    └──  leaf app.py:11\n"));
	CU_ASSERT_PTR_EQUAL(rt_asyncps__task(&ps, 0x40), &one[0]);
	CU_ASSERT_PTR_NULL(rt_asyncps__task(&ps, 0x99));
	free(out);
}

static void test_not_cpython(void)
{
	struct rt_asyncps ps;
	char msg[256];

	/* this test runs no CPython: nothing to read, and says so */
	CU_ASSERT_EQUAL(rt_asyncps__read(getpid(), &ps, msg, sizeof(msg)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no CPython"));
	CU_ASSERT_EQUAL(ps.nr_tasks, 0);
	rt_asyncps__free(&ps);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("asyncps", NULL, NULL);
	CU_add_test(suite, "table and awaited-by tree", test_tree);
	CU_add_test(suite, "an awaiter that is not a task", test_unknown_awaiter);
	CU_add_test(suite, "a process without CPython", test_not_cpython);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
