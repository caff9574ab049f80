/* SPDX-License-Identifier: GPL-2.0-only */
/* rt-bpf record --off-cpu: the loader's side (see offcpu.h). */
#include <bpf/bpf.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/record.h"
#include "rtbpf/offcpu.h"

/* Where the program reads sched_switch's fields (bpf/offcpu.bpf.h). */
#define PREV_STATE_OFFSET 32
#define NEXT_PID_OFFSET   56

static const char *const tracefs_roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

/* Opens sched_switch's file @name under the first tracefs that has it. */
static FILE *open_switch_file(const char *name)
{
	char path[256];

	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/events/sched/sched_switch/%s", tracefs_roots[i], name);
		f = fopen(path, "re");
		if (f)
			return f;
	}
	return NULL;
}

/* The offset of field @field in sched_switch's format, or -1. */
static long field_offset(const char *format, const char *field)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), " %s;", field);
	p = strstr(format, key);
	if (!p || !(p = strstr(p, "offset:")))
		return -1;
	return strtol(p + 7, NULL, 10);
}

int rt_offcpu__prepare(struct bpf_program *prog, struct bpf_program *flush)
{
	char format[8192];
	FILE *f = open_switch_file("format");
	size_t n;
	long prev_state, next_pid;

	if (!f) {
		fprintf(stderr, "rt-bpf: --off-cpu needs the sched:sched_switch tracepoint in tracefs "
			"(/sys/kernel/tracing): %s\n", strerror(errno));
		return -ENOENT;
	}
	n = fread(format, 1, sizeof(format) - 1, f);
	fclose(f);
	format[n] = '\0';
	prev_state = field_offset(format, "prev_state");
	next_pid = field_offset(format, "next_pid");
	if (prev_state != PREV_STATE_OFFSET || next_pid != NEXT_PID_OFFSET) {
		fprintf(stderr, "rt-bpf: --off-cpu: this kernel's sched_switch record has prev_state at "
			"%ld and next_pid at %ld, not at %d and %d where the program reads them\n",
			prev_state, next_pid, PREV_STATE_OFFSET, NEXT_PID_OFFSET);
		return -ENOTSUP;
	}
	return bpf_program__set_autoload(prog, true) ?: bpf_program__set_autoload(flush, true);
}

int rt_offcpu__switch_id(unsigned long long *id)
{
	FILE *f = open_switch_file("id");
	int ok = f && fscanf(f, "%llu", id) == 1;

	if (f)
		fclose(f);
	if (!ok) {
		fprintf(stderr, "rt-bpf: --off-cpu: cannot read sched_switch's tracepoint id\n");
		return -ENOENT;
	}
	return 0;
}

int rt_offcpu__attach(const struct rt_perf_session *s, int prog_fd)
{
	unsigned long long id = 0;
	int link, err = rt_offcpu__switch_id(&id);

	if (err)
		return err;
	for (size_t i = 0; i < rt_perf_session__nr_events(s); i++) {
		const struct rt_perf_event *e = rt_perf_session__event(s, i);

		if (e->info.attr_type != PERF_TYPE_TRACEPOINT || e->info.config != id)
			continue;
		/* once: the tracepoint runs its programs for every hit, whichever
		 * of perf's per-CPU events they were linked through */
		link = bpf_link_create(prog_fd, e->fd, BPF_PERF_EVENT, NULL);
		if (link < 0) {
			fprintf(stderr, "rt-bpf: --off-cpu: linking the program to perf's sched_switch "
				"event: %s\n", strerror(errno));
			return -errno;
		}
		return link;
	}
	fprintf(stderr, "rt-bpf: --off-cpu: perf record %d has no " RT_OFFCPU_PERF_EVENT " event\n",
		(int)rt_perf_session__pid(s));
	return -ENOENT;
}

int rt_offcpu__flush(int link, int flush_fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	/* unlinked first: no interval is summed after the flush */
	if (link > 0)
		close(link);
	if (bpf_prog_test_run_opts(flush_fd, &run)) {
		fprintf(stderr, "rt-bpf: --off-cpu: writing the summed intervals at the end: %s\n",
			strerror(errno));
		return -errno;
	}
	return 0;
}

void rt_offcpu__print_stats(int stats_fd, int prog_fd, FILE *out)
{
	static const char *const names[RT_OFFCPU_STAT_MAX] = {
		[RT_OFFCPU_STAT_SWITCHES] = "switches out",
		[RT_OFFCPU_STAT_INTERVALS] = "intervals",
		[RT_OFFCPU_STAT_LOST] = "intervals lost",
		[RT_OFFCPU_STAT_ERRORS] = "intervals not written",
		[RT_OFFCPU_STAT_NS] = "off-CPU ms",
		[RT_OFFCPU_STAT_SAME_CHAIN] = "native chains reused",
		[RT_OFFCPU_STAT_SUMMED] = "intervals summed",
		[RT_OFFCPU_STAT_SUMS] = "sums",
		[RT_OFFCPU_STAT_EVICTED] = "threads evicted",
		[RT_OFFCPU_STAT_UNSEEN] = "switches in unseen",
	};
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (ncpu <= 0)
		return;
	fprintf(out, "rt-bpf: off-CPU:");
	for (__u32 k = 0; k < RT_OFFCPU_STAT_MAX; k++) {
		__u64 vals[ncpu], sum = 0;

		if (bpf_map_lookup_elem(stats_fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		if (k == RT_OFFCPU_STAT_NS)
			sum /= 1000000;
		fprintf(out, " %s=%llu%s", names[k], (unsigned long long)sum,
			k + 1 < RT_OFFCPU_STAT_MAX ? "," : "\n");
	}
	/* every switch of the system runs the program; walked ones cost more */
	if (!bpf_obj_get_info_by_fd(prog_fd, &info, &len) && info.run_cnt)
		fprintf(out, "rt-bpf: off-CPU program: %llu scheduler switches, mean %llu ns each\n",
			(unsigned long long)info.run_cnt,
			(unsigned long long)(info.run_time_ns / info.run_cnt));
}
