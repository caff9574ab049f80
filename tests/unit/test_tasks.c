/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/tasks: task records into each thread's task. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "rtmerge/tasks.h"

static struct rt_rec_task step(uint32_t pid, uint32_t tid, uint64_t task, uint32_t event,
			       uint32_t kind)
{
	struct rt_rec_task r = {
		.hdr = { RT_REC_MAGIC, RT_REC_VERSION, RT_REC_TASK, sizeof(r) },
		.pid = pid, .tid = tid, .task = task, .event = event, .kind = kind,
	};

	return r;
}

static struct rt_rec_task_name name(uint32_t pid, uint64_t task, uint32_t kind, uint64_t number,
				    const char *label, const char *coro)
{
	struct rt_rec_task_name r = {
		.hdr = { RT_REC_MAGIC, RT_REC_VERSION, RT_REC_TASK_NAME, sizeof(r) },
		.pid = pid, .kind = kind, .task = task, .number = number,
	};

	/* NUL-padded fields, filled to the end by a long name */
	memcpy(r.label, label, strnlen(label, sizeof(r.label)));
	memcpy(r.coro, coro, strnlen(coro, sizeof(r.coro)));
	return r;
}

static void test_steps(void)
{
	struct rt_task_tracker *t = rt_task_tracker__new();
	struct rt_rec_task_name n1 = name(10, 0x1000, RT_REC_TASK_ASYNCIO, 0, "Task-3", "blocker");
	struct rt_rec_task_name n2 = name(10, 0x2000, RT_REC_TASK_ASYNCIO, 7, "", "light");
	struct rt_rec_task b1 = step(10, 11, 0x1000, RT_REC_TASK_BEGIN, RT_REC_TASK_ASYNCIO);
	struct rt_rec_task e1 = step(10, 11, 0x1000, RT_REC_TASK_END, RT_REC_TASK_ASYNCIO);
	struct rt_rec_task b2 = step(10, 12, 0x2000, RT_REC_TASK_BEGIN, RT_REC_TASK_ASYNCIO);
	uint32_t kind = 0;

	CU_ASSERT_PTR_NULL(rt_task_tracker__current(t, 10, 11, &kind));
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &n1, sizeof(n1)), 1);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &n2, sizeof(n2)), 1);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b1, sizeof(b1)), 1);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b2, sizeof(b2)), 1);
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 10, 11, &kind), "Task-3 blocker");
	CU_ASSERT_EQUAL(kind, RT_REC_TASK_ASYNCIO);
	/* 3.12+: the counter makes the name */
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 10, 12, &kind), "Task-7 light");
	/* another process's thread of the same tid is not it */
	CU_ASSERT_PTR_NULL(rt_task_tracker__current(t, 99, 11, &kind));
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &e1, sizeof(e1)), 1);
	CU_ASSERT_PTR_NULL(rt_task_tracker__current(t, 10, 11, &kind));
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 10, 12, &kind), "Task-7 light");
	rt_task_tracker__free(t);
}

static void test_names(void)
{
	struct rt_task_tracker *t = rt_task_tracker__new();
	struct rt_rec_task b = step(20, 21, 0xabc, RT_REC_TASK_BEGIN, RT_REC_TASK_TOKIO);
	struct rt_rec_task_name n = name(20, 0xabc, RT_REC_TASK_TOKIO, 0, "", "my_app::handle_conn");
	struct rt_rec_task_name again = name(20, 0xabc, RT_REC_TASK_TOKIO, 0, "", "my_app::other");
	uint32_t kind = 0;

	/* a step whose name record was lost is named by its address */
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b)), 1);
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 20, 21, &kind), "task 0xabc");
	CU_ASSERT_EQUAL(kind, RT_REC_TASK_TOKIO);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &n, sizeof(n)), 1);
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 20, 21, &kind), "my_app::handle_conn");
	/* a new task at the same address: its name replaces the old one */
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &again, sizeof(again)), 1);
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 20, 21, &kind), "my_app::other");
	/* many threads and tasks: the tables grow */
	for (uint32_t i = 1; i <= 5000; i++) {
		struct rt_rec_task s = step(30, 1000 + i, 0x10000 + i, RT_REC_TASK_BEGIN,
					    RT_REC_TASK_ASYNCIO);
		struct rt_rec_task_name nm = name(30, 0x10000 + i, RT_REC_TASK_ASYNCIO, i, "", "w");

		CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &nm, sizeof(nm)), 1);
		CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &s, sizeof(s)), 1);
	}
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 30, 1000 + 4321, &kind), "Task-4321 w");
	CU_ASSERT_STRING_EQUAL(rt_task_tracker__current(t, 20, 21, &kind), "my_app::other");
	rt_task_tracker__free(t);
}

