/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/json: escaping hostile names into JSON strings. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/json.h"

/* The JSON text rt_json__put_string() writes for s[0..len). */
static char *escaped(const char *s, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(rt_json__put_string(f, s, len), 0);
	fclose(f);
	return text;
}

static void expect(const char *s, size_t len, const char *want)
{
	char *got = escaped(s, len);

	CU_ASSERT_STRING_EQUAL(got, want);
	if (strcmp(got, want))
		fprintf(stderr, "\n  got  %s\n  want %s\n", got, want);
	free(got);
}

#define EXPECT(lit, want) expect(lit, sizeof(lit) - 1, want)

static void test_plain(void)
{
	EXPECT("", "\"\"");
	EXPECT("hot_seventy", "\"hot_seventy\"");
	EXPECT("<module> (a/b.py:12)", "\"<module> (a/b.py:12)\"");
}

static void test_quotes_and_backslashes(void)
{
	EXPECT("say \"hi\"", "\"say \\\"hi\\\"\"");
	EXPECT("C:\\path\\", "\"C:\\\\path\\\\\"");
	/* A name that tries to close the string and add a key. */
	EXPECT("x\",\"evil\":\"1", "\"x\\\",\\\"evil\\\":\\\"1\"");
}

static void test_control_characters(void)
{
	EXPECT("a\nb\tc", "\"a\\nb\\tc\"");
	EXPECT("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	EXPECT("nul\0inside", "\"nul\\u0000inside\"");
	EXPECT("\r\b\f", "\"\\u000d\\u0008\\u000c\"");
}

static void test_valid_utf8_kept(void)
{
	EXPECT("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	EXPECT("\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\"");
	EXPECT("\xf0\x9f\x94\xa5", "\"\xf0\x9f\x94\xa5\"");       /* U+1F525 */
	/* Line and paragraph separators are escaped for JavaScript. */
	EXPECT("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
}

static void test_invalid_utf8_replaced(void)
{
	EXPECT("\xff", "\"\\ufffd\"");
	EXPECT("a\x80z", "\"a\\ufffdz\"");                      /* stray continuation */
	EXPECT("\xc0\xaf", "\"\\ufffd\\ufffd\"");               /* overlong '/' */
	EXPECT("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");    /* overlong, 3 bytes */
	EXPECT("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");    /* surrogate D800 */
	EXPECT("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* past U+10FFFF */
	EXPECT("\xe6\x97", "\"\\ufffd\\ufffd\"");               /* cut at the end */
	EXPECT("\xe6\x97z", "\"\\ufffd\\ufffdz\"");             /* cut by ASCII */
	EXPECT("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

/* Every byte value alone and in pairs: the output is ASCII or valid UTF-8
 * and never holds a raw control character or an unescaped quote. */
static void test_every_byte(void)
{
	for (int a = 0; a < 256; a++)
		for (int b = 0; b < 256; b += 17) {
			char in[2] = { (char)a, (char)b };
			char *out = escaped(in, 2);
			size_t n = strlen(out);

			CU_ASSERT(n >= 2 && out[0] == '"' && out[n - 1] == '"');
			for (size_t i = 1; i + 1 < n; i++) {
				unsigned char c = (unsigned char)out[i];

				CU_ASSERT(c >= 0x20 && c != 0x7f);
				if (c == '\\')
					i++;    /* the escaped character */
				else
					CU_ASSERT(c != '"');
			}
			free(out);
		}
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("json", NULL, NULL);
	CU_add_test(suite, "plain names", test_plain);
	CU_add_test(suite, "quotes and backslashes", test_quotes_and_backslashes);
	CU_add_test(suite, "control characters", test_control_characters);
	CU_add_test(suite, "valid UTF-8 kept", test_valid_utf8_kept);
	CU_add_test(suite, "invalid UTF-8 replaced", test_invalid_utf8_replaced);
	CU_add_test(suite, "every byte", test_every_byte);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
