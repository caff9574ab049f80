/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/offcpu: pairing switch samples with their
 * intervals in either order, the views' weights, the reason frames. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "rtmerge/offcpu.h"

static uint32_t id_of(struct rt_stacks *s, const char *name)
{
	int64_t id = rt_stacks__intern(s, name, strlen(name));

	CU_ASSERT_FATAL(id >= 0);
	return (uint32_t)id;
}

static char *folded(struct rt_stacks *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_EQUAL(rt_stacks__write_folded(s, f, 1), 0);
	fclose(f);
	return text;
}

static struct rt_rec_offcpu interval(uint32_t tid, uint64_t start, uint64_t end, uint32_t flags,
				     uint32_t syscall)
{
	struct rt_rec_offcpu r = {
		.hdr = { RT_REC_MAGIC, RT_REC_VERSION, RT_REC_OFFCPU, sizeof(r) },
		.pid = 100, .tid = tid, .start = start, .end = end, .flags = flags,
		.syscall = syscall, .state = 1,
	};

	return r;
}

static struct rt_perf_sample sample(uint32_t tid, uint64_t time, uint64_t period)
{
	struct rt_perf_sample s = { .pid = 100, .tid = tid, .time = time, .period = period };

	return s;
}

static void test_reason(void)
{
	char buf[64];

	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(RT_REC_OFFCPU_SYSCALL, 0, 1, buf, sizeof(buf)),
			       "[syscall] read");
	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(RT_REC_OFFCPU_SYSCALL, 202, 1, buf, sizeof(buf)),
			       "[syscall] futex");
	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(RT_REC_OFFCPU_SYSCALL | RT_REC_OFFCPU_GIL_WAIT, 202,
						 1, buf, sizeof(buf)), "[gil wait]");
	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(RT_REC_OFFCPU_SYSCALL | RT_REC_OFFCPU_GVL_WAIT, 202,
						 1, buf, sizeof(buf)), "[gvl wait]");
	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(RT_REC_OFFCPU_PREEMPTED, 0, 0x100, buf, sizeof(buf)),
			       "[preempted]");
	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(RT_REC_OFFCPU_SYSCALL, 100000, 1, buf, sizeof(buf)),
			       "[syscall] 100000");
	CU_ASSERT_STRING_EQUAL(rt_offcpu__reason(0, 0, 1, buf, sizeof(buf)), "[sleep]");
}

/* The wall view: on-CPU samples by period, intervals by length whichever
 * comes first, microseconds at the end. */
static void test_wall(void)
{
	struct rt_offcpu *o = rt_offcpu__new(RT_MERGE_VIEW_WALL);
	struct rt_stacks *s = rt_stacks__new();
	uint32_t f1[] = { id_of(s, "py"), id_of(s, "main"), id_of(s, "work") };
	uint32_t f2[] = { id_of(s, "py"), id_of(s, "main"), id_of(s, "wait") };
	struct rt_perf_sample on = sample(7, 1000, 10000000), sw = sample(7, 2000010, 1);
	struct rt_rec_offcpu iv = interval(7, 2000000, 5000000, RT_REC_OFFCPU_SYSCALL, 0);
	struct rt_rec_offcpu iv2 = interval(7, 9000000, 9500000, RT_REC_OFFCPU_SYSCALL, 35);
	char *text;

	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &on, false, 0, f1, 3), 1);
	/* switch sample first, then its interval */
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &sw, true, RT_MERGE_STACK_OFFCPU, f2, 3), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv, sizeof(iv)), 1);
	/* the interval first (its sample was held back), then the sample */
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv2, sizeof(iv2)), 1);
	sw.time = 9000100;
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &sw, true, RT_MERGE_STACK_OFFCPU, f2, 3), 1);
	/* a switch sample whose interval never ends */
	sw.time = 20000000;
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &sw, true, RT_MERGE_STACK_OFFCPU, f2, 3), 1);
	/* not an interval record */
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, "xxxxxxxxxxxxxxxxxxxx", 20), 0);
	CU_ASSERT_EQUAL(rt_offcpu__finish(o, &s), 0);
	text = folded(s);
	CU_ASSERT_STRING_EQUAL(text, "py;main;wait;[syscall] nanosleep 500\n"
				     "py;main;wait;[syscall] read 3000\n"
				     "py;main;work 10000\n");
	free(text);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->paired, 2);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->no_interval, 1);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->no_stack, 0);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->offcpu_ns, 3500000);
	rt_stacks__free(s);
	rt_offcpu__free(o);
}

