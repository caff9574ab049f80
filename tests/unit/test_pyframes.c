/* SPDX-License-Identifier: GPL-2.0-only */
/* The frame-chain follower (runtimes/python/frames.c): calls and returns recovered
 * from chains as bpf/trace.bpf.c sends them, including the cases a frame
 * address alone cannot tell apart. */
#include <CUnit/Basic.h>
#include <string.h>

#include "runtimes/python/frames.h"

/* What the follower reported, as a string: "+code" per call, "-code" per
 * return (code objects are small numbers here). */
static char log_buf[512];

static void on_call(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e, int newest)
{
	size_t n = strlen(log_buf);

	snprintf(log_buf + n, sizeof(log_buf) - n, "+%llu%s", (unsigned long long)e->code,
		 newest ? "" : "~");
}

static void on_ret(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e)
{
	size_t n = strlen(log_buf);

	snprintf(log_buf + n, sizeof(log_buf) - n, "-%llu", (unsigned long long)e->code);
}

static struct rt_pyframes *fresh(void)
{
	struct rt_pyframes_ops ops = { .call = on_call, .ret = on_ret };

	log_buf[0] = 0;
	return rt_pyframes__new(&ops);
}

/* A chain: frame addresses, code numbers and instructions as triples. */
static int chain(struct rt_pyframes *pf, uint32_t probe, uint32_t n, const uint64_t *v)
{
	struct rt_trace_py_frame f[8] = {};

	for (uint32_t i = 0; i < n; i++) {
		f[i].frame = v[3 * i];
		f[i].code = v[3 * i + 1];
		f[i].instr = v[3 * i + 2];
	}
	return rt_pyframes__event(pf, 1, probe, f, n, 0);
}

static void test_calls_and_returns(void)
{
	struct rt_pyframes *pf = fresh();
	/* <module> (1) at 0x100, calls f (2) at 0x200, f calls g (3) at 0x300 */
	const uint64_t root[] = { 0x100, 1, 10 };
	const uint64_t in_f[] = { 0x200, 2, 20, 0x100, 1, 11 };
	const uint64_t in_f_step[] = { 0x200, 2, 22, 0x100, 1, 11 };
	const uint64_t in_g[] = { 0x300, 3, 30, 0x200, 2, 23, 0x100, 1, 11 };
	const uint64_t back_in_module[] = { 0x100, 1, 12 };

	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_LINE, 1, root), 1);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_LINE, 2, in_f), 2);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_LINE, 2, in_f_step), 2);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_LINE, 3, in_g), 3);
	/* two levels return at once (an exception, or no line in f after g) */
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_LINE, 1, back_in_module), 1);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1+2+3-3-2");
	rt_pyframes__finish(pf);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1+2+3-3-2-1");
	rt_pyframes__free(pf);
}

static void test_same_slot_other_call_site(void)
{
	struct rt_pyframes *pf = fresh();
	/* fib(n-1) + fib(n-2): both at 0x200, called from 0x100's instructions
	 * 40 and 44 of the same line */
	const uint64_t first[] = { 0x200, 2, 50, 0x100, 1, 40 };
	const uint64_t second[] = { 0x200, 2, 50, 0x100, 1, 44 };

	chain(pf, RT_TRACE_PROBE_LINE, 2, first);
	chain(pf, RT_TRACE_PROBE_LINE, 2, second);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1~+2-2+2");
	rt_pyframes__free(pf);
}

static void test_entry_probe_is_a_call(void)
{
	struct rt_pyframes *pf = fresh();
	/* map(g, ...): C calls g into the same slot from the same call site;
	 * function__entry announces each call */
	const uint64_t g[] = { 0x200, 2, 50, 0x100, 1, 40 };

	chain(pf, RT_TRACE_PROBE_PY_ENTRY, 2, g);
	chain(pf, RT_TRACE_PROBE_LINE, 2, g);
	chain(pf, RT_TRACE_PROBE_PY_ENTRY, 2, g);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1~+2-2+2");
	/* function__return returns the current frame */
	chain(pf, RT_TRACE_PROBE_PY_RETURN, 2, g);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1~+2-2+2-2");
	rt_pyframes__free(pf);
}

/* The uprobe fallback: a frame pop (a return, the chain from the popped
 * frame), the eval loop entered from C (the entered frame first, a new
 * call) and its return (the chain of the C caller's frames). */
static void test_fallback_events(void)
{
	struct rt_pyframes *pf = fresh();
	/* <module> (1) at 0x100 called f (2) inline at 0x200, which called g
	 * (3) inline at 0x300; each call is first seen at a return */
	const uint64_t g_pops[] = { 0x300, 3, 30, 0x200, 2, 21, 0x100, 1, 11 };
	const uint64_t f_pops[] = { 0x200, 2, 22, 0x100, 1, 11 };
	/* map() calls h (4) from C; a generator (5) resumed twice by C */
	const uint64_t h_entered[] = { 0x400, 4, 0, 0x100, 1, 12 };
	const uint64_t gen_entered[] = { 0x900, 5, 90, 0x100, 1, 13 };
	const uint64_t in_module[] = { 0x100, 1, 13 };

	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_FRAME_POP, 3, g_pops), 2);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1~+2~+3-3");
	/* g again from the same instruction, at the same address: a new call,
	 * as the first one was popped */
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_FRAME_POP, 3, g_pops), 2);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_FRAME_POP, 2, f_pops), 1);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1~+2~+3-3+3-3-2");
	log_buf[0] = 0;
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_EVAL_ENTER, 2, h_entered), 2);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_EVAL_EXIT, 1, in_module), 1);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_EVAL_ENTER, 2, gen_entered), 2);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_EVAL_EXIT, 1, in_module), 1);
	/* resumed: the same frame, the same caller, a new call */
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_PY_EVAL_ENTER, 2, gen_entered), 2);
	CU_ASSERT_STRING_EQUAL(log_buf, "+4-4+5-5+5");
	/* the outermost eval returns: no Python frame is left */
	CU_ASSERT_EQUAL(rt_pyframes__event(pf, 1, RT_TRACE_PROBE_PY_EVAL_EXIT, NULL, 0,
					   RT_TRACE_CHAIN_ROOT), 0);
	CU_ASSERT_STRING_EQUAL(log_buf, "+4-4+5-5+5-5-1");
	rt_pyframes__free(pf);
}

static void test_unknown_chain_replaces_stack(void)
{
	struct rt_pyframes *pf = fresh();
	const uint64_t a[] = { 0x200, 2, 50, 0x100, 1, 40 };
	/* after lost records: a chain that shares nothing with the shadow */
	const uint64_t b[] = { 0x700, 7, 70, 0x600, 6, 60 };

	chain(pf, RT_TRACE_PROBE_LINE, 2, a);
	CU_ASSERT_EQUAL(chain(pf, RT_TRACE_PROBE_LINE, 2, b), 2);
	CU_ASSERT_STRING_EQUAL(log_buf, "+1~+2-2-1+6~+7");
	rt_pyframes__free(pf);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("pyframes", NULL, NULL);
	CU_add_test(suite, "calls and multi-level returns", test_calls_and_returns);
	CU_add_test(suite, "same slot, other call site", test_same_slot_other_call_site);
	CU_add_test(suite, "function__entry and __return", test_entry_probe_is_a_call);
	CU_add_test(suite, "unknown chain", test_unknown_chain_replaces_stack);
	CU_add_test(suite, "uprobe fallback events", test_fallback_events);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
