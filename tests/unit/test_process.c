/* SPDX-License-Identifier: GPL-2.0-only */
/* Process inspection shared by the CPython and CRuby support: remote reads,
 * finding an image's symbols and load bias, the tracker from /proc scans and
 * from process events (on this test and a child of it). */
#include <CUnit/Basic.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/process.h"

uint64_t test_process_global = 0x1122334455667788ull;

static void test_read(void)
{
	uint64_t v = 0;
	char buf[8];

	CU_ASSERT_EQUAL(rt_process__read(getpid(), (uintptr_t)&test_process_global, &v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(v, test_process_global);
	CU_ASSERT_EQUAL(rt_process__read(getpid(), 8, buf, sizeof(buf)), -EFAULT);
}

struct found_image {
	int offered, take_after;
	uint64_t func, var, wrong_type;
	char path[4096];
};

static bool has_func(const uint64_t *values)
{
	return values[0] != 0;
}

static int take(void *ctx, const struct rt_process_image *img)
{
	struct found_image *f = ctx;

	if (++f->offered < f->take_after)
		return 1;
	f->func = img->bias + img->values[0];
	f->var = img->bias + img->values[1];
	f->wrong_type = img->values[2];
	snprintf(f->path, sizeof(f->path), "%s", img->path);
	CU_ASSERT_STRING_EQUAL(img->path, img->exe);
	CU_ASSERT_EQUAL(img->pid, getpid());
	return 0;
}

static pid_t reaped_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void test_find_image(void)
{
	static const struct rt_process_symbol syms[] = {
		{ "rt_process__read", STT_FUNC },
		{ "test_process_global", -1 },
		{ "test_process_global", STT_FUNC },
	};
	struct found_image f = { .take_after = 1 };
	struct rt_process_image_opts opts = {
		.lib_name = "libc.so", .syms = syms, .nr_syms = 3,
		.has_symbols = has_func, .take = take, .ctx = &f,
	};
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	CU_ASSERT_FATAL(n > 0);
	exe[n] = '\0';
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), 0);
	CU_ASSERT_EQUAL(f.func, (uintptr_t)&rt_process__read);
	CU_ASSERT_EQUAL(f.var, (uintptr_t)&test_process_global);
	CU_ASSERT_EQUAL(f.wrong_type, 0);
	CU_ASSERT_STRING_EQUAL(f.path, exe);

	/* libc lacks the symbol: only the executable is offered */
	f = (struct found_image){ .take_after = 2 };
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), -ENOENT);
	CU_ASSERT_EQUAL(f.offered, 1);

	CU_ASSERT_EQUAL(rt_process__find_image(reaped_pid(), &opts), -ESRCH);
	opts.nr_syms = RT_PROCESS_SYMBOLS_MAX + 1;
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), -EINVAL);
}

static bool never(const uint64_t *values)
{
	return false;
}

/* A child that waits in pause() until stop_child(). */
static pid_t paused_child(void)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A process in its own mount namespace maps "DIR/libevil.so with spaces"
 * (a real ELF there), while on the host that path is a FIFO: looking its
 * images over must neither open the host path (a plain open would block
 * forever) nor cut the name at its first space.  Needs root for unshare.
 */
