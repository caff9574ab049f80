/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for perfglue/tidtable: per-thread entries by tid. */
#include <CUnit/Basic.h>
#include <stdlib.h>

#include "perfglue/tidtable.h"

struct entry {
	struct rt_tid_key key;
	uint64_t value;
};

/* Many threads, tid 0 among them: each keeps its own entry across the
 * table's growth; absent tids are not created by a lookup. */
static void test_grow_and_find(void)
{
	struct rt_tid_table t = { .entry_size = sizeof(struct entry) };
	size_t seen = 0;

	CU_ASSERT_PTR_NULL(rt_tid_table__get(&t, 5, false));
	for (uint32_t tid = 0; tid < 1000; tid++) {
		struct entry *e = rt_tid_table__get(&t, tid * 7919, true);

		CU_ASSERT_FATAL(e != NULL);
		CU_ASSERT_EQUAL(e->key.tid, tid * 7919);
		CU_ASSERT_EQUAL(e->value, 0);
		e->value = tid + 1;
	}
	CU_ASSERT_EQUAL(t.used, 1000);
	CU_ASSERT(t.cap >= 2000 && !(t.cap & (t.cap - 1)));
	for (uint32_t tid = 0; tid < 1000; tid++) {
		struct entry *e = rt_tid_table__get(&t, tid * 7919, false);

		CU_ASSERT_FATAL(e != NULL);
		CU_ASSERT_EQUAL(e->value, tid + 1);
		/* the same entry again when asked to create it */
		CU_ASSERT_PTR_EQUAL(rt_tid_table__get(&t, tid * 7919, true), e);
	}
	CU_ASSERT_PTR_NULL(rt_tid_table__get(&t, 1, false));
	CU_ASSERT_EQUAL(t.used, 1000);
	for (size_t i = 0; i < t.cap + 3; i++) {
		struct entry *e = rt_tid_table__at(&t, i);

		if (e) {
			CU_ASSERT_EQUAL(e->value, e->key.tid / 7919 + 1);
			seen++;
		}
	}
	CU_ASSERT_EQUAL(seen, 1000);
	rt_tid_table__clear(&t);
	CU_ASSERT_EQUAL(t.cap, 0);
	CU_ASSERT_PTR_NULL(rt_tid_table__get(&t, 7919, false));
	CU_ASSERT_PTR_NULL(rt_tid_table__at(&t, 0));
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("tidtable", NULL, NULL);
	CU_add_test(suite, "grow and find", test_grow_and_find);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
