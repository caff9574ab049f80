/* SPDX-License-Identifier: GPL-2.0-only */
/* The build-id cache filler (rtbpf/dsocache.c), on this test's own process:
 * its executable must land in perf's layout under its build id, as a copy
 * with that build id, once; and the watcher, on a child in a mount
 * namespace of its own that maps a library after it was found. */
#include <CUnit/Basic.h>
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtbpf/dsocache.h"
#include "symbolize/symbolize.h"

static void test_own_process(void)
{
	char dir[] = "/tmp/rt-test-dsocache.XXXXXX", link[PATH_MAX], exe[PATH_MAX], hexid[41],
	     cmd[PATH_MAX + 16];
	uint8_t id[20], copy_id[20];
	ssize_t n;
	int len, copied;
	struct stat st;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CU_ASSERT_FATAL(n > 0);
	exe[n] = '\0';
	len = rt_elf__build_id(exe, id, sizeof(id));
	CU_ASSERT_FATAL(len >= 2);
	for (int i = 0; i < len; i++)
		snprintf(hexid + 2 * i, 3, "%02x", id[i]);

	copied = rt_dsocache__add_process(dir, getpid());
	CU_ASSERT(copied >= 1);
	snprintf(link, sizeof(link), "%s/.build-id/%.2s/%s/elf", dir, hexid, hexid + 2);
	CU_ASSERT_EQUAL(stat(link, &st), 0);
	CU_ASSERT_EQUAL(rt_elf__build_id(link, copy_id, sizeof(copy_id)), len);
	CU_ASSERT_EQUAL(memcmp(copy_id, id, (size_t)len), 0);
	/* the named copy too: CACHE/<path>/<id>/elf */
	CU_ASSERT_FATAL(snprintf(link, sizeof(link), "%s%s/%s/elf", dir, exe, hexid) <
			(int)sizeof(link));
	CU_ASSERT_EQUAL(stat(link, &st), 0);
	/* a second pass finds everything cached */
	CU_ASSERT_EQUAL(rt_dsocache__add_process(dir, getpid()), 0);
	/* this process is in its own root */
	CU_ASSERT_FALSE(rt_dsocache__foreign_root(getpid()));
	CU_ASSERT_EQUAL(rt_dsocache__add_process(dir, 0x7ffffff0), -ESRCH);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Whether the cache at dir holds the file at path, by its build id. */
static bool cached(const char *dir, const char *path)
{
	char hexid[41], link[PATH_MAX];
	uint8_t id[20];
	struct stat st;
	int len = rt_elf__build_id(path, id, sizeof(id));

	if (len < 2)
		return false;
	for (int i = 0; i < len; i++)
		snprintf(hexid + 2 * i, 3, "%02x", id[i]);
	snprintf(link, sizeof(link), "%s/.build-id/%.2s/%s/elf", dir, hexid, hexid + 2);
	return !stat(link, &st);
}

/* A child in its own mount namespace (a container's process as
 * rt_dsocache__foreign_root sees it) dlopens a library after it was first
 * looked at: the rescan must copy it, once. */
static void test_watch_late_mapping(void)
{
	char dir[] = "/tmp/rt-test-dsocache.XXXXXX", lib[128], cmd[512];
	int ready[2], go[2];
	struct rt_dsocache *c;
	pid_t child;
	char b;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(lib, sizeof(lib), "%s/liblate.so", dir);
	snprintf(cmd, sizeof(cmd), "echo 'int late(void) { return 7; }' | cc -shared -fPIC "
		 "-Wl,--build-id -x c -o %s -", lib);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/cache", dir);
	c = rt_dsocache__new(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* this process is in its own root: not watched, nothing copied */
	CU_ASSERT_EQUAL(rt_dsocache__watch(c, getpid()), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(ready) || pipe(go), 0);
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (!child) {
		b = unshare(CLONE_NEWNS) ? 'n' : 'r';
		if (write(ready[1], &b, 1) != 1 || b == 'n' || read(go[0], &b, 1) != 1)
			_exit(1);
		b = dlopen(lib, RTLD_NOW) ? 'd' : 'x';
		if (write(ready[1], &b, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	CU_ASSERT_EQUAL(read(ready[0], &b, 1), 1);
	if (b != 'r') {
		printf("no mount namespace for the child (not root?): watcher not tested\n");
	} else {
		CU_ASSERT(rt_dsocache__watch(c, child) >= 1);
		CU_ASSERT_FALSE(cached(cmd, lib));
		CU_ASSERT_EQUAL(write(go[1], "g", 1), 1);
		CU_ASSERT_EQUAL(read(ready[0], &b, 1), 1);
		CU_ASSERT_EQUAL(b, 'd');
		CU_ASSERT_EQUAL(rt_dsocache__rescan(c), 1);
		CU_ASSERT_TRUE(cached(cmd, lib));
		/* looked at once: nothing more to do */
		CU_ASSERT_EQUAL(rt_dsocache__rescan(c), 0);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CU_ASSERT_EQUAL(rt_dsocache__rescan(c), 0);
	rt_dsocache__free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("dsocache", NULL, NULL);
	CU_add_test(suite, "own process into a cache", test_own_process);
	CU_add_test(suite, "a container's library mapped late", test_watch_late_mapping);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
