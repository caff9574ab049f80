/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What rt-bpf's subcommands share: the application state (the walker, the
 * process trackers, discovery), the subcommand table's entry type, and the
 * steps every subcommand takes (preflight, loading and attaching the walker,
 * discovery, statistics).  main.c parses the global flags and dispatches to
 * one struct rt_bpf_cmd; a new subcommand is one file defining its entry
 * plus one line in main.c's table (and its declaration below).
 */
#ifndef RT_RTBPF_RTBPF_H
#define RT_RTBPF_RTBPF_H

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rtbpf/perfsession.h"
#include "runtimes/process.h"

struct walker_bpf;
struct rt_layout;
struct rt_discovery;
struct rt_dsocache;
struct rt_runtime_tracker;
struct rt_task_tracer;

/* Room for a tracker per entry of the runtime table (runtimes/runtime.h). */
#define RT_BPF_MAX_RUNTIMES 8

struct rt_bpf_app {
	/* global flags, set by main.c before the subcommand runs */
	enum rt_process_scope scope;
	pid_t pids[64];                 /* -p */
	size_t nr_pids;
	bool verbose;                   /* -v */
	const struct rt_layout *layout; /* --layout FILE: used instead of layouts/' table */
	/* record's --off-cpu (rtbpf/offcpu.c) and -e EVENT (rtbpf/events.c):
	 * events[] holds the -e events, then off-CPU's, NULL-terminated */
	bool off_cpu;
	const char *events[RT_PERF_MAX_EXTRA_EVENTS + 1];
	size_t nr_events;
	/* record's --tasks (rtbpf/tasks.c): the target's task steps */
	bool tasks;
	struct rt_task_tracer *task_tracer;

	/* state, torn down by rt_bpf_app__free() */
	struct walker_bpf *skel;
	struct rt_image_cache *image_cache;   /* ELF files' symbols, for every tracker */
	struct rt_runtime_tracker *trackers[RT_BPF_MAX_RUNTIMES]; /* one per runtime */
	size_t nr_trackers;
	struct rt_discovery *discovery;       /* process events; NULL: /proc polling */
	bool discovery_opened;                /* rt_bpf_app__open_discovery ran */
	pthread_t scanner;
	bool scanner_running;
	volatile bool stop;
	unsigned int nr_python;               /* interpreter processes configured (Python and Ruby) */
	unsigned int nr_ruby;                 /* ... of which Ruby */
	uint64_t lost;                        /* events lost so far */
	uint64_t next_scan_ms;                /* CLOCK_MONOTONIC of the next full scan */
	struct rt_dsocache *dsocache;         /* container files being cached; NULL: none yet */
	uint64_t next_dsocache_ms;            /* ... and the next look at them */
	int offcpu_link;                      /* > 0: rt_offcpu linked */
	int event_links[RT_PERF_MAX_EXTRA_EVENTS];
	int nr_event_links;
};

/*
 * One subcommand.  main.c parses the global flags (-p, -v, -h, --layout)
 * and hands the subcommand's own (shortopts, longopts) to option(), with
 * opts pointing to opts_size zeroed bytes that init() filled with defaults.
 * check() sees the operands left after the options; run() does the work.
 */
struct rt_bpf_cmd {
	const char *name;
	const char *synopsis;          /* usage line(s) after "rt-bpf " */
	const char *help;              /* its paragraph of --help */
	const char *shortopts;         /* getopt letters of its own options */
	const struct option *longopts; /* its own long options, { 0 }-terminated */
	size_t opts_size;
	void (*init)(void *opts);
	/* One of its options: 0, or -EINVAL after saying why (exit 2). */
	int (*option)(void *opts, int c, const char *arg);
	/* The operands: 0, or -EINVAL after saying why (exit 2). */
	int (*check)(struct rt_bpf_app *app, void *opts, int argc, char **argv);
	/* 0, -errno after saying why (exit 1), or a positive exit status of
	 * its own (record -- CMD: the command's).  rt_bpf_app__free() follows. */
	int (*run)(struct rt_bpf_app *app, void *opts, int argc, char **argv);
};

