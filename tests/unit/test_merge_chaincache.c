/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CUnit suite for rtmerge/merge_chaincache.c: a callchain folded once is
 * counted again only for the same thread name, thread, maps generation,
 * mode and entries, adding what its fold added to every counter.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "rtmerge/merge_internal.h"
#include "rtmerge/stacks.h"

static void test_chain_cache(void)
{
	struct rt_merge_opts opts = { .sz = sizeof(opts) };
	struct rt_merge *m = rt_merge__new(&opts);
	uint64_t chain[] = { PERF_CONTEXT_USER, 0x401000, 0x402000, 0x403000 };
	struct rt_perf_sample s = {
		.sample_type = PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_TID,
		.pid = 7, .tid = 8, .period = 250, .cpumode = RT_CPUMODE_USER,
		.nr_callchain = 4, .callchain = chain,
	};
	uint32_t frames[] = { 0, 1, 2 };
	struct chain_counts before;
	struct rt_stack st;
	int64_t idx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_TRUE(rt_merge__chain_cacheable(m, &s, false));
	CU_ASSERT_FALSE(rt_merge__chain_cacheable(m, &s, true)); /* an off-CPU switch */
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);       /* never folded */

	/* the fold: three frames, one of them without a symbol, one repeat collapsed */
	rt_merge__chain_begin(m, &before);
	m->stats.frames += 3;
	m->stats.unresolved[RT_SYMBOL_NO_SYMBOL] += 1;
	m->stats.unresolved_no_map += 2;
	m->stats.collapsed_frames += 1;
	idx = rt_stacks__add_entry(m->stacks, frames, 3, 1, s.period);
	CU_ASSERT_EQUAL_FATAL(idx, 0);
	m->stats.samples++;
	CU_ASSERT_EQUAL(rt_merge__chain_store(m, &s, 1, &before, (size_t)idx), 0);

	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 1);
	CU_ASSERT_EQUAL(m->stats.samples, 2);
	CU_ASSERT_EQUAL(m->stats.frames, 6);
	CU_ASSERT_EQUAL(m->stats.unresolved[RT_SYMBOL_NO_SYMBOL], 2);
	CU_ASSERT_EQUAL(m->stats.unresolved_no_map, 4);
	CU_ASSERT_EQUAL(m->stats.collapsed_frames, 2);
	rt_stacks__get(m->stacks, 0, &st);
	CU_ASSERT_EQUAL(st.count, 2);
	CU_ASSERT_EQUAL(st.period, 500);

	/* anything else in the key: folded again */
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 2), 0); /* maps changed */
	s.tid = 9;
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);
	s.tid = 8;
	chain[3] = 0x403001;
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);
	chain[3] = 0x403000;
	s.nr_callchain = 3;
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);
	s.nr_callchain = 4;
	s.cpumode = RT_CPUMODE_KERNEL;
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);
	s.cpumode = RT_CPUMODE_USER;
	/* the thread named (a COMM record): its root frame changes */
	CU_ASSERT_EQUAL_FATAL(rt_machine__comm(m->tool.machine, 7, 8, "worker", false), 0);
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);
	CU_ASSERT_EQUAL(m->stats.samples, 2);
	rt_stacks__get(m->stacks, 0, &st);
	CU_ASSERT_EQUAL(st.count, 2);

	/* deep callchains are not kept; forgotten ones miss */
	s.nr_callchain = CHAIN_CACHE_DEPTH + 1;
	CU_ASSERT_FALSE(rt_merge__chain_cacheable(m, &s, false));
	s.nr_callchain = 4;
	rt_merge__chain_begin(m, &before);
	CU_ASSERT_EQUAL(rt_merge__chain_store(m, &s, 1, &before, 0), 0);
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 1);
	rt_merge__chain_forget(m);
	CU_ASSERT_EQUAL(rt_merge__chain_hit(m, &s, 1), 0);
	rt_merge__free(m);

	/* per-sample output names every sample: never from the cache */
	opts.per_sample = stderr;
	m = rt_merge__new(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_FALSE(rt_merge__chain_cacheable(m, &s, false));
	rt_merge__free(m);
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("merge_chaincache", NULL, NULL);
	CU_add_test(s, "callchains counted again from the cache", test_chain_cache);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned int failed = CU_get_number_of_failures();

	CU_cleanup_registry();
	return failed ? 1 : 0;
}
