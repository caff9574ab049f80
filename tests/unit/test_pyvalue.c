/* SPDX-License-Identifier: GPL-2.0-only */
/* Cheap Python values from object bytes (runtimes/python/value.c): the
 * int layouts before and from 3.12, 2.7's int and str, compact ASCII str,
 * and what is left undecoded. */
#include <CUnit/Basic.h>
#include <string.h>

#include "runtimes/python/value.h"

/* bytes from offset 16, as bpf/trace.bpf.c reads them */
static uint8_t data[96];

static void put64(size_t off, int64_t v)
{
	memcpy(data + off, &v, sizeof(v));
}

static void put32(size_t off, uint32_t v)
{
	memcpy(data + off, &v, sizeof(v));
}

static struct rt_layout_cpython layout(int major, int minor)
{
	struct rt_layout_cpython c;

	memset(&c, 0xff, sizeof(c)); /* RT_LAYOUT_NONE everywhere */
	c.bytes_size = 16;
	c.bytes_data = major == 2 ? 36 : 32;
	if (major == 3) {
		c.unicode_length = 16;
		c.unicode_state = 32;
		c.unicode_ascii_data = minor >= 12 ? 40 : 48;
	}
	return c;
}

static void test_ints(void)
{
	struct rt_layout_cpython c = layout(3, 10);
	struct rt_pyvalue v;

	memset(data, 0, sizeof(data));
	put64(0, -2); /* ob_size: negative, two digits */
	put32(8, 5);
	put32(12, 1);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 10, "int", data, sizeof(data), &v), RT_PYVALUE_INT);
	CU_ASSERT_EQUAL(v.i, -(int64_t)(5 + (1ll << 30)));
	put64(0, 3); /* three digits: too large */
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 10, "int", data, sizeof(data), &v), RT_PYVALUE_OTHER);
	/* 3.12: lv_tag, one digit, positive; zero; negative */
	c = layout(3, 12);
	put64(0, 1 << 3);
	put32(8, 46368);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 12, "int", data, sizeof(data), &v), RT_PYVALUE_INT);
	CU_ASSERT_EQUAL(v.i, 46368);
	put64(0, 1);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 12, "int", data, sizeof(data), &v), RT_PYVALUE_INT);
	CU_ASSERT_EQUAL(v.i, 0);
	put64(0, 1 << 3 | 2);
	rt_pyvalue__decode(&c, 3, 12, "int", data, sizeof(data), &v);
	CU_ASSERT_EQUAL(v.i, -46368);
	put64(0, 1 << 3);
	put32(8, 1);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 12, "bool", data, sizeof(data), &v), RT_PYVALUE_BOOL);
	CU_ASSERT_EQUAL(v.i, 1);
	/* 2.7: a C long */
	c = layout(2, 7);
	put64(0, -7);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 2, 7, "int", data, sizeof(data), &v), RT_PYVALUE_INT);
	CU_ASSERT_EQUAL(v.i, -7);
}

static void test_float_none_other(void)
{
	struct rt_layout_cpython c = layout(3, 11);
	struct rt_pyvalue v;
	double d = 35.5;

	memcpy(data, &d, sizeof(d));
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 11, "float", data, sizeof(data), &v), RT_PYVALUE_FLOAT);
	CU_ASSERT_EQUAL(v.f, 35.5);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 11, "NoneType", data, sizeof(data), &v), RT_PYVALUE_NONE);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 11, "Counter", data, sizeof(data), &v), RT_PYVALUE_OTHER);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 11, "float", data, 4, &v), RT_PYVALUE_OTHER);
}

static void test_strs(void)
{
	struct rt_layout_cpython c = layout(3, 12);
	struct rt_pyvalue v;

	memset(data, 0, sizeof(data));
	put64(0, 4);                            /* length */
	put32(16, 1u << 5 | 1u << 6 | 1u << 2); /* compact, ascii, kind 1 */
	memcpy(data + 24, "step", 4);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 12, "str", data, sizeof(data), &v), RT_PYVALUE_STR);
	CU_ASSERT_EQUAL(v.len, 4);
	CU_ASSERT_NSTRING_EQUAL(v.text, "step", 4);
	put64(0, 100); /* longer than what was read */
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 12, "str", data, sizeof(data), &v), RT_PYVALUE_OTHER);
	put64(0, 4);
	put32(16, 1u << 5 | 1u << 2); /* not ASCII */
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 12, "str", data, sizeof(data), &v), RT_PYVALUE_OTHER);
	/* 2.7: PyStringObject, ob_size then ob_sval at 36 */
	c = layout(2, 7);
	put64(0, 2);
	memcpy(data + 20, "ok", 2);
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 2, 7, "str", data, sizeof(data), &v), RT_PYVALUE_STR);
	CU_ASSERT_NSTRING_EQUAL(v.text, "ok", 2);
	/* 2.7 has no unicode offsets: a 3.x str on its layout is not read */
	CU_ASSERT_EQUAL(rt_pyvalue__decode(&c, 3, 7, "str", data, sizeof(data), &v), RT_PYVALUE_OTHER);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("pyvalue", NULL, NULL);
	CU_add_test(suite, "ints by version", test_ints);
	CU_add_test(suite, "float, None, other types", test_float_none_other);
	CU_add_test(suite, "str, compact ASCII and 2.7", test_strs);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