extern const struct rt_bpf_cmd rt_bpf_cmd_attach; /* rtbpf/attach.c */
extern const struct rt_bpf_cmd rt_bpf_cmd_record; /* rtbpf/record.c */
extern const struct rt_bpf_cmd rt_bpf_cmd_top;    /* rtbpf/top.c */
extern const struct rt_bpf_cmd rt_bpf_cmd_async;  /* rtbpf/async.c */
extern const struct rt_bpf_cmd rt_bpf_cmd_trace;  /* rtbpf/trace.c */

/* ---- app.c: the steps every subcommand takes ---- */

/* Writes one line of rtperf's libraries to stderr (an rt_perf_log_fn). */
void rt_bpf__log_line(void *ctx, const char *msg);

/*
 * Checks root, kernel BTF, the kernel's features and (@need_perf) that perf
 * can be run, saying what to do about the first that is missing.  Returns
 * 0 or -errno.
 */
int rt_bpf__preflight(bool need_perf);

/*
 * Checks that @file, a command to run, is found on PATH as execvp() will
 * look for it and may be executed, saying "cannot run FILE: why" when
 * not: a command that cannot start must fail before perf and the BPF
 * programs do.  Returns 0 or -errno.
 */
int rt_bpf__check_command(const char *file);

/*
 * The exit status rt-bpf passes on for a command it ran and that ended
 * with wait status @wstatus: its own, or 128+signal as a shell says it,
 * saying which on stderr when not 0.
 */
int rt_bpf__command_status(int wstatus);

/*
 * Ending a command rt-bpf ran, so that none is left running: the signal
 * passed on to it, then SIGKILL once it has had its time or at the next
 * signal to rt-bpf (a second Ctrl-C).  The caller waits for it as it
 * needs to (trace goes on reading its records meanwhile) and asks
 * rt_bpf_stop__due() as it goes.
 */
struct rt_bpf_stop {
	uint64_t due_ms; /* CLOCK_MONOTONIC */
	pid_t pid;
	int sig;
	int signals; /* the caller's count of signals received, at the start */
	bool started, killed;
};

/* Sends @sig to @pid, unless @from_terminal (the signal's si_code was
 * SI_KERNEL: a terminal's Ctrl-C) reached it already, and starts its time
 * of @wait_ms; @signals is the caller's count of the signals rt-bpf has
 * received. */
void rt_bpf_stop__begin(struct rt_bpf_stop *s, pid_t pid, int sig, int wait_ms, int signals,
			bool from_terminal);

/* SIGKILLs the command when its time is over or @signals (the count now)
 * moved, saying so as @who (NULL: silent).  True once it was killed. */
bool rt_bpf_stop__due(struct rt_bpf_stop *s, int signals, const char *who);

/*
 * Checks -p @*pid for rt-bpf's mode @who ("rt-bpf", "rt-bpf trace"): the
 * id of a thread becomes its process's (top and ps show threads' ids too;
 * probes, the walker's tables and pidfd_open() are per process), said with
 * @verb ("recording", "tracing"); an id that names no thread, or a process
 * that has exited and is not yet reaped (a zombie: its memory is gone), is
 * said and refused.  Returns 0 or -ESRCH.
 */
int rt_bpf__target_process(pid_t *pid, const char *who, const char *verb);

/*
 * Parses @arg, a decimal number from @min to @max and nothing else (no
 * sign, no space, no suffix), into @value.  Returns 0 or -EINVAL, saying
 * nothing: the caller names the option.
 */
int rt_bpf__parse_number(const char *arg, unsigned long min, unsigned long max,
			 unsigned long *value);

/* Reads --layout's file (docs/layouts.md).  Returns a pointer to static
 * storage, or NULL after saying why. */
const struct rt_layout *rt_bpf__read_layout(const char *path);

