/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/speedscope (and the frame texts it reads back,
 * rtmerge/frametext, and the per-thread grouping, rtmerge/threads). */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/frametext.h"
#include "rtmerge/speedscope.h"

static uint32_t id_of(struct rt_stacks *s, const char *name)
{
	int64_t id = rt_stacks__intern(s, name, strlen(name));

	CU_ASSERT_FATAL(id >= 0);
	return (uint32_t)id;
}

static void add(struct rt_stacks *s, const char *const *names, uint32_t n, uint64_t count,
		uint64_t period)
{
	uint32_t ids[16];

	for (uint32_t i = 0; i < n; i++)
		ids[i] = id_of(s, names[i]);
	CU_ASSERT_EQUAL_FATAL(rt_stacks__add(s, ids, n, count, period), 0);
}

static void test_parse_thread(void)
{
	struct rt_frametext_thread t;

	CU_ASSERT_EQUAL(rt_frametext__parse_thread("python3.11-12/34", &t), 0);
	CU_ASSERT_EQUAL(t.comm_len, 10);
	CU_ASSERT_EQUAL(t.pid, 12);
	CU_ASSERT_EQUAL(t.tid, 34);
	/* A comm that looks like a root itself: the numbers come from the right. */
	CU_ASSERT_EQUAL(rt_frametext__parse_thread("a-1/2-77/78", &t), 0);
	CU_ASSERT_EQUAL(t.comm_len, 5);
	CU_ASSERT_EQUAL(t.pid, 77);
	CU_ASSERT_EQUAL(t.tid, 78);
	CU_ASSERT_EQUAL(rt_frametext__parse_thread("python3.11", &t), -EINVAL);
	CU_ASSERT_EQUAL(t.comm_len, 10);
	CU_ASSERT_EQUAL(t.tid, 0);
	CU_ASSERT_EQUAL(rt_frametext__parse_thread("x-1/", &t), -EINVAL);
	CU_ASSERT_EQUAL(rt_frametext__parse_thread("x-/5", &t), -EINVAL);
	CU_ASSERT_EQUAL(rt_frametext__parse_thread("x-1/99999999999", &t), -EINVAL);
}

static void test_parse_source(void)
{
	struct rt_frametext_source s;

	CU_ASSERT(rt_frametext__parse_source("hot (app.py:12)", &s));
	CU_ASSERT_EQUAL(s.function_len, 3);
	CU_ASSERT_EQUAL(s.file_len, 6);
	CU_ASSERT_NSTRING_EQUAL(s.file, "app.py", 6);
	CU_ASSERT_EQUAL(s.line, 12);
	CU_ASSERT(rt_frametext__parse_source("<module> (<frozen importlib._bootstrap>:1176)", &s));
	CU_ASSERT_EQUAL(s.line, 1176);
	CU_ASSERT(rt_frametext__parse_source("Foo#bar (lib/foo.rb)", &s));
	CU_ASSERT_EQUAL(s.line, 0);
	CU_ASSERT_NSTRING_EQUAL(s.file, "lib/foo.rb", 10);
	/* A name holding " (" keeps it: the last one opens the file. */
	CU_ASSERT(rt_frametext__parse_source("f (x) (a.py:3)", &s));
	CU_ASSERT_EQUAL(s.function_len, 5);
	/* ... and so may a path, in pairs: the parenthesis the last one closes */
	CU_ASSERT(rt_frametext__parse_source("hot (proj (copy)/app.py:7)", &s));
	CU_ASSERT_EQUAL(s.function_len, 3);
	CU_ASSERT_EQUAL(s.file_len, 18);
	CU_ASSERT_NSTRING_EQUAL(s.file, "proj (copy)/app.py", 18);
	CU_ASSERT_EQUAL(s.line, 7);
	CU_ASSERT(rt_frametext__parse_source("block (2 levels) in f (a (1).rb:9)", &s));
	CU_ASSERT_EQUAL(s.function_len, 21);
	CU_ASSERT_NSTRING_EQUAL(s.file, "a (1).rb", 8);
	/* unbalanced: the last " (" */
	CU_ASSERT(rt_frametext__parse_source("g (a (b.py:2)", &s));
	CU_ASSERT_NSTRING_EQUAL(s.file, "b.py", 4);
	/* Native frames are not source frames. */
	CU_ASSERT(!rt_frametext__parse_source("_PyEval_EvalFrameDefault", &s));
	CU_ASSERT(!rt_frametext__parse_source("operator() (anonymous)", &s));
	CU_ASSERT(!rt_frametext__parse_source("[libc.so.6]", &s));
	CU_ASSERT(!rt_frametext__parse_source(" (a.py:1)", &s));
	CU_ASSERT(!rt_frametext__parse_source("f ()", &s));
}

