/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/protobuf: wire-format bytes against the
 * encodings the protocol buffers documentation gives. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/protobuf.h"

static void expect(const struct rt_protobuf *pb, const uint8_t *want, size_t len)
{
	CU_ASSERT_EQUAL(rt_protobuf__error(pb), 0);
	CU_ASSERT_EQUAL(pb->len, len);
	if (pb->len == len)
		CU_ASSERT_EQUAL(memcmp(pb->data, want, len), 0);
}

#define EXPECT(pb, ...) do { \
	static const uint8_t want_[] = { __VA_ARGS__ }; \
	expect(pb, want_, sizeof(want_)); \
} while (0)

static void test_varints(void)
{
	struct rt_protobuf pb;

	rt_protobuf__init(&pb);
	rt_protobuf__put_uint64(&pb, 1, 150);   /* the documentation's example */
	EXPECT(&pb, 0x08, 0x96, 0x01);
	rt_protobuf__exit(&pb);

	rt_protobuf__init(&pb);
	rt_protobuf__put_varint(&pb, 0);
	rt_protobuf__put_varint(&pb, 127);
	rt_protobuf__put_varint(&pb, 128);
	rt_protobuf__put_varint(&pb, UINT64_MAX);
	EXPECT(&pb, 0x00, 0x7f, 0x80, 0x01,
	       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	rt_protobuf__exit(&pb);

	/* int64 -1: ten bytes, as protoc writes it; a high field number. */
	rt_protobuf__init(&pb);
	rt_protobuf__put_int64(&pb, 14, -1);
	rt_protobuf__put_uint64(&pb, 16, 1);
	EXPECT(&pb, 0x70, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
	       0x80, 0x01, 0x01);
	rt_protobuf__exit(&pb);
}

static void test_bytes_and_packed(void)
{
	struct rt_protobuf pb;
	uint64_t values[] = { 3, 270, 86942 };  /* the documentation's packed example */

	rt_protobuf__init(&pb);
	rt_protobuf__put_bytes(&pb, 2, "testing", 7);
	rt_protobuf__put_bytes(&pb, 6, "", 0);
	rt_protobuf__put_packed(&pb, 4, values, 3);
	rt_protobuf__put_packed(&pb, 5, values, 0);     /* nothing */
	EXPECT(&pb, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g', 0x32, 0x00,
	       0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05);
	rt_protobuf__exit(&pb);
}

static void test_nested(void)
{
	struct rt_protobuf pb;
	size_t outer, inner;

	/* Test3 { c: Test1 { a: 150 } } from the documentation. */
	rt_protobuf__init(&pb);
	outer = rt_protobuf__begin(&pb, 3);
	rt_protobuf__put_uint64(&pb, 1, 150);
	rt_protobuf__end(&pb, outer);
	EXPECT(&pb, 0x1a, 0x03, 0x08, 0x96, 0x01);
	rt_protobuf__exit(&pb);

	/* Two levels, an empty message, and a body of 200 bytes whose length
	 * takes two bytes (the body moves). */
	rt_protobuf__init(&pb);
	outer = rt_protobuf__begin(&pb, 1);
	inner = rt_protobuf__begin(&pb, 2);
	rt_protobuf__end(&pb, inner);
	inner = rt_protobuf__begin(&pb, 3);
	for (int i = 0; i < 100; i++)
		rt_protobuf__put_uint64(&pb, 1, 1);
	rt_protobuf__end(&pb, inner);
	rt_protobuf__end(&pb, outer);
	CU_ASSERT_EQUAL(rt_protobuf__error(&pb), 0);
	/* key, 2-byte length 205, empty message (2), key, 2-byte length 200, body */
	CU_ASSERT_EQUAL_FATAL(pb.len, 1 + 2 + 2 + 1 + 2 + 200);
	{
		static const uint8_t head[] = { 0x0a, 0xcd, 0x01, 0x12, 0x00, 0x1a, 0xc8, 0x01,
						0x08, 0x01 };

		CU_ASSERT_EQUAL(memcmp(pb.data, head, sizeof(head)), 0);
		CU_ASSERT_EQUAL(pb.data[pb.len - 2], 0x08);
		CU_ASSERT_EQUAL(pb.data[pb.len - 1], 0x01);
	}
	rt_protobuf__exit(&pb);
}

static void test_growth(void)
{
	struct rt_protobuf pb;
	size_t mark;

	/* Past the first allocation, inside a message. */
	rt_protobuf__init(&pb);
	mark = rt_protobuf__begin(&pb, 1);
	for (int i = 0; i < 100000; i++)
		rt_protobuf__put_uint64(&pb, 2, (uint64_t)i);
	rt_protobuf__end(&pb, mark);
	CU_ASSERT_EQUAL(rt_protobuf__error(&pb), 0);
	CU_ASSERT_EQUAL(pb.data[0], 0x0a);
	{
		size_t body = pb.len - 4, got = 0;

		/* 4 bytes of prefix: key and a 3-byte length */
		for (int k = 0, shift = 0; k < 3; k++, shift += 7)
			got |= (size_t)(pb.data[1 + k] & 0x7f) << shift;
		CU_ASSERT_EQUAL(got, body);
	}
	rt_protobuf__exit(&pb);
	rt_protobuf__exit(&pb);     /* twice is harmless */
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("protobuf", NULL, NULL);
	CU_add_test(suite, "varints", test_varints);
	CU_add_test(suite, "bytes and packed fields", test_bytes_and_packed);
	CU_add_test(suite, "nested messages", test_nested);
	CU_add_test(suite, "growth", test_growth);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