/* An interval whose start is far from the thread's switch sample is not
 * given that sample's stack. */
static void test_mismatch(void)
{
	struct rt_offcpu *o = rt_offcpu__new(RT_MERGE_VIEW_OFFCPU);
	struct rt_stacks *s = rt_stacks__new();
	uint32_t f[] = { id_of(s, "py"), id_of(s, "wait") };
	struct rt_perf_sample on = sample(7, 1000, 10000000), sw = sample(7, 50000000, 1);
	struct rt_rec_offcpu iv = interval(7, 2000000, 5000000, RT_REC_OFFCPU_PREEMPTED, 0);
	char *text;

	/* the off-CPU view leaves on-CPU samples out */
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &on, false, 0, f, 2), 0);
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &sw, true, 0, f, 2), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv, sizeof(iv)), 1);
	/* malformed: shorter than the record, or ending before it starts */
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv, sizeof(iv) - 8), 1);
	iv.end = 1;
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv, sizeof(iv)), 1);
	CU_ASSERT_EQUAL(rt_offcpu__finish(o, &s), 0);
	text = folded(s);
	CU_ASSERT_STRING_EQUAL(text, "");
	free(text);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->paired, 0);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->no_stack, 1);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->no_interval, 1);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->bad_records, 2);
	rt_stacks__free(s);
	rt_offcpu__free(o);
}

static struct rt_rec_offcpu_sum sum_rec(uint32_t tid, uint32_t slot, uint64_t walked,
				      uint32_t count, uint64_t total, uint32_t syscall)
{
	struct rt_rec_offcpu_sum r = {
		.hdr = { RT_REC_MAGIC, RT_REC_VERSION, RT_REC_OFFCPU_SUM, sizeof(r) },
		.pid = 100, .tid = tid, .walked = walked, .first = walked + 5000000,
		.last = walked + 9000000, .total = total, .count = count, .slot = slot,
		.syscall = syscall, .state = 1, .flags = RT_REC_OFFCPU_SYSCALL,
	};

	return r;
}

/* Sums go to the stack of the thread's last switch sample through their
 * chain slot, with their count and time; a sum whose slot's stack is not
 * the one it was summed on (lost, or another walk's) is counted apart. */