static void test_find_image_other_mount_ns(void)
{
	static const struct rt_process_symbol syms[] = { { "main", STT_FUNC } };
	struct rt_process_image_opts opts = {
		.lib_name = "libevil", .syms = syms, .nr_syms = 1,
		.has_symbols = never, .take = take, .ctx = NULL,
	};
	char dir[] = "/tmp/rt-mntns-XXXXXX", path[128], cmd[256];
	int ready[2], err;
	pid_t child;
	char c;

	if (geteuid() != 0) {
		fprintf(stderr, "(skipped: needs root for a mount namespace) ");
		return;
	}
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/libevil.so with spaces", dir);
	CU_ASSERT_FATAL(pipe(ready) == 0);
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		/* Private tmpfs over dir: the ELF exists only in this namespace. */
		snprintf(cmd, sizeof(cmd), "mount --make-rprivate / && mount -t tmpfs none %s && "
			 "cp /bin/true '%s'", dir, path);
		if (unshare(CLONE_NEWNS) || system(cmd))
			_exit(1);
		int fd = open(path, O_RDONLY);
		if (fd < 0 || mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	CU_ASSERT_FATAL(read(ready[0], &c, 1) == 1);
	CU_ASSERT_EQUAL(mkfifo(path, 0600), 0);
	alarm(20);      /* a hang fails the test instead of stalling it */
	err = rt_process__find_image(child, &opts);
	alarm(0);
	CU_ASSERT_EQUAL(err, -ENOENT);
	stop_child(child);
	close(ready[0]);
	unlink(path);
	rmdir(dir);
}

/* Counts the libspace images offered whose path survived whole. */
static int count_offered(void *ctx, const struct rt_process_image *img)
{
	int *n = ctx;

	if (strstr(img->path, "/libspace.so with spaces"))
		++*n;
	return 1;
}

static bool any(const uint64_t *values)
{
	return true;
}

/* A mapped file whose name holds spaces is found by its whole name. */
static void test_find_image_spaces(void)
{
	static const struct rt_process_symbol syms[] = { { "main", STT_FUNC } };
	int offered = 0;
	struct rt_process_image_opts opts = {
		.lib_name = "libspace", .syms = syms, .nr_syms = 1,
		.has_symbols = any, .take = count_offered, .ctx = &offered,
	};
	char dir[] = "/tmp/rt-space-XXXXXX", path[128], cmd[256];
	void *map;
	int fd;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/libspace.so with spaces", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/true '%s'", path);
	CU_ASSERT_FATAL(system(cmd) == 0);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CU_ASSERT_FATAL(map != MAP_FAILED);
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), -ENOENT);
	CU_ASSERT_EQUAL(offered, 1);
	munmap(map, 4096);
	close(fd);
	unlink(path);
	rmdir(dir);
}

struct cache_probe {
	uint64_t value; /* test_process_global's st_value in the copy, 0: not offered */
};

/* Takes only the copy of this test mapped as "librtcache.so". */
static int take_copy(void *ctx, const struct rt_process_image *img)
{
	struct cache_probe *p = ctx;

	if (!strstr(img->path, "librtcache"))
		return 1;
	p->value = img->values[0];
	return 0;
}

/* Renames test_process_global in the file @fd in place: the same size,
 * inode and (restored) modification time, so only its contents tell. */
static void hide_symbol(int fd)
{
	static const char name[] = "test_process_global";
	struct stat st;
	struct timespec times[2];
	char *buf, *p;

	CU_ASSERT_FATAL(fstat(fd, &st) == 0);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	buf = malloc((size_t)st.st_size);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(pread(fd, buf, (size_t)st.st_size, 0) == st.st_size);
	for (p = buf; (p = memmem(p, (size_t)(buf + st.st_size - p), name, sizeof(name)));)
		p[sizeof(name) - 2] = 'X';
	CU_ASSERT_FATAL(pwrite(fd, buf, (size_t)st.st_size, 0) == st.st_size);
	CU_ASSERT_FATAL(futimens(fd, times) == 0);
	free(buf);
}

/*
 * An image cache answers from what it read before, for the file as it
 * was; each cache is its owner's: a second one, or none, reads the file
 * again.  A copy of this test's executable, mapped as a library, loses
 * its symbol without changing its identity in between.
 */
static void test_image_caches(void)
{
	static const struct rt_process_symbol syms[] = { { "test_process_global", -1 } };
	struct cache_probe probe = { 0 };
	struct rt_process_image_opts opts = {
		.lib_name = "librtcache", .syms = syms, .nr_syms = 1,
		.has_symbols = has_func, .take = take_copy, .ctx = &probe,
	};
	struct rt_image_cache *first = rt_image_cache__new(), *second = rt_image_cache__new();
	char dir[] = "/tmp/rt-cache-XXXXXX", path[128], cmd[256];
	void *map;
	int fd;

	CU_ASSERT_FATAL(first && second);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/librtcache.so", dir);
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe '%s'", getpid(), path);
	CU_ASSERT_FATAL(system(cmd) == 0);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CU_ASSERT_FATAL(map != MAP_FAILED);

	opts.cache = first;
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), 0);
	CU_ASSERT_NOT_EQUAL(probe.value, 0);
	hide_symbol(fd);

	/* the first cache still knows the file as it was read */
	probe.value = 0;
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), 0);
	CU_ASSERT_NOT_EQUAL(probe.value, 0);
	/* the second one and none read it as it is now */
	opts.cache = second;
	probe.value = 0;
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), -ENOENT);
	CU_ASSERT_EQUAL(probe.value, 0);
	opts.cache = NULL;
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), -ENOENT);
	/* freeing one leaves the other as it was */
	rt_image_cache__free(second);
	opts.cache = first;
	CU_ASSERT_EQUAL(rt_process__find_image(getpid(), &opts), 0);
	CU_ASSERT_NOT_EQUAL(probe.value, 0);
	rt_image_cache__free(first);
	rt_image_cache__free(NULL);

	munmap(map, 4096);
	close(fd);
	unlink(path);
	rmdir(dir);
}

