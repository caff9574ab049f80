/* SPDX-License-Identifier: GPL-2.0-only */
/* asyncio knowledge (runtimes/python/asyncio.c): layouts per version, the
 * step entry points found by symbol and through _asyncio's tables in
 * CPython's real modules, and reading task and code names from fake
 * objects in this process's own memory. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/python/asyncio.h"

static void test_layout(void)
{
	struct rt_asyncio_layout l;

	CU_ASSERT_EQUAL(rt_asyncio__layout(3, 10, &l), -ENOTSUP);
	CU_ASSERT_EQUAL(rt_asyncio__layout(3, 14, &l), -ENOTSUP);
	CU_ASSERT_EQUAL(rt_asyncio__layout(2, 7, &l), -ENOTSUP);
	CU_ASSERT_EQUAL(rt_asyncio__layout(3, 11, &l), 0);
	CU_ASSERT_EQUAL(l.bpf.task_name, 144);
	CU_ASSERT_EQUAL(l.bpf.task_state, 88);
	CU_ASSERT_EQUAL(l.bpf.coro_qualname, 40);
	CU_ASSERT_EQUAL(l.bpf.timer_when, 88);
	CU_ASSERT_EQUAL(rt_asyncio__layout(3, 12, &l), 0);
	CU_ASSERT_EQUAL(l.bpf.coro_qualname, 32);
	CU_ASSERT_EQUAL(l.bpf.timer_when, 80);
	CU_ASSERT_EQUAL(rt_asyncio__layout(3, 13, &l), 0);
	CU_ASSERT_EQUAL(l.bpf.task_coro, 120);
	CU_ASSERT_EQUAL(l.bpf.task_name, 128);
	CU_ASSERT_EQUAL(l.bpf.task_state, 96);
	CU_ASSERT_EQUAL(l.bpf.step_wrapper_task, 16);
}

/* Functions of the module file matching @pattern (the first one), by
 * symbol or through tables only.  Returns 0, or -ENOENT without the file. */
static int module_functions(const char *pattern, int tables_only, struct rt_asyncio_functions *f)
{
	glob_t g;
	int fd, err;

	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc)
		return -ENOENT;
	fd = open(g.gl_pathv[0], O_RDONLY | O_CLOEXEC);
	globfree(&g);
	if (fd < 0)
		return -ENOENT;
	err = rt_asyncio__elf_functions(fd, tables_only, f);
	close(fd);
	return err;
}

/* pyenv's modules keep .symtab: the tables must lead to the same
 * functions as the symbols do. */
static void test_tables_match_symbols(void)
{
	static const char *const versions[] = { "3.11.7", "3.12.1", "3.13.0" };
	int checked = 0;

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct rt_asyncio_functions sym, tab, hsym, htab;
		char pattern[256];

		snprintf(pattern, sizeof(pattern),
			 "/root/.pyenv/versions/%s/lib/python3.*/lib-dynload/_asyncio.*.so", versions[i]);
		if (module_functions(pattern, 0, &sym))
			continue;
		CU_ASSERT_EQUAL(module_functions(pattern, 1, &tab), 0);
		CU_ASSERT_EQUAL(sym.by_symbol, 1);
		CU_ASSERT_EQUAL(tab.by_symbol, 0);
		CU_ASSERT_NOT_EQUAL(sym.step_wrapper, 0);
		CU_ASSERT_NOT_EQUAL(sym.task_wakeup, 0);
		CU_ASSERT_EQUAL(tab.step_wrapper, sym.step_wrapper);
		CU_ASSERT_EQUAL(tab.task_wakeup, sym.task_wakeup);
		snprintf(pattern, sizeof(pattern),
			 "/root/.pyenv/versions/%s/lib/python3.*/lib-dynload/_heapq.*.so", versions[i]);
		CU_ASSERT_EQUAL(module_functions(pattern, 0, &hsym), 0);
		CU_ASSERT_EQUAL(module_functions(pattern, 1, &htab), 0);
		CU_ASSERT_NOT_EQUAL(hsym.heappop, 0);
		CU_ASSERT_EQUAL(htab.heappop, hsym.heappop);
		checked++;
	}
	if (!checked)
		fprintf(stderr, "\n  (no pyenv CPython 3.11-3.13: symbols not compared with tables)\n");
}