static char *write_doc(struct rt_stacks *s, const struct rt_speedscope_opts *o)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(rt_speedscope__write(s, o, f), 0);
	fclose(f);
	return text;
}

static void test_document(void)
{
	struct rt_stacks *s = rt_stacks__new();
	const char *a[] = { "py-10/10", "main (app.py:3)", "hot (app.py:7)" };
	const char *b[] = { "py-10/10", "main (app.py:3)", "cold (app.py:9)", "memcpy" };
	const char *c[] = { "worker-10/11", "main (app.py:3)", "do_syscall_64_[k]" };
	const char *d[] = { "py-10/10" };
	struct rt_speedscope_opts o = { .sz = sizeof(o), .name = "t.data", .exporter = "test" };
	char *doc;

	add(s, a, 3, 7, 70);
	add(s, b, 4, 3, 30);
	add(s, c, 3, 5, 500);
	add(s, d, 1, 1, 10);
	doc = write_doc(s, &o);
	CU_ASSERT_STRING_EQUAL(doc,
		"{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
		"\"name\":\"t.data\",\"exporter\":\"test\",\"activeProfileIndex\":0,\n"
		"\"shared\":{\"frames\":[{\"name\":\"main\",\"file\":\"app.py\",\"line\":3},"
		"{\"name\":\"hot\",\"file\":\"app.py\",\"line\":7},"
		"{\"name\":\"cold\",\"file\":\"app.py\",\"line\":9},{\"name\":\"memcpy\"},"
		"{\"name\":\"do_syscall_64_[k]\"},{\"name\":\"py-10/10\"}]},\n"
		"\"profiles\":[{\"type\":\"sampled\",\"name\":\"py (10)\",\"unit\":\"none\","
		"\"startValue\":0,\"endValue\":11,\"samples\":[[0,1],[0,2,3],[5]],"
		"\"weights\":[7,3,1]},\n"
		"{\"type\":\"sampled\",\"name\":\"worker (11)\",\"unit\":\"none\","
		"\"startValue\":0,\"endValue\":5,\"samples\":[[0,4]],\"weights\":[5]}]}\n");
	free(doc);
	/* By period the worker thread weighs most and comes first. */
	o.by_period = true;
	o.unit = "nanoseconds";
	doc = write_doc(s, &o);
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "\"profiles\":[{\"type\":\"sampled\",\"name\":"
					   "\"worker (11)\",\"unit\":\"nanoseconds\","
					   "\"startValue\":0,\"endValue\":500,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "\"weights\":[70,30,10]}"));
	free(doc);
	o.unit = "furlongs";
	{
		FILE *f = fopen("/dev/null", "w");

		CU_ASSERT_EQUAL(rt_speedscope__write(s, &o, f), -EINVAL);
		fclose(f);
	}
	rt_stacks__free(s);
}

static void test_hostile_names(void)
{
	struct rt_stacks *s = rt_stacks__new();
	const char *a[] = { "ev\"il\n\x01-5/6", "f\"x\\ (b\xff\".py:2)", "\x7fnative\xc3" };
	char *doc;

	add(s, a, 3, 1, 1);
	doc = write_doc(s, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "{\"name\":\"f\\\"x\\\\\",\"file\":\"b\\ufffd\\\".py\","
					   "\"line\":2},{\"name\":\"\\u007fnative\\ufffd\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "\"name\":\"ev\\\"il\\n\\u0001 (6)\""));
	free(doc);
	rt_stacks__free(s);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("speedscope", NULL, NULL);
	CU_add_test(suite, "thread roots", test_parse_thread);
	CU_add_test(suite, "interpreter frames", test_parse_source);
	CU_add_test(suite, "document", test_document);
	CU_add_test(suite, "hostile names", test_hostile_names);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
