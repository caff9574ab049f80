/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attaching a BPF program to an unmodified `perf record`.
 *
 * rt_perf_session__find() locates a running perf record's events (with the
 * task_file iterator in bpf/perffd.bpf.c) and duplicates its file
 * descriptors; rt_perf_session__attach() puts perf's bpf-output events into
 * the caller's channel map and links the caller's SEC("perf_event") program
 * to perf's sampling events (perfsession.c); rt_perf_record() starts perf
 * itself, without a gap at the start (perfrun.c).  See docs/attach.md.
 *
 * What BPF code shares with it is in bpf/perffd.h (the iterator's record)
 * and bpf/record.h (the channel key, the target event's name).
 */
#ifndef RT_RTBPF_PERFSESSION_H
#define RT_RTBPF_PERFSESSION_H

#include "bpf/perffd.h"
#include "bpf/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Receives each error or notice, one line without a trailing newline. */
typedef void (*rt_perf_log_fn)(void *ctx, const char *msg);

enum rt_perf_event_role {
	RT_PERF_EVENT_OTHER,    /* dummy, tracepoint, counting...: left alone */
	RT_PERF_EVENT_SAMPLING, /* the program is linked to these */
	RT_PERF_EVENT_CHANNEL,  /* bpf-output: where the program writes */
};

/* One of perf's events, duplicated into this process. */
struct rt_perf_event {
	struct rt_perffd_record info; /* what the iterator saw */
	int fd;                       /* our duplicate of perf's fd */
	enum rt_perf_event_role role;
};

struct rt_perf_find_opts {
	size_t sz;
	pid_t perf_pid;        /* 0: the only perf record running */
	rt_perf_log_fn log;    /* NULL: messages go to stderr */
	void *log_ctx;
	bool allow_no_channel; /* find sessions without a bpf-output event too */
	/* A loaded iter/task_file program writing struct rt_perffd_record per
	 * perf file (bpf/perffd.bpf.h), whose object the caller loaded anyway;
	 * NULL: bpf/perffd.bpf.c is loaded for the search. */
	const struct bpf_program *perf_files;
};
#define rt_perf_find_opts__last_field perf_files

struct rt_perf_session;
struct bpf_program;

/*
 * Finds a running perf record (opts->perf_pid, or the only process named
 * perf* holding sampling perf events) and duplicates its perf fds.
 * Needs root and kernel BTF.  opts may be NULL.  Returns a session the
 * caller frees with rt_perf_session__free(), or NULL with errno set
 * (ESRCH no perf record, EEXIST several, ENOENT no bpf-output channel,
 * EPERM not root, ENOTSUP no BTF) after logging one line saying what to do.
 */
struct rt_perf_session *rt_perf_session__find(const struct rt_perf_find_opts *opts);

/*
 * Puts perf's bpf-output events into channel_map_fd (a
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY: key cpu for system-wide recording, key
 * slot for per-thread recording, which also fills tid_slot_map_fd, a hash
 * map struct rt_perf_channel_key -> __u32; pass -1 when perf records
 * system-wide) and links prog_fd (a perf_event program) to every sampling
 * event.  Links go away with this process, so perf never loses its samples
 * to a dead attacher.  Also turns on kernel BPF run-time statistics.
 * The fds stay the caller's.  Returns 0 or -errno (nothing left attached).
 */
int rt_perf_session__attach(struct rt_perf_session *s, int prog_fd, int channel_map_fd,
			    int tid_slot_map_fd);

/*
 * Removes the links and the channel map entries, and freezes the program
 * statistics.  Idempotent.  Returns 0 or -errno.
 */
int rt_perf_session__detach(struct rt_perf_session *s);

/* Detaches and frees everything, closing the duplicated fds.  NULL is a no-op. */
void rt_perf_session__free(struct rt_perf_session *s);

/*
 * Whether process @pid runs an installed perf: its executable is named
 * "perf" or "perf_VERSION" (Debian's versioned binary) and is owned by root
 * and writable by no one else.  A process merely named perf* (anyone can
 * name a process so) is not perf.
 */
bool rt_perf__is_perf(pid_t pid);

/* Whether tracefs has event @ev ("group:name": a tracepoint or a probe
 * defined already); false for other event syntax. */
bool rt_perf__is_trace_event(const char *ev);

/* perf's pid. */
pid_t rt_perf_session__pid(const struct rt_perf_session *s);

/* A pidfd for perf: poll() reports POLLIN when perf has exited.  Borrowed. */
int rt_perf_session__pidfd(const struct rt_perf_session *s);

/* true once perf has exited (non-blocking). */
bool rt_perf_session__perf_exited(const struct rt_perf_session *s);

/* Number of events and the i-th one (borrowed, valid until free). */
size_t rt_perf_session__nr_events(const struct rt_perf_session *s);
const struct rt_perf_event *rt_perf_session__event(const struct rt_perf_session *s, size_t i);
size_t rt_perf_session__nr_role(const struct rt_perf_session *s, enum rt_perf_event_role role);

/* true when perf's channels are per CPU (-a), false when per thread. */
bool rt_perf_session__system_wide(const struct rt_perf_session *s);

/*
 * Entries the channel map needs (max_entries): highest cpu + 1 for
 * system-wide, the number of per-thread channels otherwise.  Set it on
 * the caller's map between skeleton open and load.
 */
unsigned int rt_perf_session__channel_slots(const struct rt_perf_session *s);

/* Entries the tid->slot map needs (0 for system-wide). */
unsigned int rt_perf_session__tid_slot_entries(const struct rt_perf_session *s);

struct rt_perf_prog_stats {
	__u64 run_cnt;     /* program runs while attached */
	__u64 run_time_ns; /* kernel-measured time in those runs */
	bool valid;        /* false when statistics could not be turned on */
};

/*
 * Statistics of the attached program since attach (live while attached,
 * frozen at detach).  Returns 0 or -errno.
 */
int rt_perf_session__prog_stats(const struct rt_perf_session *s, struct rt_perf_prog_stats *out);

enum rt_perf_record_target {
	RT_PERF_RECORD_SYSTEM,  /* -a, until duration or SIGINT/SIGTERM */
	RT_PERF_RECORD_PID,     /* -p pid, per-thread channels */
	RT_PERF_RECORD_COMMAND, /* -a, then runs argv; see docs/attach.md */
	RT_PERF_RECORD_PROCESS, /* -a until pid exits: every thread, present and future */
};

enum rt_perf_call_graph {
	RT_PERF_CALL_GRAPH_FP,    /* -g */
	RT_PERF_CALL_GRAPH_DWARF, /* --call-graph dwarf */
	RT_PERF_CALL_GRAPH_NONE,
};

/*
 * Called once perf's events exist and before they are enabled: load and
 * attach here (rt_perf_session__attach).  target_pid is the process to
 * profile (0 for system-wide): a COMMAND is still waiting to exec, so
 * filtering on its pid loses nothing.  Return 0 to go on, -errno to abort.
 */
typedef int (*rt_perf_attach_fn)(struct rt_perf_session *s, pid_t target_pid, void *ctx);

struct rt_perf_record_opts {
	size_t sz;
	const char *perf;         /* perf binary; NULL: $PERF or "perf" */
	const char *output;       /* -o; NULL: perf.data */
	unsigned int freq;        /* -F; 0: 99 */
	enum rt_perf_call_graph call_graph;
	enum rt_perf_record_target target;
	pid_t pid;                /* RT_PERF_RECORD_PID */
	char *const *argv;        /* RT_PERF_RECORD_COMMAND, NULL-terminated */
	unsigned int duration_ms; /* 0: until the target ends or SIGINT/SIGTERM */
	const char *channel_name; /* name of the bpf-output event; NULL: "rt" */
	bool quiet;               /* send perf's stderr to /dev/null */
	rt_perf_attach_fn attach;
	void *attach_ctx;
	rt_perf_log_fn log;
	void *log_ctx;
	/* COMMAND and PROCESS: name the target in perf.data with a dummy event
	 * called RT_PERF_TARGET_PREFIX "PID" (it never samples), so readers can
	 * keep to the target's process tree; see docs/attach.md. */
	bool mark_target;
	/* Record perf's callchain in the bpf-output samples too (-g on the
	 * channel).  Default: call-graph=no, for programs that keep perf's
	 * native samples and only add data to them. */
	bool channel_callchain;
	/* More events for perf (-e EVENT each, with the same call graph),
	 * NULL-terminated, at most RT_PERF_MAX_EXTRA_EVENTS. */
	const char *const *extra_events;
	/* RT_PERF_CALL_GRAPH_DWARF: bytes of user stack perf copies per
	 * sample (--call-graph dwarf,SIZE; a multiple of 8, at most
	 * RT_PERF_DWARF_STACK_MAX); 0: RT_PERF_DWARF_STACK_DEFAULT. */
	unsigned int dwarf_stack_size;
	/* Called with attach_ctx once the recording is over and before perf
	 * is told to stop (perf still records what it writes), if attach
	 * succeeded. */
	void (*before_stop)(void *attach_ctx);
	/* --exclude-perf after each extra event that tracefs has (a tracepoint
	 * or probe): perf's own hits are not sampled.  perf's writes of its
	 * file hit syscalls:sys_enter_write, each such sample is written
	 * again, and under load that loop fills perf's buffer until samples
	 * and stack records of the target are lost (tests/e2e/event_counts.sh). */
	bool exclude_perf;
	/* perf's ring buffer per CPU in KiB (-m NK); 0: perf's default
	 * (516 KiB for root).  A tracepoint has no sampling rate: a burst of
	 * hits (a loop of writes) while perf waits for the CPU overflows the
	 * default buffer, and its samples and stack records are lost. */
	unsigned int mmap_kib;
	/* rt_perf_find_opts.perf_files for finding perf's events */
	const struct bpf_program *perf_files;
};
#define rt_perf_record_opts__last_field perf_files
#define RT_PERF_MAX_EXTRA_EVENTS 8
/* perf's own limit: the sample's size field is 16 bits */
#define RT_PERF_DWARF_STACK_MAX 65528u
/* Not perf's 8 KiB: an interpreter's native stack (eval loops, a Ruby
 * block's C frames) is deeper, and at 8 KiB most samples of real programs
 * end short of the entry; 32 KiB reached it on all of them (README). */
#define RT_PERF_DWARF_STACK_DEFAULT 32768u

struct rt_perf_record_result {
	int perf_status;              /* wait status of perf */
	int target_status;            /* wait status of the COMMAND, -1 otherwise */
	int exec_errno;               /* why the COMMAND could not be run (execvp), or 0 */
	bool target_stopped;          /* the recording ended first (duration, perf's exit)
				       * and stopped the COMMAND */
	struct rt_perf_prog_stats stats;
	char output[4096];            /* absolute path of perf.data */
};

/*
 * Runs perf record -D -1 --control fd:... -k mono -e cpu-clock -F freq
 * [-g|--call-graph dwarf] -e bpf-output/no-inherit,name=NAME/ -o output
 * (-a | -p pid) [-e dummy/name=rt-target-PID/], waits for its events, calls opts->attach, enables perf,
 * waits for the target, the duration or SIGINT/SIGTERM (blocked meanwhile
 * and handled here), stops perf with SIGINT and waits for it.  Fills res
 * (may be NULL).  Returns 0, or -errno after logging why (-EIO: perf
 * failed, its wait status decoded).  A COMMAND that could not be run is
 * said by its process and is no error here: see res->exec_errno.
 */
int rt_perf_record(const struct rt_perf_record_opts *opts, struct rt_perf_record_result *res);

/*
 * Parses `perf version` output ("perf version 6.1.192") into
 * major*1000+minor.  Returns it, or -EINVAL.
 */
int rt_perf_version__parse(const char *text);

/* The oldest perf rt_perf_record() works with (--control ping, -D -1). */
#define RT_PERF_MIN_VERSION 5013

/* How long a command rt-bpf ran may take to end on the signal that ended
 * the recording (its own cleanup) before it is killed. */
#define RT_BPF_STOP_WAIT_MS 5000

/* Whether a signal to rt-bpf reached command @pid too: @from_terminal (its
 * si_code was SI_KERNEL: a terminal's Ctrl-C, sent to the foreground
 * process group) and @pid in rt-bpf's process group.  Passed on a second
 * time, it would cut the command's own handling of the first short. */
bool rt_bpf__signal_reached(pid_t pid, bool from_terminal);

/* Ignores SIGPIPE in rt-bpf (a write to a perf that died is an EPIPE to
 * say, not a signal that kills rt-bpf before it cleans up), remembering
 * how it was for the commands rt-bpf runs. */
void rt_bpf__ignore_sigpipe(void);

/* execvp() of a command rt-bpf runs (record, trace, async, top -- CMD),
 * with SIGPIPE as rt-bpf was started with.  Returns -errno when the exec
 * failed. */
int rt_bpf__execvp(char *const argv[]);

#endif /* RT_RTBPF_PERFSESSION_H */
