/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perflive: perf events rt-bpf opens itself (no perf record, no perf.data),
 * through libperf, streamed as perf's pipe format so that the same reader
 * and merge that read `perf record -o -` consume them live.
 *
 * One evlist, per CPU: cpu-clock sampling at a frequency with callchains
 * (and the MMAP2/COMM/FORK records that name code), and a bpf-output event
 * for the stack walker's records (call-graph none, as rt-bpf record opens
 * its channel).  Both share one ring per CPU (libperf's perf_evlist__mmap),
 * carry PERF_SAMPLE_IDENTIFIER and use CLOCK_MONOTONIC.  The stream is
 * the pipe header, the event attributes with their ids and names (an
 * rt-target-PID dummy naming the target, as rt-bpf record writes it),
 * records synthesized from /proc for processes that exist already, then
 * the rings' records, each pass ended by FINISHED_ROUND.
 */
#ifndef RT_PERFLIVE_H
#define RT_PERFLIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rt_perf_live;

struct rt_perf_live_opts {
	size_t sz;              /* sizeof(struct rt_perf_live_opts) */
	unsigned int freq;      /* samples per second per CPU; 0: 99 */
	bool user_only;         /* no kernel frames */
	unsigned int pages;     /* ring size per CPU in pages (a power of two); 0: 256 */
};

/* Lost counts from the kernel's LOST and LOST_SAMPLES records. */
struct rt_perf_live_stats {
	uint64_t records;       /* records streamed */
	uint64_t samples;       /* ... of which samples */
	uint64_t lost;          /* records the rings had no room for */
	uint64_t lost_samples;
};

/*
 * Opens the events on every online CPU, disabled, and maps their rings.
 * Returns the live session, or NULL with errno set (EACCES/EPERM without
 * the privilege, ENOENT without the events).
 */
struct rt_perf_live *rt_perf_live__open(const struct rt_perf_live_opts *opts);
/* Disables and closes everything; NULL is a no-op. */
void rt_perf_live__close(struct rt_perf_live *live);

/* The CPUs the events are open on: their number, and CPU number @idx. */
int rt_perf_live__nr_cpus(const struct rt_perf_live *live);
int rt_perf_live__cpu(const struct rt_perf_live *live, int idx);
/* The sampling (cpu-clock) and channel (bpf-output) event fds of CPU index
 * @idx; borrowed: for a BPF program's link and its channel map. */
int rt_perf_live__sampling_fd(const struct rt_perf_live *live, int idx);
int rt_perf_live__channel_fd(const struct rt_perf_live *live, int idx);

/*
 * Writes the stream's start to @fd: the pipe header and the attributes
 * with their ids and names; with @target_pid > 0 also the dummy event
 * naming it (RT_PERF_TARGET_PREFIX).  Returns 0 or -errno.
 */
int rt_perf_live__write_header(struct rt_perf_live *live, int fd, pid_t target_pid);

/*
 * Writes COMM records for the threads and MMAP2 records for the executable
 * mappings of process @pid, or of every process when @pid is -1, as they
 * are in /proc now (time 0: before any sample).  Processes that vanish
 * meanwhile are skipped.  Returns 0 or -errno (the write failed).
 */
int rt_perf_live__synthesize(struct rt_perf_live *live, int fd, pid_t pid);

/* Starts sampling.  Returns 0 or -errno. */
int rt_perf_live__enable(struct rt_perf_live *live);
/* Stops sampling (the rings keep what they hold). */
void rt_perf_live__disable(struct rt_perf_live *live);

/*
 * Waits up to @timeout_ms for data, then copies every ring's records to
 * @fd and ends the pass with FINISHED_ROUND.  Returns the number of
 * records copied, or -errno (-EPIPE: the reader went away).
 */
int rt_perf_live__pump(struct rt_perf_live *live, int fd, int timeout_ms);

/* Counters so far (from any thread). */
void rt_perf_live__stats(const struct rt_perf_live *live, struct rt_perf_live_stats *out);

#endif