/* What the walker is loaded for: where its samples come from. */
struct rt_bpf_walker_opts {
	bool per_thread_channels;   /* channel map keyed by slot (perf -p), not by CPU */
	bool keep_native;           /* the channel's samples carry no native stack */
	unsigned int channel_slots; /* channel map entries: highest CPU + 1, or slots */
	unsigned int tid_slots;     /* tid->slot map entries (per-thread channels) */
};

/*
 * Opens and loads the walker as @wo says, and starts the process trackers
 * and discovery; the caller links app->skel->progs.rt_walker to its
 * sampling events and fills the channel map.  Returns 0 or -errno after
 * saying why; app keeps what was made either way.
 */
int rt_bpf_app__load(struct rt_bpf_app *app, const struct rt_bpf_walker_opts *wo);

/*
 * Opens and loads the walker sized for perf session @s, starts the process
 * trackers and discovery, and attaches the walker to perf's events.
 * Returns 0 or -errno after saying why; app keeps what was made either way.
 */
int rt_bpf_app__load_and_attach(struct rt_bpf_app *app, struct rt_perf_session *s);

/* Stops the scanner, frees discovery, the trackers, the image cache and
 * the walker. */
void rt_bpf_app__free(struct rt_bpf_app *app);

/* ---- targets.c: finding and configuring interpreter processes ---- */

/* Checks the explicit -p targets up front (a wrong pid is a user error);
 * a thread's id is replaced with its process's, saying so.  Returns 0 or
 * -errno after saying why. */
int rt_bpf_app__check_targets(struct rt_bpf_app *app);

/* What the walker supports, from the runtime table: "CPython 2.7 and
 * 3.6-3.15 and Ruby ...", into @buf of @size bytes (cut to fit). */
void rt_bpf__runtime_versions(char *buf, size_t size);

/* Makes the image cache and a tracker per runtime (-p or every process)
 * that configure the walker's maps as processes come and go.  Returns 0
 * or -errno. */
int rt_bpf_app__new_trackers(struct rt_bpf_app *app);

/* Loads and attaches the discovery programs (once; app->discovery stays
 * NULL if the kernel has none, said on stderr): process events queue up
 * from then on, read once discovery starts. */
void rt_bpf_app__open_discovery(struct rt_bpf_app *app);

/* Starts discovery: kernel events (opening them if not yet), then a full
 * /proc scan. */
void rt_bpf_app__start_discovery(struct rt_bpf_app *app);

/* The longest one round of discovery waits: a stop flag is seen by then. */
#define RT_BPF_DISCOVER_MAX_MS 100

/* One round of discovery, at most @max_ms long: applies process events,
 * runs due retries and full scans. */
void rt_bpf_app__discover(struct rt_bpf_app *app, int max_ms);

/* Runs discovery in a thread until rt_bpf_app__stop_scanner().  Returns 0
 * or -errno. */
int rt_bpf_app__start_scanner(struct rt_bpf_app *app);
void rt_bpf_app__stop_scanner(struct rt_bpf_app *app);

/* ---- stats.c ---- */

/* The walker's counters summed over CPUs into @stat (RT_WALKER_STAT_MAX
 * entries).  Returns 0 or -errno. */
int rt_bpf_app__stats(const struct rt_bpf_app *app, __u64 *stat);

/* What the summary's warnings know of the run (rt_bpf_app__print_stats). */
enum rt_bpf_stats_flags {
	RT_BPF_STATS_LIVE = 1 << 0,      /* top: a view, no perf.data */
	RT_BPF_STATS_NO_TARGET = 1 << 1, /* perf failed or the command never ran: finding no
					  * interpreter is no news */
};

/* Prints the walker's counters, its run time (@ps: the kernel's figures,
 * may be NULL) and a line for each problem they show (@flags: enum
 * rt_bpf_stats_flags). */
void rt_bpf_app__print_stats(const struct rt_bpf_app *app, const struct rt_perf_prog_stats *ps,
			     unsigned int flags);

#endif /* RT_RTBPF_RTBPF_H */
