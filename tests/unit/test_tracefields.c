/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/tracefields: perf's tracing data parsed with
 * libtraceevent, fields formatted from raw records, malformed input. */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/tracefields.h"

static const char format[] =
	"name: sys_enter_write\n"
	"ID: 840\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:int delta;\toffset:40;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"fd: 0x%08lx, count: 0x%08lx\", ((unsigned long)(REC->fd)), "
	"((unsigned long)(REC->count))\n";

static size_t put(uint8_t *buf, size_t off, const void *p, size_t n)
{
	memcpy(buf + off, p, n);
	return off + n;
}

/* Tracing data as perf writes it, with the one format above. */
static size_t tracing_data(uint8_t *buf)
{
	uint64_t zero64 = 0, len = sizeof(format) - 1;
	uint32_t zero32 = 0, one = 1, page = 4096;
	uint8_t endian = 0, long_size = 8;
	size_t off = 0;

	off = put(buf, off, "\027\010\104tracing", 10);
	off = put(buf, off, "0.6", 4);
	off = put(buf, off, &endian, 1);
	off = put(buf, off, &long_size, 1);
	off = put(buf, off, &page, 4);
	off = put(buf, off, "header_page", 12);
	off = put(buf, off, &zero64, 8);
	off = put(buf, off, "header_event", 13);
	off = put(buf, off, &zero64, 8);
	off = put(buf, off, &zero32, 4); /* ftrace formats */
	off = put(buf, off, &one, 4);    /* systems */
	off = put(buf, off, "syscalls", 9);
	off = put(buf, off, &one, 4);
	off = put(buf, off, &len, 8);
	off = put(buf, off, format, len);
	return off;
}

static void test_fields(void)
{
	uint8_t buf[4096], raw[48] = { 0 };
	size_t n = tracing_data(buf);
	struct rt_trace_fields *t = rt_trace_fields__new(buf, n);
	int32_t nr = 1, delta = -5;
	uint64_t fd = 3, count = 100;
	char text[128];
	char *printed = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(rt_trace_fields__nr_events(t), 1);
	memcpy(raw + 8, &nr, 4);
	memcpy(raw + 16, &fd, 8);
	memcpy(raw + 32, &count, 8);
	memcpy(raw + 40, &delta, 4);
	CU_ASSERT_EQUAL(rt_trace_fields__format(t, 840, raw, sizeof(raw), "count", text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "count=100");
	CU_ASSERT_EQUAL(rt_trace_fields__format(t, 840, raw, sizeof(raw), "delta", text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "delta=-5");
	/* a system call number is named */
	CU_ASSERT_EQUAL(rt_trace_fields__format(t, 840, raw, sizeof(raw), "__syscall_nr", text,
						sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "__syscall_nr=write");
	CU_ASSERT_EQUAL(rt_trace_fields__format(t, 840, raw, sizeof(raw), "nosuch", text, sizeof(text)),
			-ENOENT);
	CU_ASSERT_EQUAL(rt_trace_fields__format(t, 841, raw, sizeof(raw), "count", text, sizeof(text)),
			-ENOENT);
	/* a record too short for the field */
	CU_ASSERT_EQUAL(rt_trace_fields__format(t, 840, raw, 36, "count", text, sizeof(text)), -EINVAL);
	f = open_memstream(&printed, &len);
	rt_trace_fields__print(t, 840, raw, sizeof(raw), f);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(printed, " __syscall_nr=write fd=3 count=100 delta=-5");
	free(printed);
	rt_trace_fields__free(t);
}

static void test_malformed(void)
{
	uint8_t buf[4096];
	size_t n = tracing_data(buf);

	/* every truncation is refused or parsed safely, never read past */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct rt_trace_fields *t;

		memcpy(copy, buf, cut);
		t = rt_trace_fields__new(copy, cut);
		CU_ASSERT_PTR_NULL(t);
		rt_trace_fields__free(t);
		free(copy);
	}
	buf[0] = 'x';
	CU_ASSERT_PTR_NULL(rt_trace_fields__new(buf, n));
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("tracefields", NULL, NULL);
	CU_add_test(suite, "fields of a record", test_fields);
	CU_add_test(suite, "malformed tracing data", test_malformed);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
