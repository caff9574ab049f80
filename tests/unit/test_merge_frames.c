/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CUnit suite for rtmerge/merge_frames.c: interpreter frames are named
 * through a cache keyed by the decoder's interned strings and the line; it
 * must give the names the uncached path gives, and count control
 * characters once per frame named, as before.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "rtmerge/merge_internal.h"
#include "rtmerge/stacks.h"
#include "rtmerge/tasks.h"

static const char *name_of(struct rt_merge *m, const struct rt_interp_frame *f)
{
	uint32_t id;

	if (rt_merge__interp_frame(m, 42, f, &id))
		return NULL;
	return rt_stacks__name(m->stacks, id);
}

static void test_interp_frame_cache(void)
{
	struct rt_merge_opts opts = { .sz = sizeof(opts) };
	struct rt_merge *m = rt_merge__new(&opts);
	static const char fn[] = "recurse", file[] = "/srv/app/deep.py";
	char fn_copy[] = "recurse", bad[] = "bad\tname";
	struct rt_interp_frame f = { .function = fn, .file = file, .line = 21 };
	struct rt_interp_frame g = f, h = { .function = bad, .file = file, .line = 3 };
	uint32_t a, b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(name_of(m, &f), "recurse (app/deep.py:21)");
	for (int i = 0; i < 1000; i++) { /* cached: the same id */
		CU_ASSERT_EQUAL_FATAL(rt_merge__interp_frame(m, 42, &f, &a), 0);
		CU_ASSERT_EQUAL_FATAL(rt_merge__interp_frame(m, 42, &g, &b), 0);
		CU_ASSERT_EQUAL_FATAL(a, b);
	}
	g.line = 22; /* another line is another frame */
	CU_ASSERT_STRING_EQUAL(name_of(m, &g), "recurse (app/deep.py:22)");
	g.line = 21; /* the same text through other pointers: the same frame */
	g.function = fn_copy;
	CU_ASSERT_EQUAL(rt_merge__interp_frame(m, 42, &g, &b), 0);
	CU_ASSERT_EQUAL(a, b);
	g.line = 0; /* no line */
	CU_ASSERT_STRING_EQUAL(name_of(m, &g), "recurse (app/deep.py)");
	g.file = NULL;
	CU_ASSERT_STRING_EQUAL(name_of(m, &g), "recurse");
	g.function = NULL;
	CU_ASSERT_STRING_EQUAL(name_of(m, &g), "[unknown]");
	/* control characters: replaced and counted at every frame named */
	for (int i = 0; i < 5; i++)
		CU_ASSERT_STRING_EQUAL(name_of(m, &h), "bad?name (app/deep.py:3)");
	CU_ASSERT_EQUAL(m->stats.names_sanitized, 5);
	rt_merge__free(m);

	/* a frame whose line waits for its table's pieces: one placeholder,
	 * named at the end with what the decoder knows then (here nothing) */
	m = rt_merge__new(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	g = f;
	g.line = 0;
	g.flags = RT_INTERP_FRAME_NO_LINE | RT_INTERP_FRAME_LINE_PENDING;
	g.key = (struct rt_interp_frame_key){ 0x1000, 41, 0, RT_REC_RUNTIME_CPYTHON };
	CU_ASSERT_EQUAL(rt_merge__interp_frame(m, 42, &g, &a), 0);
	CU_ASSERT_EQUAL(rt_merge__interp_frame(m, 42, &g, &b), 0);
	CU_ASSERT_EQUAL(a, b);
	CU_ASSERT_EQUAL_FATAL(m->nr_pending_lines, 1);
	CU_ASSERT_EQUAL(m->pending_lines[0].id, a);
	g.key.lasti = 43; /* another instruction: another placeholder */
	CU_ASSERT_EQUAL(rt_merge__interp_frame(m, 42, &g, &b), 0);
	CU_ASSERT_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(m->nr_pending_lines, 2);
	CU_ASSERT_EQUAL(rt_merge__pending_line_name(m, 0, true, &b), 0);
	CU_ASSERT_STRING_EQUAL(rt_stacks__name(m->stacks, b), "recurse (app/deep.py)");
	CU_ASSERT_EQUAL(m->stats.late_lines, 0);
	rt_merge__free(m);

	/* --no-lines: the line is left out, cached or not */
	opts.no_lines = true;
	m = rt_merge__new(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(name_of(m, &f), "recurse (app/deep.py)");
	CU_ASSERT_STRING_EQUAL(name_of(m, &f), "recurse (app/deep.py)");
	rt_merge__free(m);
}

/* A sample of a step's thread belongs to the step while its stack pointer is
 * at or below the slot of the step function's return address, and not
 * after the function returned (a sample in the kernel's handling of the
 * uretprobe, before the step's end record). */
static void test_task_after_return(void)
{
	struct rt_merge_opts opts = { .sz = sizeof(opts) };
	struct rt_merge *m = rt_merge__new(&opts);
	struct rt_rec_task b = {
		.hdr = { RT_REC_MAGIC, RT_REC_VERSION, RT_REC_TASK, sizeof(b) },
		.pid = 10, .tid = 11, .task = 0x1000, .event = RT_REC_TASK_BEGIN,
		.kind = RT_REC_TASK_TOKIO, .ret_sp = 0x7ff000, .ret_addr = 0x401234,
	};
	/* bp, sp, ip: bits 6, 7 and 8 of perf's x86 registers */
	uint64_t regs[3] = { 0, 0x7fef00, 0x402000 };
	struct rt_perf_sample s = { .pid = 10, .tid = 11, .user_regs_abi = 2,
				    .user_regs_mask = 7ull << 6, .user_regs = regs };
	struct rt_merge_task task;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(rt_task_tracker__feed(m->tasks, &b, sizeof(b)), 1);
	/* inside the step */
	CU_ASSERT_EQUAL(rt_merge__task_now(m, &s, &task), 0);
	CU_ASSERT_EQUAL(task.kind, RT_REC_TASK_TOKIO);
	CU_ASSERT_EQUAL(task.ret_sp, 0x7ff000);
	CU_ASSERT_EQUAL(task.ret_addr, 0x401234);
	/* at the step function's entry: the return address on top */
	regs[1] = 0x7ff000;
	CU_ASSERT_EQUAL(rt_merge__task_now(m, &s, &task), 0);
	CU_ASSERT_EQUAL(task.kind, RT_REC_TASK_TOKIO);
	/* returned: the return address popped */
	regs[1] = 0x7ff008;
	regs[2] = 0x401234;
	CU_ASSERT_EQUAL(rt_merge__task_now(m, &s, &task), 0);
	CU_ASSERT_EQUAL(task.kind, 0);
	CU_ASSERT_EQUAL(task.ret_sp, 0);
	CU_ASSERT_EQUAL(m->stats.task_after_return, 1);
	/* without user registers (frame pointers) the records alone decide */
	s.user_regs = NULL;
	s.user_regs_mask = 0;
	CU_ASSERT_EQUAL(rt_merge__task_now(m, &s, &task), 0);
	CU_ASSERT_EQUAL(task.kind, RT_REC_TASK_TOKIO);
	/* another thread is in no step */
	s.tid = 12;
	CU_ASSERT_EQUAL(rt_merge__task_now(m, &s, &task), 0);
	CU_ASSERT_EQUAL(task.kind, 0);
	rt_merge__free(m);
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("merge_frames", NULL, NULL);
	CU_add_test(s, "interpreter frames named through the cache", test_interp_frame_cache);
	CU_add_test(s, "a step's task ends where its function returned", test_task_after_return);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned int failed = CU_get_number_of_failures();

	CU_cleanup_registry();
	return failed ? 1 : 0;
}
