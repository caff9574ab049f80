/* SPDX-License-Identifier: GPL-2.0-only */
/* The CodeTracer writer (rtbpf/codetracer.c): ids registered once and in
 * order, strings escaped into valid JSON, the three files written. */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtbpf/codetracer.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[8192];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void test_trace_directory(void)
{
	char dir[] = "/tmp/rt-test-ctrace.XXXXXX", path[512], src[256], cmd[300];
	char *argv[] = { "app.py", "x" };
	struct rt_ctrace *w;
	struct rt_ctrace_arg arg = { 0 };
	struct rt_ctrace_value none = { .kind = RT_CTRACE_VALUE_NONE };
	struct rt_ctrace_value error = { .kind = RT_CTRACE_VALUE_ERROR, .text = "<exception>", .len = 11 };
	FILE *f;
	int fd;
	char *text;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(src, sizeof(src), "%s/src.py", dir);
	f = fopen(src, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("print(1)\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/out", dir);
	w = rt_ctrace__new(path, "/usr/bin/python3", 2, argv, "/work");
	CU_ASSERT_FATAL(w != NULL);
	fd = open(src, O_RDONLY);
	CU_ASSERT_EQUAL(rt_ctrace__path(w, src, fd), 0);
	close(fd);
	CU_ASSERT_EQUAL(rt_ctrace__path(w, src, -1), 0);
	CU_ASSERT_EQUAL(rt_ctrace__path(w, "<frozen>", -1), 1);
	CU_ASSERT_EQUAL(rt_ctrace__function(w, 0, 1, "f"), 0);
	CU_ASSERT_EQUAL(rt_ctrace__function(w, 0, 1, "f"), 0);
	CU_ASSERT_EQUAL(rt_ctrace__function(w, 0, 2, "f"), 1);
	CU_ASSERT_EQUAL(rt_ctrace__type(w, RT_CTRACE_TYPE_INT, "int"), 0);
	CU_ASSERT_EQUAL(rt_ctrace__variable(w, "n"), 0);
	arg.variable_id = 0;
	arg.value.kind = RT_CTRACE_VALUE_INT;
	arg.value.i = -5;
	CU_ASSERT_EQUAL(rt_ctrace__call(w, 0, &arg, 1), 0);
	CU_ASSERT_EQUAL(rt_ctrace__step(w, 0, 1), 0);
	CU_ASSERT_EQUAL(rt_ctrace__event(w, RT_CTRACE_EVENT_WRITE, "fd 1", "a\"\n\xff", 4), 0);
	CU_ASSERT_EQUAL(rt_ctrace__call(w, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(rt_ctrace__return(w, &error), 0);
	CU_ASSERT_EQUAL(rt_ctrace__return(w, &none), 0);
	CU_ASSERT_EQUAL(rt_ctrace__close(w), 0);

	snprintf(path, sizeof(path), "%s/out/trace.json", dir);
	text = slurp(path);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "{\"Function\": {\"path_id\": 0, \"line\": 2, \"name\": \"f\"}}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"args\": [{\"variable_id\": 0, \"value\": {\"kind\": \"Int\", \"i\": -5, \"type_id\": 0}}]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "{\"Return\": {\"return_value\": {\"kind\": \"Error\", \"msg\": \"<exception>\", \"type_id\": 0}}}"));
	/* quote and newline escaped, the invalid byte replaced */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"content\": \"a\\\"\\n\xef\xbf\xbd\""));
	CU_ASSERT_EQUAL(text[0], '[');
	snprintf(path, sizeof(path), "%s/out/trace_metadata.json", dir);
	text = slurp(path);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_STRING_EQUAL(text, "{\"workdir\": \"/work\", \"program\": \"/usr/bin/python3\", "
			       "\"args\": [\"app.py\", \"x\"]}\n");
	snprintf(path, sizeof(path), "%s/out/files%s", dir, src);
	text = slurp(path);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_STRING_EQUAL(text, "print(1)\n");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("codetracer", NULL, NULL);
	CU_add_test(suite, "a trace directory", test_trace_directory);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
