/* SPDX-License-Identifier: GPL-2.0-only */
/* The CodeTracer writer (rtbpf/codetracer.c): ids registered once and in
 * order, strings escaped into valid JSON, the three files written. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Writes @text into @dir/@name. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* A directory given again: the earlier trace is replaced whole (its files/
 * did stay beside the new trace's); one that holds other files is refused
 * untouched, and so is a files/ without a trace. */
static void test_trace_directory_again(void)
{
	char dir[] = "/tmp/rt-test-ctrace.XXXXXX", out[64], path[128], cmd[512];
	struct rt_ctrace *w;
	struct stat st;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(out, sizeof(out), "%s/out", dir);
	CU_ASSERT_EQUAL(rt_ctrace__check_dir(out), 0); /* absent */
	CU_ASSERT_EQUAL(mkdir(out, 0755), 0);
	CU_ASSERT_EQUAL(rt_ctrace__check_dir(out), 0); /* empty */
	/* an earlier trace, with a source under files/ and a link out of it */
	snprintf(path, sizeof(path), "%s/files/old/dir", out);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && ln -s %s %s/files/old/link", path, dir, out);
	CU_ASSERT_FATAL(system(cmd) == 0);
	put(out, "files/old/dir/old.py", "old\n");
	put(out, "trace.json", "[]");
	put(out, "trace_paths.json", "[]");
	put(dir, "keep", "kept\n");
	CU_ASSERT_EQUAL(rt_ctrace__check_dir(out), 0);
	w = rt_ctrace__new(out, "/usr/bin/python3", 0, NULL, "/work");
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT_EQUAL(rt_ctrace__close(w), 0);
	snprintf(path, sizeof(path), "%s/files/old", out);
	CU_ASSERT_NOT_EQUAL(lstat(path, &st), 0); /* gone */
	snprintf(path, sizeof(path), "%s/files", out);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/trace.json", out);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/keep", dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0); /* the link was not followed */

	/* other files: refused, and left as they are */
	put(out, "notes.txt", "mine\n");
	CU_ASSERT_EQUAL(rt_ctrace__check_dir(out), -ENOTEMPTY);
	w = rt_ctrace__new(out, "/usr/bin/python3", 0, NULL, "/work");
	CU_ASSERT_PTR_NULL(w);
	CU_ASSERT_EQUAL(errno, ENOTEMPTY);
	snprintf(path, sizeof(path), "%s/trace.json", out);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	/* files/ without trace.json is somebody else's */
	snprintf(cmd, sizeof(cmd), "rm -f %s/notes.txt %s/trace*.json", out, out);
	CU_ASSERT_FATAL(system(cmd) == 0);
	CU_ASSERT_EQUAL(rt_ctrace__check_dir(out), -ENOTEMPTY);
	/* not a directory */
	snprintf(path, sizeof(path), "%s/keep", dir);
	CU_ASSERT_EQUAL(rt_ctrace__check_dir(path), -ENOTDIR);
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
	CU_add_test(suite, "a trace directory given again", test_trace_directory_again);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
