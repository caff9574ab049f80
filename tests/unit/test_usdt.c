/* SPDX-License-Identifier: GPL-2.0-only */
/* What rt-bpf's probe modes read in ELF files (rtbpf/usdt.c), on this test
 * program's own file: its functions' offsets (where rt-bpf trace's uprobe
 * fallback attaches), its libraries, and the absence of USDT probes. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rtbpf/usdt.h"

/* A function of this file: in .symtab only (local). */
__attribute__((noinline)) static int local_function(int x)
{
	return x * 3 + 1;
}

static int self_fd(void)
{
	return open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
}

/* The offset is where the function's code is in the file: its bytes there
 * are those this process runs. */
static void test_function_offset(void)
{
	int fd = self_fd();
	uint64_t off = 0;
	unsigned char file_bytes[16];
	struct stat st;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(local_function(1), 4);
	CU_ASSERT_EQUAL_FATAL(rt_usdt__function_offset(fd, "local_function", &off), 0);
	CU_ASSERT_FATAL(!fstat(fd, &st) && off > 0 && off + sizeof(file_bytes) < (uint64_t)st.st_size);
	CU_ASSERT_EQUAL_FATAL(pread(fd, file_bytes, sizeof(file_bytes), (off_t)off),
			      (ssize_t)sizeof(file_bytes));
	CU_ASSERT_EQUAL(memcmp(file_bytes, (const void *)local_function, sizeof(file_bytes)), 0);
	CU_ASSERT_EQUAL(rt_usdt__function_offset(fd, "no_such_function_here", &off), -ENOENT);
	close(fd);
}

static int first_needed(void *ctx, const char *lib)
{
	return !strncmp(lib, "libc.so", 7) ? 1 : 0;
}

static void test_needed_and_probes(void)
{
	int fd = self_fd();

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(rt_usdt__each_needed(fd, first_needed, NULL), 1);
	CU_ASSERT_FALSE(rt_usdt__has_probe(fd, "python", 6, "line"));
	CU_ASSERT_FALSE(rt_usdt__has_probe(fd, "python", 6, NULL));
	close(fd);
}

int main(void)
{
	unsigned int failures;
	CU_pSuite suite;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	suite = CU_add_suite("usdt", NULL, NULL);
	CU_add_test(suite, "function offsets", test_function_offset);
	CU_add_test(suite, "needed libraries, no probes", test_needed_and_probes);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
