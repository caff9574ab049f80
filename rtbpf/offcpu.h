/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf record --off-cpu: the loader's side of bpf/offcpu.bpf.h.  perf
 * records sched:sched_switch with callchains (RT_OFFCPU_PERF_EVENT); the
 * walker object's rt_offcpu program is linked to one of perf's events for
 * it (a tracepoint's programs run for every hit, whichever event they were
 * linked through) and decides which of its samples perf keeps.  (The
 * walker finds CPython's GIL and CRuby's GVL from the layouts:
 * runtimes/python/inspect.c, bpf/ruby_walk.bpf.h.)
 */
#ifndef RT_RTBPF_OFFCPU_H
#define RT_RTBPF_OFFCPU_H

#include <bpf/libbpf.h>
#include <stdio.h>

#include "rtbpf/perfsession.h"
#include "bpf/walker.h"

/* The perf event rt-bpf record adds for --off-cpu. */
#define RT_OFFCPU_PERF_EVENT "sched:sched_switch"

/*
 * Checks that the kernel's sched_switch record has the fields where the
 * program reads them (tracefs format) and marks @prog (rt_offcpu) and
 * @flush (rt_offcpu_flush) for loading.  Call between the skeleton's open
 * and load.  Returns 0, or -errno after printing one line saying why.
 */
int rt_offcpu__prepare(struct bpf_program *prog, struct bpf_program *flush);

/* sched_switch's tracepoint id (perf's attr.config) into @id; 0 or -errno. */
int rt_offcpu__switch_id(unsigned long long *id);

/*
 * Links program @prog_fd to one of session @s's sched_switch events.
 * Returns a link fd (closing it detaches), or -errno after printing why.
 */
int rt_offcpu__attach(const struct rt_perf_session *s, int prog_fd);

/*
 * The end of an off-CPU recording, before perf stops: closes link @link
 * (from rt_offcpu__attach; <= 0: none) and runs program @flush_fd
 * (rt_offcpu_flush) once, which writes the intervals still summed into
 * perf's channel.  Returns 0, or -errno after printing why.
 */
int rt_offcpu__flush(int link, int flush_fd);

/*
 * Prints the off-CPU counters of per-CPU map @stats_fd and the program's
 * mean run time per scheduler switch (kernel BPF statistics of @prog_fd).
 */
void rt_offcpu__print_stats(int stats_fd, int prog_fd, FILE *out);

#endif