static void test_sums(void)
{
	struct rt_offcpu *o = rt_offcpu__new(RT_MERGE_VIEW_OFFCPU);
	struct rt_stacks *s = rt_stacks__new();
	uint32_t fa[] = { id_of(s, "py"), id_of(s, "a") }, fb[] = { id_of(s, "py"), id_of(s, "b") };
	unsigned int keep1 = RT_MERGE_STACK_OFFCPU | RT_MERGE_STACK_CHAIN_KEEP |
			     1u << RT_MERGE_STACK_CHAIN_SHIFT;
	unsigned int same2 = RT_MERGE_STACK_OFFCPU | RT_MERGE_STACK_SAME_CHAIN |
			     2u << RT_MERGE_STACK_CHAIN_SHIFT;
	struct rt_perf_sample sw = sample(7, 1000100, 1);
	struct rt_rec_offcpu iv = interval(7, 1000000, 2000000, RT_REC_OFFCPU_SYSCALL, 0);
	struct rt_rec_offcpu_sum sa = sum_rec(7, 1, 1000000, 40, 8000000, 0);
	struct rt_rec_offcpu_sum sb = sum_rec(7, 2, 3000000, 10, 1000000, 0);
	char *text;

	/* slot 1: a, walked at 1 ms; slot 2: b, walked at 3 ms */
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &sw, true, keep1, fa, 2), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv, sizeof(iv)), 1);
	sw.time = 3000200;
	iv = interval(7, 3000000, 3500000, RT_REC_OFFCPU_SYSCALL, 0);
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &sw, true, same2, fb, 2), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &iv, sizeof(iv)), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sa, sizeof(sa)), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sb, sizeof(sb)), 1);
	/* summed on a walk rtmerge never saw, on a slot with no stack (both
	 * without their stack), of a thread the filters left out (no switch
	 * sample: not counted as such); a bad slot, a short record */
	sb.walked = 500000;
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sb, sizeof(sb)), 1);
	sb = sum_rec(7, 3, 3000000, 10, 1000000, 0);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sb, sizeof(sb)), 1);
	sb = sum_rec(8, 2, 3000000, 10, 1000000, 0);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sb, sizeof(sb)), 1);
	sb.slot = RT_REC_STACK_CHAIN_SLOTS;
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sb, sizeof(sb)), 1);
	CU_ASSERT_EQUAL(rt_offcpu__feed(o, s, &sa, sizeof(sa) - 8), 1);
	CU_ASSERT_EQUAL(rt_offcpu__finish(o, &s), 0);
	text = folded(s);
	CU_ASSERT_STRING_EQUAL(text, "py;a;[syscall] read 9000\n"
				     "py;b;[syscall] read 1500\n");
	free(text);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->sums, 5);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->summed, 80);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->summed_no_stack, 20);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->bad_records, 2);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->offcpu_ns, 10500000);
	rt_stacks__free(s);
	rt_offcpu__free(o);
}

/* The GIL view keeps samples whose stack says the thread held the GIL. */
static void test_gil(void)
{
	struct rt_offcpu *o = rt_offcpu__new(RT_MERGE_VIEW_GIL);
	struct rt_stacks *s = rt_stacks__new();
	uint32_t f[] = { id_of(s, "py"), id_of(s, "spin") };
	struct rt_perf_sample on = sample(7, 1000, 10000000);
	unsigned char raw[sizeof(struct rt_rec_stack)] = { 0 };
	struct rt_rec_stack *rec = (struct rt_rec_stack *)raw;
	char *text;

	rec->hdr = (struct rt_rec_header){ RT_REC_MAGIC, RT_REC_VERSION, RT_REC_STACK, sizeof(*rec) };
	rec->flags = RT_REC_STACK_GIL_HELD;
	CU_ASSERT_EQUAL(rt_offcpu__stack_flags(raw, sizeof(raw)), RT_MERGE_STACK_GIL_HELD);
	CU_ASSERT_EQUAL(rt_offcpu__stack_flags(raw, sizeof(raw) - 1), 0);
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &on, false, RT_MERGE_STACK_GIL_HELD, f, 2), 1);
	CU_ASSERT_EQUAL(rt_offcpu__add(o, s, &on, false, 0, f, 2), 0);
	CU_ASSERT_EQUAL(rt_offcpu__finish(o, &s), 0);
	text = folded(s);
	CU_ASSERT_STRING_EQUAL(text, "py;spin 10000000\n");
	free(text);
	CU_ASSERT_EQUAL(rt_offcpu__stats(o)->gil_skipped, 1);
	rt_stacks__free(s);
	rt_offcpu__free(o);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("offcpu", NULL, NULL);
	CU_add_test(suite, "reason frames", test_reason);
	CU_add_test(suite, "wall view pairing", test_wall);
	CU_add_test(suite, "intervals without their stack", test_mismatch);
	CU_add_test(suite, "GIL view", test_gil);
	CU_add_test(suite, "summed intervals", test_sums);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
