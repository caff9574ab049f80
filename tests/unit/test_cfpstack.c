/* SPDX-License-Identifier: GPL-2.0-only */
/* The shadow control frame stack of rt-bpf trace's CRuby fallback
 * (runtimes/ruby/cfpstack.c): depths in, calls and returns out. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "runtimes/ruby/cfpstack.h"

#define UNKNOWN 0xffffffffu

static char log_buf[512];

static void on_call(void *ctx, uint32_t tid, const struct rt_rbstack_frame *f)
{
	(void)ctx;
	(void)tid;
	snprintf(log_buf + strlen(log_buf), sizeof(log_buf) - strlen(log_buf), "c%d ",
		 (int)f->function_id);
}

static void on_ret(void *ctx, uint32_t tid, const struct rt_rbstack_frame *f)
{
	(void)ctx;
	(void)tid;
	snprintf(log_buf + strlen(log_buf), sizeof(log_buf) - strlen(log_buf), "r%d ",
		 (int)f->function_id);
}

static const struct rt_rbstack_ops ops = { .call = on_call, .ret = on_ret };

static void push(struct rt_rbstack *s, uint32_t prev, uint32_t depth, int64_t id)
{
	struct rt_rbstack_frame f = { .function_id = id, .path_id = 0, .line = 1 };

	CU_ASSERT_EQUAL(rt_rbstack__move(s, prev, depth, &f, &ops), 0);
}

/* The first write sets the depth; pushes of methods call, of other frames
 * not; a pop of several frames returns each called one, top first; the
 * frames from before tracing are counted when they return. */
static void test_calls_and_returns(void)
{
	struct rt_rbstack s = { .tid = 7 };

	log_buf[0] = 0;
	push(&s, UNKNOWN, 3, 99);                 /* baseline: 3 unknown frames */
	push(&s, 3, 4, 1);                        /* a method */
	push(&s, 4, 5, RT_RBSTACK_NOT_CALL);      /* a block */
	push(&s, 5, 6, 2);                        /* a C method */
	push(&s, 6, 5, 0);                        /* its return */
	push(&s, 5, 6, 3);
	push(&s, 6, 7, 4);
	push(&s, 7, 4, 0);                        /* an exception: 3 frames at once */
	push(&s, 4, 2, 0);                        /* the method and an unknown frame */
	CU_ASSERT_STRING_EQUAL(log_buf, "c1 c2 r2 c3 c4 r4 r3 r1 ");
	CU_ASSERT_EQUAL(s.depth, 2);
	CU_ASSERT_EQUAL(s.unmatched, 1);
	CU_ASSERT_EQUAL(s.resyncs, 0);
	CU_ASSERT_EQUAL(rt_rbstack__at(&s, 2)->function_id, RT_RBSTACK_UNKNOWN);
	CU_ASSERT_PTR_NULL(rt_rbstack__at(&s, 3));
	rt_rbstack__release(&s);
}

/* A record whose previous depth is not the stack's (records lost between):
 * the frames above it return, or unknown ones fill the gap; a push of
 * several frames at once calls its top frame only. */
static void test_resync(void)
{
	struct rt_rbstack s = { .tid = 7 };

	log_buf[0] = 0;
	push(&s, UNKNOWN, 1, 0);
	push(&s, 1, 2, 1);
	push(&s, 2, 3, 2);
	push(&s, 1, 2, 5);       /* lost: 3 -> 1 */
	push(&s, 4, 5, 6);       /* lost: 2 -> 4 */
	push(&s, 5, 8, 7);       /* three frames in one write */
	push(&s, 8, 1, 0);
	CU_ASSERT_STRING_EQUAL(log_buf, "c1 c2 r2 r1 c5 c6 c7 r7 r6 r5 ");
	CU_ASSERT_EQUAL(s.resyncs, 2);
	CU_ASSERT_EQUAL(s.unmatched, 2);
	/* the end of the trace returns what is still called */
	push(&s, 1, 2, 8);
	push(&s, 2, 3, RT_RBSTACK_NOT_CALL);
	push(&s, 3, 4, 9);
	log_buf[0] = 0;
	rt_rbstack__finish(&s, &ops);
	CU_ASSERT_STRING_EQUAL(log_buf, "r9 r8 ");
	CU_ASSERT_EQUAL(s.depth, 0);
	CU_ASSERT_EQUAL(s.unmatched, 3);
	rt_rbstack__release(&s);
}

/* Deep stacks grow the shadow. */
static void test_deep(void)
{
	struct rt_rbstack s = { .tid = 1 };

	push(&s, UNKNOWN, 0, 0);
	for (uint32_t d = 0; d < 5000; d++)
		push(&s, d, d + 1, d);
	log_buf[0] = 0;
	push(&s, 5000, 4998, 0);
	CU_ASSERT_STRING_EQUAL(log_buf, "r4999 r4998 ");
	CU_ASSERT_EQUAL(rt_rbstack__at(&s, 4998)->function_id, 4997);
	rt_rbstack__release(&s);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("cfpstack", NULL, NULL);
	CU_add_test(suite, "calls and returns", test_calls_and_returns);
	CU_add_test(suite, "resync after losses", test_resync);
	CU_add_test(suite, "deep stacks", test_deep);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
