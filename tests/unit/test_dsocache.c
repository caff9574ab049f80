/* SPDX-License-Identifier: GPL-2.0-only */
/* The build-id cache filler (rtbpf/dsocache.c), on this test's own process:
 * its executable must land in perf's layout under its build id, as a copy
 * with that build id, once. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rtbpf/dsocache.h"
#include "symbolize/symbolize.h"

static void test_own_process(void)
{
	char dir[] = "/tmp/rt-test-dsocache.XXXXXX", link[PATH_MAX], exe[PATH_MAX], hexid[41],
	     cmd[PATH_MAX + 16];
	uint8_t id[20], copy_id[20];
	ssize_t n;
	int len, copied;
	struct stat st;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CU_ASSERT_FATAL(n > 0);
	exe[n] = '\0';
	len = rt_elf__build_id(exe, id, sizeof(id));
	CU_ASSERT_FATAL(len >= 2);
	for (int i = 0; i < len; i++)
		snprintf(hexid + 2 * i, 3, "%02x", id[i]);

	copied = rt_dsocache__add_process(dir, getpid());
	CU_ASSERT(copied >= 1);
	snprintf(link, sizeof(link), "%s/.build-id/%.2s/%s/elf", dir, hexid, hexid + 2);
	CU_ASSERT_EQUAL(stat(link, &st), 0);
	CU_ASSERT_EQUAL(rt_elf__build_id(link, copy_id, sizeof(copy_id)), len);
	CU_ASSERT_EQUAL(memcmp(copy_id, id, (size_t)len), 0);
	/* the named copy too: CACHE/<path>/<id>/elf */
	CU_ASSERT_FATAL(snprintf(link, sizeof(link), "%s%s/%s/elf", dir, exe, hexid) <
			(int)sizeof(link));
	CU_ASSERT_EQUAL(stat(link, &st), 0);
	/* a second pass finds everything cached */
	CU_ASSERT_EQUAL(rt_dsocache__add_process(dir, getpid()), 0);
	/* this process is in its own root */
	CU_ASSERT_FALSE(rt_dsocache__foreign_root(getpid()));
	CU_ASSERT_EQUAL(rt_dsocache__add_process(dir, 0x7ffffff0), -ESRCH);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("dsocache", NULL, NULL);
	CU_add_test(suite, "own process into a cache", test_own_process);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
