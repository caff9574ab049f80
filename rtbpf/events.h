/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf record -e EVENT: interpreter stacks on the samples of any perf
 * event.  Tracepoints and probes get the walker object's rt_event_tp or
 * rt_event_probe program (bpf/event.bpf.h), linked once per tracepoint;
 * software and hardware events sample and get rt_walker like cpu-clock.
 * USDT events (sdt_PROVIDER:NAME) need the file that defines them in
 * perf's build-id cache and a probe (perf probe -x FILE sdt_PROVIDER:NAME),
 * removed again at the end.
 */
#ifndef RT_RTBPF_EVENTS_H
#define RT_RTBPF_EVENTS_H

#include <bpf/libbpf.h>
#include <sys/types.h>

#include "rtbpf/perfsession.h"

/* -e options: one of perf's extra events is kept for --off-cpu */
#define RT_EVENTS_MAX (RT_PERF_MAX_EXTRA_EVENTS - 1)

/*
 * For each USDT event among @events (NULL-terminated), finds the file
 * that defines its provider (a stapsdt note) among @cmd's executable
 * (looked up on PATH) and the libraries it needs, or among the files
 * process @pid maps, and defines the probe for perf (see above) unless
 * tracefs has the event already.  Returns 0, or
 * -errno after printing one line naming the event.
 */
int rt_events__setup_usdt(const char *const *events, const char *const *cmd, pid_t pid);

/* Removes the probes rt_events__setup_usdt defined. */
void rt_events__cleanup(void);

/* Marks the event programs for loading (between skeleton open and load). */
int rt_events__prepare(struct bpf_program *tp_prog, struct bpf_program *probe_prog);

/*
 * Links @tp_fd to one of session @s's events of each tracepoint other than
 * @skip_config (the off-CPU program's), or @probe_fd when the tracepoint is
 * a probe.  Link fds go to @links (at most @max).  Returns how many, or
 * -errno after printing why.
 */
int rt_events__attach(const struct rt_perf_session *s, int tp_fd, int probe_fd,
		      unsigned long long skip_config, int *links, size_t max);

#endif