/* Debian's stripped module: only the tables lead to the functions, which
 * must be distinct code addresses. */
static void test_stripped_module(void)
{
	struct rt_asyncio_functions f;

	if (module_functions("/usr/lib/python3.11/lib-dynload/_asyncio.*.so", 0, &f)) {
		fprintf(stderr, "\n  (no Debian python3.11 _asyncio module)\n");
		return;
	}
	CU_ASSERT_EQUAL(f.by_symbol, 0);
	CU_ASSERT_NOT_EQUAL(f.step_wrapper, 0);
	CU_ASSERT_NOT_EQUAL(f.task_wakeup, 0);
	CU_ASSERT_NOT_EQUAL(f.step_wrapper, f.task_wakeup);
	/* heappop is built into Debian's executable: a fixed-address one,
	 * whose method table holds plain pointers */
	CU_ASSERT_EQUAL(module_functions("/usr/bin/python3.11", 0, &f), 0);
	CU_ASSERT_NOT_EQUAL(f.heappop, 0);
}

/* Fake objects in this process, read back through /proc like a target's. */
struct fake_str {
	uint64_t refcnt, type;
	int64_t length;
	uint64_t hash;
	uint32_t state, pad;
	uint8_t data[64];
};

struct fake_type {
	uint64_t head[3];
	const char *tp_name;
};

static struct fake_type str_type = { .tp_name = "str" };
static struct fake_type int_type = { .tp_name = "int" };
static struct fake_type coro_type = { .tp_name = "coroutine" };

static const struct rt_walker_offsets str_off = {
	.unicode_length = 16, .unicode_state = 32, .unicode_ascii_data = 40,
	.unicode_compact_data = 40, .object_type = 8,
};

static void fake_ascii(struct fake_str *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	s->type = (uintptr_t)&str_type;
	s->length = (int64_t)strlen(text);
	s->state = 1u << 2 | 1u << 5 | 1u << 6; /* kind 1, compact, ascii */
	memcpy(s->data, text, strlen(text));
}