struct tracker_log {
	pid_t child;
	int checks, gone;
	int find_on;        /* check number that finds the runtime */
	bool state_zeroed;
};

struct child_state {
	int checks;
};

static void check(void *ctx, struct rt_tracked_process *proc)
{
	struct tracker_log *log = ctx;
	struct child_state *s = proc->state;

	if (proc->pid != log->child)
		return;
	if (!s->checks)
		log->state_zeroed = true;
	s->checks++;
	log->checks++;
	if (s->checks == log->find_on) {
		proc->found = true;
		proc->retries = 0;
	}
}

static void gone(void *ctx, pid_t pid)
{
	struct tracker_log *log = ctx;

	CU_ASSERT_EQUAL(pid, log->child);
	log->gone++;
}

static void run_tracker(enum rt_process_scope scope, const char *exe_name)
{
	struct tracker_log log = { .find_on = 2 };
	struct rt_process_tracker_ops ops = {
		.exe_name = exe_name, .retries = 5, .state_size = sizeof(struct child_state),
		.check = check, .gone = gone, .ctx = &log,
	};
	pid_t root = scope == RT_PROCESS_TREE ? getpid() : 0;
	struct rt_process_tracker *tr;
	bool retried = strcmp(exe_name, "no such name") != 0;

	log.child = paused_child();
	if (scope == RT_PROCESS_PID)
		root = log.child;
	tr = rt_process_tracker__new(scope, &root, 1, &ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
	/* new: checked once, not found yet */
	CU_ASSERT_EQUAL(rt_process_tracker__scan(tr), 0);
	CU_ASSERT_EQUAL(log.checks, 1);
	CU_ASSERT_TRUE(log.state_zeroed);
	/* a retry finds it (with retries only when the name matched) */
	CU_ASSERT_EQUAL(rt_process_tracker__scan(tr), retried ? 1 : 0);
	CU_ASSERT_EQUAL(log.checks, retried ? 2 : 1);
	CU_ASSERT_EQUAL(rt_process_tracker__scan(tr), retried ? 1 : 0);
	CU_ASSERT_EQUAL(log.checks, retried ? 2 : 1);
	stop_child(log.child);
	CU_ASSERT_EQUAL(rt_process_tracker__scan(tr), 0);
	CU_ASSERT_EQUAL(log.gone, retried ? 1 : 0);
	rt_process_tracker__free(tr);
}

static void test_tracker(void)
{
	char exe[4096], *base;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	CU_ASSERT_FATAL(n > 0);
	exe[n] = '\0';
	base = strrchr(exe, '/') + 1;
	run_tracker(RT_PROCESS_PID, base);
	run_tracker(RT_PROCESS_TREE, base);
	run_tracker(RT_PROCESS_ALL, base);
	run_tracker(RT_PROCESS_PID, "no such name");
	rt_process_tracker__free(NULL);
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Process events instead of scans: a fork under the root is checked at
 * once, retries come due, stale events change nothing, an exit reports
 * the found process gone, and a process outside the tree is not looked at. */
static void test_tracker_events(void)
{
	struct tracker_log log = { .find_on = 2 };
	struct rt_process_tracker_ops ops = {
		.retries = 5, .state_size = sizeof(struct child_state),
		.check = check, .gone = gone, .ctx = &log,
	};
	struct rt_process_event ev = { 0 };
	struct timespec pause_3ms = { 0, 3000000 };
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t root = getpid();
	struct rt_process_tracker *tr;
	uint64_t before;
	int wait_ms;

	CU_ASSERT_FATAL(n > 0);
	exe[n] = '\0';
	ops.exe_name = strrchr(exe, '/') + 1;
	log.child = paused_child();
	tr = rt_process_tracker__new(RT_PROCESS_TREE, &root, 1, &ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
	CU_ASSERT_EQUAL(rt_process_tracker__retry(tr), -1);
	before = boot_ns();
	ev = (struct rt_process_event){ .type = RT_PROCESS_FORK, .pid = log.child, .ppid = root,
					.time_ns = before };
	rt_process_tracker__event(tr, &ev);
	CU_ASSERT_EQUAL(log.checks, 1);
	CU_ASSERT_TRUE(log.state_zeroed);
	/* the first retry is due within a few milliseconds, and finds it */
	wait_ms = rt_process_tracker__retry(tr);
	CU_ASSERT(wait_ms >= 0 && wait_ms <= 2);
	CU_ASSERT_EQUAL(log.checks, 1);
	nanosleep(&pause_3ms, NULL);
	rt_process_tracker__retry(tr);
	CU_ASSERT_EQUAL(log.checks, 2);
	CU_ASSERT_EQUAL(rt_process_tracker__retry(tr), -1);
	/* events from before the last check, and a mapping of a found
	 * process, change nothing */
	ev.type = RT_PROCESS_EXEC;
	rt_process_tracker__event(tr, &ev);
	ev.type = RT_PROCESS_MAPPED;
	ev.time_ns = boot_ns();
	rt_process_tracker__event(tr, &ev);
	CU_ASSERT_EQUAL(log.checks, 2);
	CU_ASSERT_EQUAL(log.gone, 0);
	CU_ASSERT_EQUAL(rt_process_tracker__scan(tr), 1);
	CU_ASSERT_EQUAL(log.checks, 2);
	ev.type = RT_PROCESS_EXIT;
	ev.time_ns = boot_ns();
	rt_process_tracker__event(tr, &ev);
	CU_ASSERT_EQUAL(log.gone, 1);
	rt_process_tracker__free(tr);

	/* outside the tree: a child of init is not looked at */
	root = 1 << 30; /* no such process */
	tr = rt_process_tracker__new(RT_PROCESS_TREE, &root, 1, &ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
	ev = (struct rt_process_event){ .type = RT_PROCESS_FORK, .pid = log.child, .ppid = 1,
					.time_ns = boot_ns() };
	rt_process_tracker__event(tr, &ev);
	ev.type = RT_PROCESS_EXEC;
	rt_process_tracker__event(tr, &ev);
	CU_ASSERT_EQUAL(log.checks, 2);
	rt_process_tracker__free(tr);
	stop_child(log.child);
}

struct candidates_log {
	pid_t kids[3];
	int checks[3];
};

static void count_check(void *ctx, struct rt_tracked_process *proc)
{
	struct candidates_log *log = ctx;

	for (int i = 0; i < 3; i++)
		log->checks[i] += proc->pid == log->kids[i];
}

/* A scan narrowed by the kernel's list of processes mapping a runtime
 * library: the listed process is checked, of the others one per
 * executable; an unchecked one counts as checked when the list was made,
 * so a later mapping event still checks it and an earlier one does not. */
static void test_tracker_candidates(void)
{
	struct candidates_log log = { 0 };
	struct rt_process_tracker_ops ops = { .exe_name = "no such name", .check = count_check,
					      .ctx = &log };
	struct rt_process_candidates c = { 0 };
	struct rt_process_event ev = { 0 };
	pid_t root = getpid(), listed;
	struct rt_process_tracker *tr;
	int unchecked = -1;

	for (int i = 0; i < 3; i++)
		log.kids[i] = paused_child();
	tr = rt_process_tracker__new(RT_PROCESS_TREE, &root, 1, &ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
	listed = log.kids[1];
	c.pids = &listed;
	c.nr = 1;
	c.taken_ns = boot_ns();
	CU_ASSERT_EQUAL(rt_process_tracker__scan_candidates(tr, &c), 0);
	CU_ASSERT_EQUAL(log.checks[1], 1);
	CU_ASSERT_EQUAL(log.checks[0] + log.checks[2], 1);
	unchecked = log.checks[0] ? 2 : 0;
	/* a mapping from before the list was made is already seen */
	ev = (struct rt_process_event){ .type = RT_PROCESS_MAPPED, .pid = log.kids[unchecked],
					.time_ns = c.taken_ns - 1 };
	rt_process_tracker__event(tr, &ev);
	CU_ASSERT_EQUAL(log.checks[unchecked], 0);
	ev.time_ns = boot_ns();
	rt_process_tracker__event(tr, &ev);
	CU_ASSERT_EQUAL(log.checks[unchecked], 1);
	/* a plain scan looks at no known image again */
	CU_ASSERT_EQUAL(rt_process_tracker__scan(tr), 0);
	CU_ASSERT_EQUAL(log.checks[0] + log.checks[1] + log.checks[2], 3);
	rt_process_tracker__free(tr);
	for (int i = 0; i < 3; i++)
		stop_child(log.kids[i]);
}

/* Two trackers scanning with one process table read for both: each
 * checks what it checks when it reads /proc itself (the listed process,
 * and one other of the shared executable), and a table outlives them. */
static void test_tracker_shared_table(void)
{
	struct candidates_log logs[2] = { 0 };
	struct rt_process_candidates c = { 0 };
	struct rt_process_tracker *trs[2];
	pid_t root = getpid(), listed;
	pid_t kids[3];

	for (int i = 0; i < 3; i++)
		kids[i] = paused_child();
	listed = kids[1];
	c.pids = &listed;
	c.nr = 1;
	c.taken_ns = boot_ns();
	c.table = rt_process_table__read();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.table);
	for (int t = 0; t < 2; t++) {
		struct rt_process_tracker_ops ops = { .exe_name = "no such name",
						      .check = count_check, .ctx = &logs[t] };

		memcpy(logs[t].kids, kids, sizeof(kids));
		trs[t] = rt_process_tracker__new(RT_PROCESS_TREE, &root, 1, &ops);
		CU_ASSERT_PTR_NOT_NULL_FATAL(trs[t]);
		CU_ASSERT_EQUAL(rt_process_tracker__scan_candidates(trs[t], &c), 0);
		CU_ASSERT_EQUAL(logs[t].checks[1], 1);
		CU_ASSERT_EQUAL(logs[t].checks[0] + logs[t].checks[2], 1);
	}
	rt_process_table__free(c.table);
	for (int t = 0; t < 2; t++)
		rt_process_tracker__free(trs[t]);
	for (int i = 0; i < 3; i++)
		stop_child(kids[i]);
}

/* A table from a kernel listing (rows in any order, executables by key):
 * the scan checks what it checks with /proc's table; a row without an
 * executable (key 0, a kernel thread) is never checked, and a file's
 * first process being gone leaves the others to be read on their own. */
static void test_tracker_listed_table(void)
{
	struct candidates_log log = { 0 };
	struct rt_process_tracker_ops ops = { .exe_name = "no such name", .check = count_check,
					      .ctx = &log };
	struct rt_process_candidates c = { 0 };
	struct rt_process_row rows[5];
	struct rt_process_tracker *tr;
	pid_t root = getpid(), listed, gone;

	gone = fork(); /* the lowest pid of the file's processes: its leader */
	CU_ASSERT_FATAL(gone >= 0);
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	for (int i = 0; i < 3; i++)
		log.kids[i] = paused_child();
	/* reversed order; kids[2] listed without an executable */
	rows[0] = (struct rt_process_row){ log.kids[2], root, 0, 0 };
	rows[1] = (struct rt_process_row){ log.kids[1], root, 0, 7 };
	rows[2] = (struct rt_process_row){ log.kids[0], root, 0, 7 };
	rows[3] = (struct rt_process_row){ gone, root, 0, 7 };
	rows[4] = (struct rt_process_row){ root, getppid(), 0, 9 };
	c.table = rt_process_table__from_rows(rows, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.table);
	listed = log.kids[1];
	c.pids = &listed;
	c.nr = 1;
	c.taken_ns = boot_ns();
	tr = rt_process_tracker__new(RT_PROCESS_TREE, &root, 1, &ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
	CU_ASSERT_EQUAL(rt_process_tracker__scan_candidates(tr, &c), 0);
	CU_ASSERT_EQUAL(log.checks[1], 1);
	CU_ASSERT_EQUAL(log.checks[0], 1);
	CU_ASSERT_EQUAL(log.checks[2], 0);
	rt_process_tracker__free(tr);
	rt_process_table__free(c.table);
	/* an empty listing is a table too */
	c.table = rt_process_table__from_rows(rows, 0);
	CU_ASSERT_PTR_NOT_NULL(c.table);
	rt_process_table__free(c.table);
	for (int i = 0; i < 3; i++)
		stop_child(log.kids[i]);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("process", NULL, NULL);
	CU_add_test(suite, "remote read", test_read);
	CU_add_test(suite, "image symbols and bias", test_find_image);
	CU_add_test(suite, "images in another mount namespace", test_find_image_other_mount_ns);
	CU_add_test(suite, "mapped file names with spaces", test_find_image_spaces);
	CU_add_test(suite, "image caches, each its owner's", test_image_caches);
	CU_add_test(suite, "tracker", test_tracker);
	CU_add_test(suite, "tracker events", test_tracker_events);
	CU_add_test(suite, "tracker scan narrowed by candidates", test_tracker_candidates);
	CU_add_test(suite, "tracker scans sharing a process table", test_tracker_shared_table);
	CU_add_test(suite, "tracker scan with a table from a kernel listing", test_tracker_listed_table);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
