// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CPU time of N round trips of a byte between two threads over pipes
 * (two context switches each when both run on one CPU) while one of
 * switch_hook.bpf.o's programs is on the scheduler's switch:
 *   switch_hook none|perf|btf|raw OBJ N      (prints CPU seconds)
 * perf: a tracepoint perf event on sched:sched_switch per CPU, sampling
 * every switch with callchains as rt-bpf's perf record does, the program
 * linked to it (its 0 drops the sample); btf, raw: the program attached as
 * a BTF raw tracepoint or a raw tracepoint.  The process's CPU time (user
 * and system) is counted from the first round trip: the switches' cost,
 * the hook's included, is charged to the threads that switch.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int to_peer[2], to_main[2];
static long trips;

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void *peer(void *arg)
{
	char c;

	(void)arg;
	for (long i = 0; i < trips; i++)
		if (read(to_peer[0], &c, 1) != 1 || write(to_main[1], &c, 1) != 1)
			break;
	return NULL;
}

/* perf's sched_switch events, one per CPU, the program linked to the
 * first (a tracepoint runs its programs at every hit, whichever event
 * they were linked through). */
static int attach_perf(struct bpf_program *prog)
{
	unsigned long long id = 0;
	FILE *f = fopen("/sys/kernel/tracing/events/sched/sched_switch/id", "re");
	int ncpu = libbpf_num_possible_cpus();

	if (!f || fscanf(f, "%llu", &id) != 1) {
		fprintf(stderr, "switch_hook: no sched_switch id in tracefs\n");
		return -1;
	}
	fclose(f);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr a = {
			.type = PERF_TYPE_TRACEPOINT, .size = sizeof(a), .config = id,
			.sample_period = 1,
			.sample_type = PERF_SAMPLE_RAW | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_TID |
				       PERF_SAMPLE_TIME,
		};
		int fd = syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0 || (cpu == 0 && !bpf_program__attach_perf_event(prog, fd))) {
			perror("switch_hook: perf event");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	pthread_t t;
	char name[16], c = 'x';
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: switch_hook none|perf|btf|raw OBJ N\n");
		return 2;
	}
	trips = atol(argv[3]);
	if (strcmp(argv[1], "none")) {
		snprintf(name, sizeof(name), "hook_%s", argv[1]);
		obj = bpf_object__open_file(argv[2], NULL);
		prog = obj ? bpf_object__find_program_by_name(obj, name) : NULL;
		if (!prog || bpf_program__set_autoload(prog, true) || bpf_object__load(obj)) {
			fprintf(stderr, "switch_hook: cannot load %s from %s\n", name, argv[2]);
			return 1;
		}
		if (!strcmp(argv[1], "perf") ? attach_perf(prog) : !bpf_program__attach(prog)) {
			fprintf(stderr, "switch_hook: cannot attach %s\n", name);
			return 1;
		}
	}
	if (pipe(to_peer) || pipe(to_main) || pthread_create(&t, NULL, peer, NULL))
		return 1;
	t0 = cpu_s();
	for (long i = 0; i < trips; i++)
		if (write(to_peer[1], &c, 1) != 1 || read(to_main[0], &c, 1) != 1)
			return 1;
	pthread_join(t, NULL);
	printf("%.4f\n", cpu_s() - t0);
	bpf_object__close(obj);
	return 0;
}
