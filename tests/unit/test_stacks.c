/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/stacks: interning, aggregation, folded output. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/stacks.h"

static uint32_t id_of(struct rt_stacks *s, const char *name)
{
	int64_t id = rt_stacks__intern(s, name, strlen(name));

	CU_ASSERT_FATAL(id >= 0);
	return (uint32_t)id;
}

static void test_intern(void)
{
	struct rt_stacks *s = rt_stacks__new();
	uint32_t a = id_of(s, "main"), b = id_of(s, "work");

	CU_ASSERT_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(id_of(s, "main"), a);
	/* Interning a prefix of a longer buffer stops at len. */
	CU_ASSERT_EQUAL(rt_stacks__intern(s, "mainframe", 4), a);
	CU_ASSERT_STRING_EQUAL(rt_stacks__name(s, b), "work");
	rt_stacks__free(s);
}

static char *folded(struct rt_stacks *s, int by_period)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_EQUAL(rt_stacks__write_folded(s, f, by_period), 0);
	fclose(f);
	return text;
}

static void test_aggregate(void)
{
	struct rt_stacks *s = rt_stacks__new();
	uint32_t comm = id_of(s, "prog"), m = id_of(s, "main"), a = id_of(s, "a"),
		 b = id_of(s, "b");
	uint32_t s1[] = { comm, m, b }, s2[] = { comm, m, a }, s3[] = { comm, m };
	char *text;

	CU_ASSERT_EQUAL(rt_stacks__add(s, s1, 3, 1, 10), 0);
	CU_ASSERT_EQUAL(rt_stacks__add(s, s2, 3, 1, 20), 0);
	CU_ASSERT_EQUAL(rt_stacks__add(s, s1, 3, 2, 30), 0);
	CU_ASSERT_EQUAL(rt_stacks__add(s, s3, 2, 1, 5), 0);
	CU_ASSERT_EQUAL(rt_stacks__nr(s), 3);
	text = folded(s, 0);
	CU_ASSERT_STRING_EQUAL(text, "prog;main 1\nprog;main;a 1\nprog;main;b 3\n");
	free(text);
	text = folded(s, 1);
	CU_ASSERT_STRING_EQUAL(text, "prog;main 5\nprog;main;a 20\nprog;main;b 40\n");
	free(text);
	rt_stacks__free(s);
}

static void test_many(void)
{
	struct rt_stacks *s = rt_stacks__new();
	uint32_t frames[3];
	char name[32];
	int i;
	uint64_t sum = 0;

	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "f%d", i % 5000);
		frames[0] = id_of(s, "root");
		frames[1] = id_of(s, name);
		frames[2] = (uint32_t)(i % 7);
		CU_ASSERT_EQUAL_FATAL(rt_stacks__add(s, frames, 3, 1, 0), 0);
	}
	for (size_t k = 0; k < rt_stacks__nr(s); k++) {
		struct rt_stack st;

		rt_stacks__get(s, k, &st);
		sum += st.count;
	}
	CU_ASSERT_EQUAL(sum, 100000);
	CU_ASSERT_EQUAL(rt_stacks__nr(s), 35000);
	rt_stacks__free(s);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("stacks", NULL, NULL);
	CU_add_test(suite, "interning", test_intern);
	CU_add_test(suite, "aggregation and folded output", test_aggregate);
	CU_add_test(suite, "many stacks", test_many);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
