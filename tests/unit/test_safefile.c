/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for perfglue/safefile: FIFOs, devices, symlinks, caps, roots. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfglue/safefile.h"

static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	path_of(p, sizeof(p), name);
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void)
{
	strcpy(dir, "/tmp/rt-safefile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_regular(void)
{
	char p[128];
	struct stat st;
	char buf[16] = { 0 };
	int fd;

	write_file("plain", "hello");
	path_of(p, sizeof(p), "plain");
	fd = rt_safefile__open(AT_FDCWD, p, 0, &st);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(st.st_size, 5);
	CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf) - 1), 5);
	CU_ASSERT_STRING_EQUAL(buf, "hello");
	CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	CU_ASSERT_EQUAL(rt_safefile__open(AT_FDCWD, p, 4, NULL), -EFBIG);
	path_of(p, sizeof(p), "missing");
	CU_ASSERT_EQUAL(rt_safefile__open(AT_FDCWD, p, 0, NULL), -ENOENT);
}

/* A FIFO would block a plain open forever: it must be refused at once. */
static void test_fifo_and_device(void)
{
	char p[128];

	path_of(p, sizeof(p), "fifo");
	CU_ASSERT_EQUAL_FATAL(mkfifo(p, 0600), 0);
	CU_ASSERT_EQUAL(rt_safefile__open(AT_FDCWD, p, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rt_safefile__open(AT_FDCWD, "/dev/zero", 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rt_safefile__open(AT_FDCWD, "/tmp", 0, NULL), -EINVAL);
}

static void test_symlink(void)
{
	char p[128], target[128];

	write_file("target", "x");
	path_of(target, sizeof(target), "target");
	path_of(p, sizeof(p), "link");
	CU_ASSERT_EQUAL_FATAL(symlink(target, p), 0);
	CU_ASSERT_EQUAL(rt_safefile__open(AT_FDCWD, p, 0, NULL), -ELOOP);
}

/* Inside our own root, an absolute path resolves as usual; ".." cannot
 * climb above "/", which for a container is its root. */
static void test_in_root(void)
{
	char p[160];
	int fd;

	write_file("inroot", "abc");
	path_of(p, sizeof(p), "inroot");
	fd = rt_safefile__open_in_root(getpid(), p, 0, NULL);
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "/../../..%s/inroot", dir);
	fd = rt_safefile__open_in_root(getpid(), p, 0, NULL);
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	/* a magic link is never followed */
	fd = rt_safefile__open_in_root(getpid(), "/proc/self/exe", 0, NULL);
	CU_ASSERT(fd == -ELOOP || fd == -EXDEV);
	CU_ASSERT_EQUAL(rt_safefile__open_in_root(0x7ffffff0, "/etc/hostname", 0, NULL), -ESRCH);
}

static void test_mapped(void)
{
	char p[128], line[256];
	unsigned long start, end;
	FILE *maps;
	void *addr;
	int fd, found = 0;

	write_file("mapped", "0123456789");
	path_of(p, sizeof(p), "mapped");
	fd = open(p, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	addr = mmap(NULL, 10, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	CU_ASSERT_FATAL(addr != MAP_FAILED);
	maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start == (unsigned long)addr) {
			fd = rt_safefile__open_mapped(getpid(), start, end, 0, NULL);
			CU_ASSERT(fd >= 0);
			if (fd >= 0)
				close(fd);
			found = 1;
		}
	}
	if (maps)
		fclose(maps);
	CU_ASSERT(found);
	munmap(addr, 10);
}

/* A file someone else owns is read, not mapped: truncating it afterwards
 * must leave the copy whole (a mapping would raise SIGBUS past the end). */
static void test_map_untrusted(void)
{
	char p[128], page[8192];
	struct stat st;
	uint8_t *img;
	int fd;

	memset(page, 'x', sizeof(page));
	path_of(p, sizeof(p), "theirs");
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	CU_ASSERT_EQUAL(fstat(fd, &st), 0);
	CU_ASSERT(rt_safefile__owner_trusted(&st));
	st.st_uid = 12345;  /* as if a local user owned it */
	CU_ASSERT(!rt_safefile__owner_trusted(&st));
	img = rt_safefile__map(fd, &st, sizeof(page));
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	CU_ASSERT_EQUAL(ftruncate(fd, 0), 0);
	CU_ASSERT_EQUAL(img[sizeof(page) - 1], 'x');
	CU_ASSERT_EQUAL(memcmp(img, page, sizeof(page)), 0);
	munmap(img, sizeof(page));
	/* The file is shorter than asked: an error, not a short copy. */
	errno = 0;
	CU_ASSERT_PTR_NULL(rt_safefile__map(fd, &st, sizeof(page)));
	CU_ASSERT_EQUAL(errno, EIO);
	/* A trusted owner's file is mapped, privately. */
	CU_ASSERT_EQUAL(pwrite(fd, page, 100, 0), 100);
	CU_ASSERT_EQUAL(fstat(fd, &st), 0);
	img = rt_safefile__map(fd, &st, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	img[0] = 'y';
	CU_ASSERT_EQUAL(pread(fd, page, 1, 0), 1);
	CU_ASSERT_EQUAL(page[0], 'x');
	munmap(img, 100);
	close(fd);
}

/* Output files: written through, but never through a symbolic link as root. */
static void test_create(void)
{
	char p[128], target[128];
	FILE *f;

	path_of(p, sizeof(p), "out");
	f = rt_safefile__create(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("x", f);
	CU_ASSERT_EQUAL(fclose(f), 0);
	write_file("precious", "keep");
	path_of(target, sizeof(target), "precious");
	path_of(p, sizeof(p), "out-link");
	CU_ASSERT_EQUAL_FATAL(symlink(target, p), 0);
	errno = 0;
	f = rt_safefile__create(p);
	if (geteuid() == 0) {
		CU_ASSERT_PTR_NULL(f);
		CU_ASSERT_EQUAL(errno, ELOOP);
	}
	if (f)
		fclose(f);
	if (geteuid() == 0) {
		struct stat st;

		CU_ASSERT_EQUAL(stat(target, &st), 0);
		CU_ASSERT_EQUAL(st.st_size, 4);
	}
}

static void test_getline(void)
{
	char buf[8];
	static char text[] = "short\nmuch too long line\nok";
	FILE *f = fmemopen(text, strlen(text), "r");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(rt_safefile__getline(f, buf, sizeof(buf)), 5);
	CU_ASSERT_STRING_EQUAL(buf, "short");
	CU_ASSERT_EQUAL(rt_safefile__getline(f, buf, sizeof(buf)), -E2BIG);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(rt_safefile__getline(f, buf, sizeof(buf)), 2);
	CU_ASSERT_STRING_EQUAL(buf, "ok");
	CU_ASSERT_EQUAL(rt_safefile__getline(f, buf, sizeof(buf)), -1);
	fclose(f);
}

static void test_sanitize(void)
{
	char s[] = "x\t9999999\nforged\x7f;ok";

	CU_ASSERT_EQUAL(rt_safefile__sanitize(s), 3);
	CU_ASSERT_STRING_EQUAL(s, "x?9999999?forged?;ok");
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("safefile", setup, teardown);
	CU_add_test(suite, "regular files and the size cap", test_regular);
	CU_add_test(suite, "FIFOs, devices and directories refused", test_fifo_and_device);
	CU_add_test(suite, "symbolic links not followed", test_symlink);
	CU_add_test(suite, "paths resolved inside a process's root", test_in_root);
	CU_add_test(suite, "mapped files through map_files", test_mapped);
	CU_add_test(suite, "untrusted files read, not mapped", test_map_untrusted);
	CU_add_test(suite, "output files refuse symbolic links as root", test_create);
	CU_add_test(suite, "bounded lines", test_getline);
	CU_add_test(suite, "control characters replaced", test_sanitize);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