static void test_read_str(void)
{
	struct fake_str s;
	char buf[64];
	const uint16_t ucs2[] = { 'c', 0xe9, 0x20ac }; /* c, e acute, euro sign */

	fake_ascii(&s, "blocker");
	CU_ASSERT_EQUAL(rt_asyncio__read_str(getpid(), &str_off, (uintptr_t)&s, buf, sizeof(buf)), 7);
	CU_ASSERT_STRING_EQUAL(buf, "blocker");
	CU_ASSERT_EQUAL(rt_asyncio__read_str(getpid(), &str_off, (uintptr_t)&s, buf, 4), 3);
	CU_ASSERT_STRING_EQUAL(buf, "blo");
	memset(&s, 0, sizeof(s));
	s.length = 3;
	s.state = 2u << 2 | 1u << 5; /* kind 2, compact, not ascii */
	memcpy(s.data, ucs2, sizeof(ucs2));
	CU_ASSERT_EQUAL(rt_asyncio__read_str(getpid(), &str_off, (uintptr_t)&s, buf, sizeof(buf)), 6);
	CU_ASSERT_STRING_EQUAL(buf, "c\xc3\xa9\xe2\x82\xac");
	s.state = 2u << 2; /* not compact: refused */
	CU_ASSERT_EQUAL(rt_asyncio__read_str(getpid(), &str_off, (uintptr_t)&s, buf, sizeof(buf)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(buf, "");
}

static void test_task_name(void)
{
	struct rt_asyncio_layout l;
	struct fake_str name, qualname;
	uint64_t task[24] = { 0 }, coro[8] = { 0 }, counter[4] = { 0 };
	char buf[128];

	CU_ASSERT_EQUAL_FATAL(rt_asyncio__layout(3, 12, &l), 0);
	fake_ascii(&name, "Task-3");
	fake_ascii(&qualname, "Server.handle");
	coro[1] = (uintptr_t)&coro_type;
	coro[l.bpf.coro_qualname / 8] = (uintptr_t)&qualname;
	task[l.bpf.task_name / 8] = (uintptr_t)&name;
	task[l.bpf.task_coro / 8] = (uintptr_t)coro;
	CU_ASSERT_EQUAL(rt_asyncio__task_name(getpid(), &str_off, &l, (uintptr_t)task, buf,
					      sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "Task-3 Server.handle");
	/* 3.12+: a task named by the counter keeps an int until asked */
	counter[1] = (uintptr_t)&int_type;
	counter[3] = 17;
	task[l.bpf.task_name / 8] = (uintptr_t)counter;
	CU_ASSERT_EQUAL(rt_asyncio__task_name(getpid(), &str_off, &l, (uintptr_t)task, buf,
					      sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "Task-17 Server.handle");
	/* not a coroutine (a generator-based awaitable): the task's name alone */
	coro[1] = (uintptr_t)&int_type;
	CU_ASSERT_EQUAL(rt_asyncio__task_name(getpid(), &str_off, &l, (uintptr_t)task, buf,
					      sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "Task-17");
	/* neither a name nor a coroutine (freed memory): no name, not "Task" */
	task[l.bpf.task_name / 8] = 0;
	CU_ASSERT_EQUAL(rt_asyncio__task_name(getpid(), &str_off, &l, (uintptr_t)task, buf,
					      sizeof(buf)), -ENOENT);
	CU_ASSERT_EQUAL(rt_asyncio__task_name(getpid(), &str_off, &l, 8, buf, sizeof(buf)), -EFAULT);
}

static void test_code_record(void)
{
	struct rt_walker_offsets off = str_off;
	struct fake_str name, qualname, filename;
	struct {
		uint64_t refcnt, type;
		int64_t size;
		uint64_t hash;
		uint8_t data[8];
	} linetable = { .size = 4, .data = { 1, 2, 3, 4 } };
	uint64_t code[16] = { 0 };
	struct rt_rec_code rec;

	off.code_firstlineno = 8 * 1;
	off.code_name = 8 * 2;
	off.code_qualname = 8 * 3;
	off.code_filename = 8 * 4;
	off.code_linetable = 8 * 5;
	off.code_firsttraceable = RT_WALKER_NONE;
	off.bytes_size = 16;
	off.bytes_data = 32;
	fake_ascii(&name, "step");
	fake_ascii(&qualname, "Worker.step");
	fake_ascii(&filename, "/srv/app.py");
	code[1] = 42; /* firstlineno, the low half */
	code[2] = (uintptr_t)&name;
	code[3] = (uintptr_t)&qualname;
	code[4] = (uintptr_t)&filename;
	code[5] = (uintptr_t)&linetable;
	CU_ASSERT_EQUAL_FATAL(rt_asyncio__code_record(getpid(), &off, 3 << 16 | 11 << 8 | 7,
						      (uintptr_t)code, &rec), 0);
	CU_ASSERT_EQUAL(rec.hdr.type, RT_REC_CODE);
	CU_ASSERT_EQUAL(rec.firstlineno, 42);
	CU_ASSERT_EQUAL(rec.tag, rt_rec_code_tag((uintptr_t)code, 42, (uintptr_t)&name, (uintptr_t)&filename));
	CU_ASSERT_EQUAL(rec.qualname.nbytes, 11);
	CU_ASSERT_EQUAL(memcmp(rec.qualname.data, "Worker.step", 11), 0);
	CU_ASSERT_EQUAL(rec.filename.kind, 1);
	CU_ASSERT_EQUAL(rec.linetable_nbytes, 4);
	CU_ASSERT_EQUAL(rec.linetable[3], 4);
	CU_ASSERT_EQUAL(rt_asyncio__code_record(getpid(), &off, 0, 8, &rec), -EFAULT);
}

int main(void)
{
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("asyncio", NULL, NULL);
	CU_add_test(s, "layout", test_layout);
	CU_add_test(s, "tables match symbols", test_tables_match_symbols);
	CU_add_test(s, "stripped module", test_stripped_module);
	CU_add_test(s, "read str", test_read_str);
	CU_add_test(s, "task name", test_task_name);
	CU_add_test(s, "code record", test_code_record);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
