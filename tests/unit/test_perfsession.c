/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtbpf/perfsession.c and perfrun.c: version parsing,
 * argument checks, and (as root with BTF) finding perf in a process that
 * holds no perf events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <signal.h>

#include "rtbpf/perfsession.h"

static void quiet(void *ctx, const char *msg)
{
	if (ctx)
		strncat((char *)ctx, msg, 511 - strlen((char *)ctx));
}

static void test_version(void)
{
	CU_ASSERT_EQUAL(rt_perf_version__parse("perf version 6.1.192\n"), 6001);
	CU_ASSERT_EQUAL(rt_perf_version__parse("perf version 5.13"), 5013);
	CU_ASSERT_EQUAL(rt_perf_version__parse("perf version 10.20.g1234"), 10020);
	CU_ASSERT_EQUAL(rt_perf_version__parse("perf version x.1"), -EINVAL);
	CU_ASSERT_EQUAL(rt_perf_version__parse("perf 6.1"), -EINVAL);
	CU_ASSERT_EQUAL(rt_perf_version__parse(NULL), -EINVAL);
	CU_ASSERT_TRUE(rt_perf_version__parse("perf version 5.10.0") < RT_PERF_MIN_VERSION);
	CU_ASSERT_TRUE(rt_perf_version__parse("perf version 6.1.0") >= RT_PERF_MIN_VERSION);
}

/* --exclude-perf may follow only events tracefs has (perf refuses it
 * after others): PMU syntax, hardware modifiers and unknown groups are not. */
static void test_is_trace_event(void)
{
	CU_ASSERT_FALSE(rt_perf__is_trace_event("cpu-clock"));
	CU_ASSERT_FALSE(rt_perf__is_trace_event("page-faults/period=1/"));
	CU_ASSERT_FALSE(rt_perf__is_trace_event("cpu/event=0x3c,name=a:b/"));
	CU_ASSERT_FALSE(rt_perf__is_trace_event("cycles:u"));
	CU_ASSERT_FALSE(rt_perf__is_trace_event("rt_no_such_group:rt_no_such_event"));
	CU_ASSERT_FALSE(rt_perf__is_trace_event(":sched_switch"));
	CU_ASSERT_FALSE(rt_perf__is_trace_event("sched:"));
	if (!access("/sys/kernel/tracing/events/sched/sched_switch", F_OK))
		CU_ASSERT_TRUE(rt_perf__is_trace_event("sched:sched_switch"));
}

static void test_bad_opts(void)
{
	struct {
		struct rt_perf_find_opts o;
		char extra[8];
	} big;
	struct rt_perf_record_opts ro = { .sz = sizeof(ro), .target = RT_PERF_RECORD_COMMAND,
					  .log = quiet };

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.extra[3] = 1; /* a field this library does not know, set: refuse */
	errno = 0;
	CU_ASSERT_PTR_NULL(rt_perf_session__find(&big.o));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(rt_perf_record(NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rt_perf_record(&ro, NULL), -EINVAL); /* no argv */
	ro.target = RT_PERF_RECORD_PID;
	CU_ASSERT_EQUAL(rt_perf_record(&ro, NULL), -EINVAL); /* no pid */
	rt_perf_session__free(NULL);
	CU_ASSERT_EQUAL(rt_perf_session__detach(NULL), -EINVAL);
}

/* Our own process holds no perf events: find() must say so, not crash. */
static void test_find_not_perf(void)
{
	char msg[512] = "";
	struct rt_perf_find_opts o = { .sz = sizeof(o), .perf_pid = getppid(), .log = quiet,
				       .log_ctx = msg };
	struct rt_perf_session *s;

	s = rt_perf_session__find(&o);
	CU_ASSERT_PTR_NULL(s);
	rt_perf_session__free(s);
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(errno, EPERM);
		CU_ASSERT_PTR_NOT_NULL(strstr(msg, "root"));
		return;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		CU_ASSERT_EQUAL(errno, ENOTSUP);
		return;
	}
	CU_ASSERT_EQUAL(errno, ESRCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no sampling perf events"));
}

/* Runs a copy of sleep as DIR/NAME (owner uid, mode) and asks whether it
 * is perf. */
static bool copy_is_perf(const char *dir, const char *name, uid_t uid, mode_t mode)
{
	char path[256], cmd[512];
	bool is;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "cp \"$(command -v sleep)\" '%s'", path);
	CU_ASSERT_FATAL(system(cmd) == 0);
	CU_ASSERT_FATAL(chown(path, uid, 0) == 0 && chmod(path, mode) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		execl(path, name, "30", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {     /* until the exec is done */
		char exe[300] = "";
		char link[64];

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		if (readlink(link, exe, sizeof(exe) - 1) > 0 && !strcmp(exe, path))
			break;
		usleep(10000);
	}
	is = rt_perf__is_perf(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	return is;
}

static void test_is_perf(void)
{
	char dir[] = "/tmp/rt-isperf-XXXXXX";

	CU_ASSERT(!rt_perf__is_perf(getpid()));
	if (geteuid() != 0) {
		fprintf(stderr, "(root needed to chown test copies) ");
		return;
	}
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	CU_ASSERT(copy_is_perf(dir, "perf", 0, 0755));
	CU_ASSERT(copy_is_perf(dir, "perf_6.1", 0, 0755));
	CU_ASSERT(!copy_is_perf(dir, "perfect", 0, 0755));
	CU_ASSERT(!copy_is_perf(dir, "perf", 65534, 0755));
	CU_ASSERT(!copy_is_perf(dir, "perf", 0, 0777));
	rmdir(dir);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("perfattach", NULL, NULL);
	CU_add_test(suite, "version parsing", test_version);
	CU_add_test(suite, "installed perf told from a process named perf", test_is_perf);
	CU_add_test(suite, "bad options", test_bad_opts);
	CU_add_test(suite, "trace events told from other event syntax", test_is_trace_event);
	CU_add_test(suite, "find in a process without perf events", test_find_not_perf);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
