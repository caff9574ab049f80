/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel feature probes and the line rt-bpf prints below its floor: every
 * feature is present on the kernel these tests are built on (the build
 * needs its BTF), and the message names each missing feature with its
 * release. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rtbpf/kfeatures.h"

static void test_probes(void)
{
	char buf[512] = "";

	for (unsigned int f = 0; f < RT_KF__NR; f++) {
		int r = rt_kfeature__probe((enum rt_kfeature)f);

		/* not root: the BPF probes cannot run, which is not "missing" */
		if (geteuid() != 0 && r < 0)
			continue;
		CU_ASSERT_EQUAL(r, 1);
	}
	CU_ASSERT_EQUAL(rt_kfeature__probe(RT_KF__NR), -EINVAL);
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(rt_kfeatures__check(buf, sizeof(buf)), 0);
		CU_ASSERT_STRING_EQUAL(buf, "");
	}
}

static void test_message(void)
{
	char buf[512], small[24];
	unsigned int missing = 1u << RT_KF_PERF_LINK | 1u << RT_KF_BPF_LOOP;
	int n = rt_kfeatures__format_missing(missing, "5.10.0-32-cloud-amd64", buf, sizeof(buf));

	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "this kernel (5.10.0-32-cloud-amd64) lacks "
					   "BPF links on perf events (Linux 5.15), bpf_loop (Linux 5.17); "
					   "rt-bpf needs Linux 5.17 or later"));
	CU_ASSERT_PTR_NULL(strchr(buf, '\n'));
	CU_ASSERT_PTR_NULL(strstr(buf, "pidfd"));
	/* truncated output stays terminated and reports the full length */
	CU_ASSERT_EQUAL(rt_kfeatures__format_missing(missing, "5.10.0-32-cloud-amd64", small,
						     sizeof(small)), n);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	CU_ASSERT_PTR_NULL(rt_kfeature__info(RT_KF__NR));
	CU_ASSERT_STRING_EQUAL(rt_kfeature__info(RT_KF_PIDFD_GETFD)->since, "5.6");
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("kfeatures", NULL, NULL);
	CU_add_test(suite, "probes on this kernel", test_probes);
	CU_add_test(suite, "below-the-floor message", test_message);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
