/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for rtbpf/perflive.c: the events opened through libperf,
 * streamed in perf's pipe format, read back by the project's own reader
 * and merge (the path `rt-bpf top` takes, without the BPF walker).
 * Opening CPU-wide perf events needs root (or perf_event_paranoid <= 0).
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perfglue/perfdata.h"
#include "rtbpf/perflive.h"
#include "rtmerge/merge.h"

struct counts {
	struct rt_perf_tool tool;   /* first */
	uint64_t samples, channel_samples, comms, mmaps, own_exe_mmaps;
	char exe[4096];
};

static int count_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
			const struct rt_perf_sample *s)
{
	struct counts *c = (struct counts *)tool;

	if (!strcmp(ev->name, "cpu-clock") && s->pid == (uint32_t)getpid() && s->nr_callchain)
		c->samples++;
	if (!strcmp(ev->name, "rt"))
		c->channel_samples++;
	return 0;
}

static int count_comm(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		      bool exec, const struct rt_perf_sample_id *sid)
{
	struct counts *c = (struct counts *)tool;

	if (pid == (uint32_t)getpid() && tid == (uint32_t)getpid() && !strcmp(comm, "test_perflive"))
		c->comms++;
	return 0;
}

static int count_mmap(struct rt_perf_tool *tool, const struct rt_perf_mmap *m)
{
	struct counts *c = (struct counts *)tool;

	if (m->pid != (uint32_t)getpid())
		return 0;
	c->mmaps++;
	if (!strcmp(m->filename, c->exe) && (m->prot & 4))
		c->own_exe_mmaps++;
	return 0;
}

/* Spins for @ms of CPU time in a function of its own, for the samples to name. */
static __attribute__((noinline)) uint64_t perflive_test_spin(long ms)
{
	struct timespec start, now;
	volatile uint64_t x = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
	do {
		for (int i = 0; i < 100000; i++)
			x += (uint64_t)i * i;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
	return x;
}

/* Records 300 ms of this process into @path: header, /proc synthesis, rings. */
static void record(const char *path, pid_t target)
{
	struct rt_perf_live *live = rt_perf_live__open(&(struct rt_perf_live_opts){
		.sz = sizeof(struct rt_perf_live_opts), .freq = 997, .pages = 64 });
	struct rt_perf_live_stats st;
	FILE *f;
	int fd, pumped = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	CU_ASSERT_TRUE(rt_perf_live__nr_cpus(live) > 0);
	for (int i = 0; i < rt_perf_live__nr_cpus(live); i++) {
		CU_ASSERT_TRUE(rt_perf_live__sampling_fd(live, i) >= 0);
		CU_ASSERT_TRUE(rt_perf_live__channel_fd(live, i) >= 0);
		CU_ASSERT_NOT_EQUAL(rt_perf_live__sampling_fd(live, i),
				    rt_perf_live__channel_fd(live, i));
	}
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fd = fileno(f);
	CU_ASSERT_EQUAL(rt_perf_live__write_header(live, fd, target), 0);
	CU_ASSERT_EQUAL(rt_perf_live__synthesize(live, fd, getpid()), 0);
	CU_ASSERT_EQUAL(rt_perf_live__enable(live), 0);
	perflive_test_spin(300);
	rt_perf_live__disable(live);
	for (int n; (n = rt_perf_live__pump(live, fd, 0)) > 0;)
		pumped += n;
	CU_ASSERT_TRUE(pumped > 0);
	rt_perf_live__stats(live, &st);
	CU_ASSERT_EQUAL(st.records, (uint64_t)pumped);
	CU_ASSERT_TRUE(st.samples >= 100);
	fclose(f);
	rt_perf_live__close(live);
}

/* The stream reads back: named events, the target's marker, this process's
 * COMM and executable MMAP2 from /proc, and its samples with callchains. */
static void test_stream(void)
{
	char path[] = "/tmp/test_perflive.XXXXXX", err[256];
	struct counts c = { .tool = { .sample = count_sample, .comm = count_comm,
				      .mmap = count_mmap } };
	struct rt_perf_reader *r;
	char target[64];
	bool marked = false;
	ssize_t n = readlink("/proc/self/exe", c.exe, sizeof(c.exe) - 1);
	int fd = mkstemp(path);

	CU_ASSERT_TRUE_FATAL(fd >= 0 && n > 0);
	close(fd);
	c.exe[n] = '\0';
	record(path, getpid());
	r = rt_perf_reader__open(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_TRUE(rt_perf_reader__is_pipe(r));
	CU_ASSERT_EQUAL(rt_perf_reader__process(r, &c.tool), 0);
	CU_ASSERT_EQUAL(rt_perf_reader__nr_evsels(r), 3);
	CU_ASSERT_STRING_EQUAL(rt_perf_reader__evsel(r, 0)->name, "cpu-clock");
	CU_ASSERT_STRING_EQUAL(rt_perf_reader__evsel(r, 1)->name, "rt");
	snprintf(target, sizeof(target), "rt-target-%d", (int)getpid());
	for (size_t i = 0; i < rt_perf_reader__nr_evsels(r); i++)
		marked |= !strcmp(rt_perf_reader__evsel(r, i)->name, target);
	CU_ASSERT_TRUE(marked);
	CU_ASSERT_TRUE(c.samples >= 100);
	CU_ASSERT_EQUAL(c.channel_samples, 0);    /* no program writes into it here */
	CU_ASSERT_TRUE(c.comms >= 1);
	CU_ASSERT_TRUE(c.own_exe_mmaps >= 1);
	CU_ASSERT_EQUAL(rt_perf_reader__stats(r)->bad_samples, 0);
	CU_ASSERT_EQUAL(rt_perf_reader__stats(r)->unknown_id_samples, 0);
	rt_perf_reader__close(r);
	unlink(path);
}

/* The merge names the spinning function in this process's per-sample lines. */
static void test_merge(void)
{
	char path[] = "/tmp/test_perflive.XXXXXX", err[256], *lines = NULL, *p;
	size_t size = 0, spin = 0, ours = 0;
	FILE *out = open_memstream(&lines, &size);
	struct rt_merge_opts opts = { .sz = sizeof(opts), .per_sample = out };
	struct rt_perf_reader *r;
	struct rt_merge *m;
	int fd = mkstemp(path);

	CU_ASSERT_TRUE_FATAL(fd >= 0 && out);
	close(fd);
	record(path, getpid());
	r = rt_perf_reader__open(path, err, sizeof(err));
	m = rt_merge__new(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(rt_merge__run(m, r), 0);
	CU_ASSERT_STRING_EQUAL(rt_merge__event_name(m), "cpu-clock");
	fclose(out);
	for (p = strtok(lines, "\n"); p; p = strtok(NULL, "\n")) {
		if (!strstr(p, " test_perflive;"))
			continue;
		ours++;
		spin += strstr(p, ";perflive_test_spin") != NULL;
	}
	/* only the target's samples are folded (the marker): all of them ours */
	CU_ASSERT_TRUE(ours >= 100);
	CU_ASSERT_EQUAL(rt_merge__stats(m)->samples, ours);
	CU_ASSERT_TRUE(spin * 10 >= ours * 9);
	rt_merge__free(m);
	rt_perf_reader__close(r);
	free(lines);
	unlink(path);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (geteuid() != 0) {
		printf("skipped: CPU-wide perf events need root\n");
		return 77;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("perflive", NULL, NULL);
	CU_add_test(suite, "stream read back", test_stream);
	CU_add_test(suite, "merged samples", test_merge);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