static void test_malformed(void)
{
	struct rt_task_tracker *t = rt_task_tracker__new();
	struct rt_rec_task b = step(1, 2, 3, RT_REC_TASK_BEGIN, RT_REC_TASK_ASYNCIO);
	struct rt_rec_task_name n = name(1, 3, RT_REC_TASK_ASYNCIO, 0, "x", "y");
	struct rt_rec_header other = { RT_REC_MAGIC, RT_REC_VERSION, RT_REC_STACK, 48 };
	uint32_t kind;

	/* other records are not this module's */
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &other, sizeof(other)), 0);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, 4), 0);
	/* cut short, or claiming more than the payload */
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b) - 8), -EINVAL);
	b.hdr.size = offsetof(struct rt_rec_task, ret_sp) - 8;
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b)), -EINVAL);
	b.hdr.size = sizeof(b);
	b.event = 9;
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b)), -EINVAL);
	b.event = RT_REC_TASK_BEGIN;
	b.hdr.version = 77;
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b)), -EINVAL);
	n.hdr.size = sizeof(n) + 8;
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &n, sizeof(n)), -EINVAL);
	/* unterminated fields and control characters stay inside the name */
	n.hdr.size = sizeof(n);
	memset(n.label, 'a', sizeof(n.label));
	memset(n.coro, '\n', sizeof(n.coro));
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &n, sizeof(n)), 1);
	b.hdr.version = RT_REC_VERSION;
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b)), 1);
	const char *s = rt_task_tracker__current(t, 1, 2, &kind);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(strlen(s), RT_REC_TASK_LABEL_MAX + 1 + RT_REC_TASK_CORO_MAX);
	CU_ASSERT_PTR_NULL(strchr(s, '\n'));
	rt_task_tracker__free(t);
}

/* The step function's return address: given with a step's begin, gone at
 * its end; unknown in the 48-byte records of earlier versions. */
static void test_returns(void)
{
	struct rt_task_tracker *t = rt_task_tracker__new();
	struct rt_rec_task b = step(5, 6, 0x7000, RT_REC_TASK_BEGIN, RT_REC_TASK_TOKIO);
	struct rt_rec_task e = step(5, 6, 0x7000, RT_REC_TASK_END, RT_REC_TASK_TOKIO);
	uint64_t sp = 0, addr = 0;

	b.ret_sp = 0x7ffd1000;
	b.ret_addr = 0x55550123;
	CU_ASSERT_EQUAL(rt_task_tracker__return(t, 5, 6, &sp, &addr), -ENOENT);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, sizeof(b)), 1);
	CU_ASSERT_EQUAL(rt_task_tracker__return(t, 5, 6, &sp, &addr), 0);
	CU_ASSERT_EQUAL(sp, 0x7ffd1000);
	CU_ASSERT_EQUAL(addr, 0x55550123);
	CU_ASSERT_EQUAL(rt_task_tracker__return(t, 9, 6, &sp, &addr), -ENOENT);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &e, sizeof(e)), 1);
	CU_ASSERT_EQUAL(rt_task_tracker__return(t, 5, 6, &sp, &addr), -ENOENT);
	/* an earlier version's record ends before the return address */
	b.hdr.size = offsetof(struct rt_rec_task, ret_sp);
	CU_ASSERT_EQUAL(rt_task_tracker__feed(t, &b, b.hdr.size), 1);
	CU_ASSERT_PTR_NOT_NULL(rt_task_tracker__current(t, 5, 6, &(uint32_t){ 0 }));
	CU_ASSERT_EQUAL(rt_task_tracker__return(t, 5, 6, &sp, &addr), -ENOENT);
	rt_task_tracker__free(t);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("tasks", NULL, NULL);
	CU_add_test(suite, "steps by thread", test_steps);
	CU_add_test(suite, "names", test_names);
	CU_add_test(suite, "malformed records", test_malformed);
	CU_add_test(suite, "step return addresses", test_returns);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
