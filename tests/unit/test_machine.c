/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for perfglue/machine: address spaces across mmap, fork, exec. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "perfglue/machine.h"

static void mmap_of(struct rt_machine *m, uint32_t pid, uint64_t start, uint64_t len,
		    uint64_t pgoff, const char *path)
{
	struct rt_perf_mmap ev;

	memset(&ev, 0, sizeof(ev));
	ev.pid = ev.tid = pid;
	ev.start = start;
	ev.len = len;
	ev.pgoff = pgoff;
	ev.filename = path;
	ev.prot = 5;
	ev.cpumode = RT_CPUMODE_USER;
	CU_ASSERT_EQUAL(rt_machine__mmap(m, &ev), 0);
}

static const char *path_at(struct rt_machine *m, uint32_t pid, uint64_t addr)
{
	const struct rt_map *map = rt_machine__find_map(m, pid, addr);

	return map ? map->path : "(none)";
}

static void test_overlap(void)
{
	struct rt_machine *m = rt_machine__new();
	const struct rt_map *map;

	mmap_of(m, 1, 0x1000, 0x9000, 0, "/a");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0x1000), "/a");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0x9fff), "/a");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0xa000), "(none)");
	/* A new map in the middle splits the old one. */
	mmap_of(m, 1, 0x3000, 0x2000, 0, "/b");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0x2fff), "/a");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0x3000), "/b");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0x4fff), "/b");
	CU_ASSERT_STRING_EQUAL(path_at(m, 1, 0x5000), "/a");
	map = rt_machine__find_map(m, 1, 0x6000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	/* The tail keeps its file offset. */
	CU_ASSERT_EQUAL(map->start, 0x5000);
	CU_ASSERT_EQUAL(map->pgoff, 0x4000);
	/* Another process is separate. */
	CU_ASSERT_STRING_EQUAL(path_at(m, 2, 0x3000), "(none)");
	rt_machine__free(m);
}

static void test_fork_exec(void)
{
	struct rt_machine *m = rt_machine__new();
	uint64_t gen;

	rt_machine__comm(m, 10, 10, "parent", false);
	mmap_of(m, 10, 0x400000, 0x1000, 0, "/bin/parent");
	CU_ASSERT_EQUAL(rt_machine__fork(m, 11, 10, 11, 10), 0);
	CU_ASSERT_STRING_EQUAL(path_at(m, 11, 0x400000), "/bin/parent");
	CU_ASSERT_STRING_EQUAL(rt_machine__thread_comm(m, 11), "parent");
	/* A thread (pid == ppid) shares the address space. */
	CU_ASSERT_EQUAL(rt_machine__fork(m, 10, 10, 12, 10), 0);
	CU_ASSERT_STRING_EQUAL(rt_machine__thread_comm(m, 12), "parent");
	gen = rt_machine__maps_generation(m, 11);
	/* exec drops the child's maps, not the parent's. */
	rt_machine__comm(m, 11, 11, "child", true);
	CU_ASSERT_NOT_EQUAL(rt_machine__maps_generation(m, 11), gen);
	/* Until the new image maps something there, an address of the old image
	 * (a sample inside execve) still finds the old map... */
	CU_ASSERT_STRING_EQUAL(path_at(m, 11, 0x400000), "/bin/parent");
	CU_ASSERT_STRING_EQUAL(path_at(m, 10, 0x400000), "/bin/parent");
	/* ...and the new image's maps take precedence. */
	mmap_of(m, 11, 0x400000, 0x1000, 0, "/bin/child");
	CU_ASSERT_STRING_EQUAL(path_at(m, 11, 0x400000), "/bin/child");
	CU_ASSERT_STRING_EQUAL(rt_machine__thread_comm(m, 11), "child");
	/* Interned names are shared. */
	CU_ASSERT_PTR_EQUAL(rt_machine__intern(m, "child"), rt_machine__thread_comm(m, 11));
	rt_machine__free(m);
}

/* Children share their parent's maps until one side maps something: then
 * only that side changes, and many forks hold one copy. */
