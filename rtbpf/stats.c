/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf's summary at the end: the walker's per-CPU counters, its run time
 * (the kernel's figures and the program's own histogram), and one line per
 * counter that means part of the profile is missing, saying what to do.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>

#include "bpf/walker.h"
#include "bpf/walker.skel.h"
#include "rtbpf/offcpu.h"
#include "rtbpf/rtbpf.h"

/* The sum over every CPU of entry @key of the per-CPU array @fd. */
static int percpu_sum(int fd, __u32 key, int ncpu, __u64 *sum)
{
	__u64 vals[ncpu];

	*sum = 0;
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (int c = 0; c < ncpu; c++)
		*sum += vals[c];
	return 0;
}

int rt_bpf_app__stats(const struct rt_bpf_app *app, __u64 *stat)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd;

	if (!app->skel)
		return -ENOENT;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	fd = bpf_map__fd(app->skel->maps.stats);
	for (__u32 k = 0; k < RT_WALKER_STAT_MAX; k++) {
		int err = percpu_sum(fd, k, ncpu, &stat[k]);

		if (err)
			return err;
	}
	return 0;
}

/* The us bucket holding the q-quantile of n samples (the last one: longer). */
static unsigned int quantile_bucket(const __u64 *hist, __u64 n, double q)
{
	__u64 rank = (__u64)(q * (double)(n - 1)), seen = 0;

	for (unsigned int b = 0; b < RT_WALKER_TIME_BUCKETS; b++) {
		seen += hist[b];
		if (seen > rank)
			return b;
	}
	return RT_WALKER_TIME_BUCKETS - 1;
}

/* Median and 90th percentile of the walker's run time on interpreter
 * samples, from the program's own 1 us histogram. */
static void print_run_time(const struct rt_bpf_app *app, int ncpu)
{
	__u64 hist[RT_WALKER_TIME_BUCKETS] = { 0 }, n = 0;
	int fd = bpf_map__fd(app->skel->maps.run_time);

	if (fd < 0)
		return;
	for (__u32 b = 0; b < RT_WALKER_TIME_BUCKETS; b++)
		if (!percpu_sum(fd, b, ncpu, &hist[b]))
			n += hist[b];
	if (!n)
		return;
	unsigned int med = quantile_bucket(hist, n, 0.5), p90 = quantile_bucket(hist, n, 0.9);
	const char *more = p90 == RT_WALKER_TIME_BUCKETS - 1 ? " or more" : "";

	fprintf(stderr, "rt-bpf: BPF run time on interpreter samples: %llu samples, median %u-%u us, "
		"90th percentile %u-%u us%s%s\n", (unsigned long long)n, med, med + 1, p90, p90 + 1,
		more, app->nr_events || app->off_cpu ?
		" (the sampling event's walks only, not those at -e events or switches)" : "");
}

/* The samples counter's name: what kind of interpreter was walked. */
static const char *samples_name(const struct rt_bpf_app *app)
{
	if (app->nr_ruby && app->nr_ruby == app->nr_python)
		return "ruby samples";
	if (app->nr_ruby)
		return "python and ruby samples";
	return "python samples";
}

/*
 * What to do about counters that mean part of the profile is missing: one
 * line per problem, each saying what to do.
 */
