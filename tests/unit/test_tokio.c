/* SPDX-License-Identifier: GPL-2.0-only */
/* tokio knowledge (runtimes/rust/tokio.c): the future type of a task poll
 * function from its demangled name, in both Rust manglings. */
#include <CUnit/Basic.h>
#include <string.h>

#include "runtimes/rust/tokio.h"

static void test_future_name(void)
{
	char buf[RT_TOKIO_NAME_MAX];

	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::poll::<tokground::light::"
					      "{closure#0}, alloc::sync::Arc<tokio::runtime::"
					      "scheduler::current_thread::Handle>>", buf, sizeof(buf)), 1);
	CU_ASSERT_STRING_EQUAL(buf, "tokground::light");
	/* commas inside the future's own generic arguments stay in its name */
	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::poll::<app::Wrap<u8, "
					      "(u16, u32)>, S>", buf, sizeof(buf)), 1);
	CU_ASSERT_STRING_EQUAL(buf, "app::Wrap<u8, (u16, u32)>");
	/* legacy mangling: no generic arguments to name it by */
	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::poll", buf, sizeof(buf)), 1);
	CU_ASSERT_STRING_EQUAL(buf, "");
	/* spawn_blocking's pool blocks by design: not a task poll to watch */
	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::poll::<tokio::runtime::"
					      "blocking::task::BlockingTask<F>, S>", buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::poll_future", buf,
					      sizeof(buf)), 0);
	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::shutdown::<F, S>", buf,
					      sizeof(buf)), 0);
	/* cut to the buffer */
	CU_ASSERT_EQUAL(rt_tokio__future_name("tokio::runtime::task::raw::poll::<abcdefgh, S>", buf,
					      5), 1);
	CU_ASSERT_STRING_EQUAL(buf, "abcd");
}

int main(void)
{
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("tokio", NULL, NULL);
	CU_add_test(s, "future name", test_future_name);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