static void test_fork_shares(void)
{
	struct rt_machine *m = rt_machine__new();
	uint32_t pid;

	rt_machine__comm(m, 10, 10, "parent", false);
	for (uint64_t i = 0; i < 100; i++)
		mmap_of(m, 10, 0x400000 + 0x2000 * i, 0x1000, 0, "/bin/parent");
	for (pid = 100; pid < 1100; pid++)
		CU_ASSERT_EQUAL(rt_machine__fork(m, pid, 10, pid, 10), 0);
	CU_ASSERT_EQUAL(rt_machine__stats(m)->maps_copied, 0);
	mmap_of(m, 500, 0x400000, 0x1000, 0, "/bin/child");
	CU_ASSERT_STRING_EQUAL(path_at(m, 500, 0x400000), "/bin/child");
	CU_ASSERT_STRING_EQUAL(path_at(m, 501, 0x400000), "/bin/parent");
	CU_ASSERT_STRING_EQUAL(path_at(m, 10, 0x400000), "/bin/parent");
	CU_ASSERT_EQUAL(rt_machine__stats(m)->maps_copied, 100);
	mmap_of(m, 10, 0x402000, 0x1000, 0, "/bin/parent2");
	CU_ASSERT_STRING_EQUAL(path_at(m, 10, 0x402000), "/bin/parent2");
	CU_ASSERT_STRING_EQUAL(path_at(m, 501, 0x402000), "/bin/parent");
	CU_ASSERT_STRING_EQUAL(path_at(m, 500, 0x402000), "/bin/parent");
	/* A fork of an unknown parent starts empty, even over an old pid. */
	CU_ASSERT_EQUAL(rt_machine__fork(m, 500, 9999, 500, 9999), 0);
	CU_ASSERT_PTR_NULL(rt_machine__find_map(m, 500, 0x400000));
	CU_ASSERT_EQUAL(rt_machine__stats(m)->maps_dropped, 0);
	rt_machine__free(m);
}

/* Random overlapping maps in random order against a plain model: an
 * address belongs to the newest map covering it, and pgoff follows. */
static void test_random_against_model(void)
{
	enum { N = 3000, SPACE = 1 << 20 };
	static uint16_t owner[SPACE];   /* 1 + index of the newest map per page */
	static uint64_t first_page[N], pgoff[N];
	struct rt_machine *m = rt_machine__new();
	char names[N][16];
	uint64_t x = 88172645463325252ULL;
	int bad = 0;

	memset(owner, 0, sizeof(owner));
	for (int i = 0; i < N; i++) {
		uint64_t page, len;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		page = x % (SPACE - 64);
		len = 1 + (x >> 32) % (i % 10 ? 8 : 64);
		snprintf(names[i], sizeof(names[i]), "/m%d", i);
		first_page[i] = page;
		pgoff[i] = (x >> 40) % 1000 * 4096;
		mmap_of(m, 7, 0x10000000 + page * 4096, len * 4096, pgoff[i], names[i]);
		for (uint64_t k = page; k < page + len; k++)
			owner[k] = (uint16_t)(i + 1);
	}
	for (uint64_t k = 0; k < SPACE && bad < 5; k++) {
		uint64_t addr = 0x10000000 + k * 4096 + 123;
		const struct rt_map *map = rt_machine__find_map(m, 7, addr);
		int i = owner[k] - 1;

		if (i < 0 ? map != NULL :
		    !map || strcmp(map->path, names[i]) || addr < map->start || addr >= map->end ||
		    map->pgoff + (addr - map->start) !=
			    pgoff[i] + (addr - 0x10000000 - first_page[i] * 4096)) {
			bad++;
			CU_FAIL("lookup differs from the model");
		}
	}
	rt_machine__free(m);
}

static void test_many(void)
{
	struct rt_machine *m = rt_machine__new();
	char path[32];
	int i, ok = 1;

	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/lib/%d.so", i);
		mmap_of(m, 7, 0x10000000ULL + (uint64_t)i * 0x10000, 0x8000, 0, path);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/lib/%d.so", i);
		ok &= !strcmp(path_at(m, 7, 0x10000000ULL + (uint64_t)i * 0x10000 + 0x7fff), path);
		ok &= !strcmp(path_at(m, 7, 0x10000000ULL + (uint64_t)i * 0x10000 + 0x8000), "(none)");
	}
	CU_ASSERT_TRUE(ok);
	rt_machine__free(m);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("machine", NULL, NULL);
	CU_add_test(suite, "overlapping maps", test_overlap);
	CU_add_test(suite, "fork and exec", test_fork_exec);
	CU_add_test(suite, "forks share maps until written", test_fork_shares);
	CU_add_test(suite, "random maps against a model", test_random_against_model);
	CU_add_test(suite, "many maps", test_many);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
