/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * walkerctl: the stack walker (bpf/walker.bpf.c) loaded and kept fed, for
 * every rt-bpf command that samples: the program sized for its channels,
 * the CPython and CRuby process trackers that configure it for each
 * interpreter process found (runtimes' inspection, layouts/), and process
 * discovery from kernel events with its /proc safety net, on a scanner
 * thread or in the caller's loop.  Where its samples come from (perf
 * record's events, or events rt-bpf opens itself) is the caller's business:
 * it links rt_walkerctl__program() to them and fills the channel map.
 */
#ifndef RT_WALKERCTL_H
#define RT_WALKERCTL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "bpf/walker.h"
#include "layouts/layout.h"
#include "bpf/process.h"

struct bpf_program;
struct rt_perf_prog_stats;
struct rt_walkerctl;

struct rt_walkerctl_opts {
	size_t sz;                      /* sizeof(struct rt_walkerctl_opts) */
	enum rt_process_scope scope;    /* which processes to walk */
	const pid_t *pids;              /* the roots of RT_PROCESS_PID and _TREE (copied) */
	size_t nr_pids;
	const struct rt_layout *layout; /* --layout's CPython layout, or NULL: layouts/' table */
	bool verbose;                   /* say which processes are walked */
	bool per_thread_channels;       /* channel map keyed by slot (tid_slots), not by CPU */
	bool keep_native;               /* the channel carries no native stack (call-graph=no) */
	unsigned int channel_slots;     /* channel map entries (highest CPU + 1 per CPU) */
	unsigned int tid_slots;         /* tid->slot map entries (per-thread channels) */
};

/*
 * Opens and loads the walker as @opts says, creates the process trackers
 * and starts discovery (its first full /proc scan included).  Returns the
 * walker, or NULL with errno set after saying why on stderr.
 */
struct rt_walkerctl *rt_walkerctl__load(const struct rt_walkerctl_opts *opts);
/* Stops the scanner and frees everything (links made by the caller are
 * the caller's).  NULL is a no-op. */
void rt_walkerctl__free(struct rt_walkerctl *ctl);

/* The program to link to sampling events, and the maps a caller fills:
 * the channel (BPF_MAP_TYPE_PERF_EVENT_ARRAY) and tid->slot map.  Borrowed. */
struct bpf_program *rt_walkerctl__program(const struct rt_walkerctl *ctl);
int rt_walkerctl__channel_fd(const struct rt_walkerctl *ctl);
int rt_walkerctl__tid_slots_fd(const struct rt_walkerctl *ctl);

/* Runs discovery on a thread of its own until stop.  Returns 0 or -errno. */
int rt_walkerctl__start_scanner(struct rt_walkerctl *ctl);
/* Stops that thread (waits for it).  Idempotent. */
void rt_walkerctl__stop_scanner(struct rt_walkerctl *ctl);
/* One round of discovery in the caller's thread, at most @max_ms long. */
void rt_walkerctl__discover(struct rt_walkerctl *ctl, int max_ms);
/* Interpreter processes configured so far. */
unsigned int rt_walkerctl__nr_interpreters(const struct rt_walkerctl *ctl);

/* The walker's counters summed over CPUs into @stat (RT_WALKER_STAT_MAX
 * entries).  Returns 0 or -errno. */
int rt_walkerctl__stats(const struct rt_walkerctl *ctl, __u64 *stat);
/* Prints the counters, run times and warnings rt-bpf ends with to @out;
 * @ps (may be NULL) is the kernel's statistics of the program. */
void rt_walkerctl__print_stats(const struct rt_walkerctl *ctl, const struct rt_perf_prog_stats *ps,
			       FILE *out);

/*
 * What every sampling command checks first: root, kernel BTF, the kernel's
 * features, and with @need_perf a perf binary ($PERF or on PATH).  Returns
 * 0, or -errno after one line on stderr saying what to do.
 */
int rt_walkerctl__preflight(bool need_perf);
/* Checks explicit targets: each must be a CPython or CRuby process the
 * walker can walk (with @layout, if given).  Returns 0 or -errno after
 * saying why. */
int rt_walkerctl__check_targets(const pid_t *pids, size_t nr, const struct rt_layout *layout);

#endif