static void print_warnings(const struct rt_bpf_app *app, const __u64 *stat, unsigned int flags)
{
	char versions[256];

	if (stat[RT_WALKER_STAT_NO_TSTATE])
		fprintf(stderr, "rt-bpf: note: no thread state=%llu: samples of threads that had no "
			"interpreter state at that moment (threads started from C code, or not yet or "
			"no longer running the interpreter); they fold with their native frames\n",
			(unsigned long long)stat[RT_WALKER_STAT_NO_TSTATE]);
	if (stat[RT_WALKER_STAT_CODE_DEFERRED])
		fprintf(stderr, "rt-bpf: note: code records deferred=%llu: samples that met more new "
			"functions than one sample sends names for; the rest are sent with later "
			"samples that meet them (one met only at the very end of the recording stays "
			"unnamed: [unknown python] or [unknown ruby] in rtmerge)\n",
			(unsigned long long)stat[RT_WALKER_STAT_CODE_DEFERRED]);
	/* not when perf failed or the command never ran: that was said, and
	 * a hint about versions would only mislead */
	if (!app->nr_python && !(flags & RT_BPF_STATS_NO_TARGET)) {
		rt_bpf__runtime_versions(versions, sizeof(versions));
		fprintf(stderr, "rt-bpf: warning: no Python or Ruby process was found%s; %s native "
			"stacks only.  rt-bpf walks %s (see -v for what it finds)\n",
			app->scope == RT_PROCESS_ALL ? "" : " in the target",
			flags & RT_BPF_STATS_LIVE ? "the view showed" : "the file holds", versions);
	}
	/* found, yet never walked while sampled: found too late, or the
	 * machine's CPUs were taken by the sampling itself */
	if (app->nr_python && !stat[RT_WALKER_STAT_SAMPLES] && stat[RT_WALKER_STAT_OTHER_PID] > 1000)
		fprintf(stderr, "rt-bpf: warning: %u interpreter process(es) found, but none of "
			"their samples was walked: found only at the end (with -F this high, "
			"perf's sampling and the walker may take the CPUs from rt-bpf's discovery): "
			"lower -F\n", app->nr_python);
	if (stat[RT_WALKER_STAT_NO_CHANNEL])
		fprintf(stderr, "rt-bpf: warning: %llu samples came from threads perf opened no channel "
			"for (perf record -p only covers threads that existed when it started); their "
			"interpreter frames are missing: run perf with -a, or use rt-bpf record -p PID\n",
			(unsigned long long)stat[RT_WALKER_STAT_NO_CHANNEL]);
	if (stat[RT_WALKER_STAT_STACK_LOST] || stat[RT_WALKER_STAT_CODE_LOST])
		fprintf(stderr, "rt-bpf: warning: perf's buffer was full: %llu interpreter stacks and %llu "
			"code records lost (those samples fold without interpreter frames or names); "
			"lower -F or run fewer busy processes\n",
			(unsigned long long)stat[RT_WALKER_STAT_STACK_LOST],
			(unsigned long long)stat[RT_WALKER_STAT_CODE_LOST]);
	if (stat[RT_WALKER_STAT_OUTPUT_ERROR])
		fprintf(stderr, "rt-bpf: warning: %llu interpreter records (stacks, code names) could "
			"not be written (perf stopped or closed its channel first, at the recording's "
			"end); such samples fold as native stacks\n",
			(unsigned long long)stat[RT_WALKER_STAT_OUTPUT_ERROR]);
}

void rt_bpf_app__print_stats(const struct rt_bpf_app *app, const struct rt_perf_prog_stats *ps,
			     unsigned int flags)
{
	static const char *const names[RT_WALKER_STAT_MAX] = {
		[RT_WALKER_STAT_SAMPLES] = "python samples",
		[RT_WALKER_STAT_OTHER_PID] = "other samples",
		[RT_WALKER_STAT_NO_TSTATE] = "no thread state",
		[RT_WALKER_STAT_READ_FAULT] = "read faults",
		[RT_WALKER_STAT_TRUNCATED] = "truncated",
		[RT_WALKER_STAT_STACK_OK] = "stacks",
		[RT_WALKER_STAT_STACK_LOST] = "stacks lost",
		[RT_WALKER_STAT_OUTPUT_ERROR] = "output errors",
		[RT_WALKER_STAT_CODE_OK] = "code records",
		[RT_WALKER_STAT_CODE_LOST] = "code records lost",
		[RT_WALKER_STAT_CODE_DEFERRED] = "code records deferred",
		[RT_WALKER_STAT_FRAMES] = "frames",
		[RT_WALKER_STAT_NO_CHANNEL] = "no channel",
		[RT_WALKER_STAT_CHUNK_OK] = "stack chunks",
		[RT_WALKER_STAT_CHUNK_LOST] = "stack chunks lost",
	};
	int ncpu = libbpf_num_possible_cpus();
	int fd;

	if (!app->skel || ncpu <= 0)
		return;
	fd = bpf_map__fd(app->skel->maps.stats);
	if (fd < 0)
		return;
	__u64 stat[RT_WALKER_STAT_MAX] = { 0 };

	fprintf(stderr, "rt-bpf:");
	for (__u32 k = 0; k < RT_WALKER_STAT_MAX; k++) {
		if (percpu_sum(fd, k, ncpu, &stat[k]))
			continue;
		fprintf(stderr, " %s=%llu%s", k == RT_WALKER_STAT_SAMPLES ? samples_name(app) : names[k],
			(unsigned long long)stat[k], k + 1 < RT_WALKER_STAT_MAX ? "," : "\n");
	}
	if (ps && ps->valid && ps->run_cnt)
		fprintf(stderr, "rt-bpf: BPF run time: %llu runs, mean %llu ns/sample\n",
			(unsigned long long)ps->run_cnt,
			(unsigned long long)(ps->run_time_ns / ps->run_cnt));
	else
		fprintf(stderr, "rt-bpf: BPF run time: not available\n");
	print_run_time(app, ncpu);
	if (app->off_cpu)
		rt_offcpu__print_stats(bpf_map__fd(app->skel->maps.offcpu_stats),
				       bpf_program__fd(app->skel->progs.rt_offcpu), stderr);
	print_warnings(app, stat, flags);
}
