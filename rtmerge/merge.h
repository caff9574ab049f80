/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge: perf.data samples to aggregated, symbolized stacks.
 *
 * Reads every record through the perf.data reader, keeps the address space
 * of each process, names each callchain entry (kernel, ELF files, JIT maps)
 * following stackcollapse-perf.pl's conventions, and counts stacks.
 */
#ifndef RT_MERGE_H
#define RT_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perfglue/perfdata.h"
#include "rtmerge/offcpu.h"
#include "rtmerge/stacks.h"
#include "symbolize/symbolize.h"

enum rt_merge_frames {
	RT_MERGE_FRAMES_ALL = 0,    /* native and interpreter frames, spliced */
	RT_MERGE_FRAMES_NATIVE,     /* native frames only */
	RT_MERGE_FRAMES_INTERP,     /* interpreter frames only (plus the comm root) */
};

struct rt_merge_opts {
	size_t sz;                  /* sizeof(struct rt_merge_opts) */
	bool include_pid;           /* root "comm-PID" */
	bool include_tid;           /* root "comm-PID/TID" */
	bool annotate_kernel;       /* kernel frames get "_[k]" */
	bool annotate_jit;          /* JIT frames get "_[j]" */
	bool include_addrs;         /* unresolved frames show "[dso <addr>]" */
	bool by_period;             /* count = summed period instead of samples */
	const char *event;          /* only samples of this event name; NULL = automatic */
	const uint32_t *pids;       /* only these pids (nr_pids == 0: all) */
	size_t nr_pids;
	const uint32_t *tids;       /* only these tids */
	size_t nr_tids;
	const char *comm;           /* only threads with this comm */
	enum rt_merge_frames frames;
	FILE *per_sample;           /* when set, one "tid time stack" line per sample */
	const struct rt_symbolizer_opts *symbolizer;
	/* Fold every process even when the recording names its target (rt-bpf
	 * record -p or -- CMD); by default only the target's process tree. */
	bool all_processes;
	/* Interpreter frames "func (file.py)" without the line: one frame per
	 * function instead of one per line. */
	bool no_lines;
	/* Functions inlined at a native address (from the file's DWARF) as
	 * frames of their own, as perf script shows them. */
	bool inline_frames;
	/* Called as a user-space native frame is named (once per address and
	 * maps generation, not per sample): its text, the file its code came
	 * from and that file's build id (NULL when none is known).  The pprof
	 * output's mappings come from here. */
	void (*on_native_frame)(void *ctx, const char *frame, const char *path,
				const uint8_t *build_id, size_t build_id_size);
	void *ctx;
	/* What is counted: on-CPU samples (default), off-CPU intervals, wall
	 * clock (both), samples of GIL holders (rtmerge/offcpu.h). */
	enum rt_merge_view view;
	/* A tracepoint field whose value becomes the leaf frame "FIELD=VALUE"
	 * (libtraceevent, the recording's formats); NULL: none. */
	const char *leaf_field;
};

/* Counters for the summary. */
struct rt_merge_stats {
	uint64_t samples;           /* samples turned into stacks */
	uint64_t filtered;          /* samples skipped by event/pid/comm filters */
	uint64_t other_processes;   /* samples of processes outside the recorded target */
	uint32_t target_pid;        /* the recorded target (0: none named) */
	uint64_t collapsed_frames;  /* repeats of an unresolved frame folded into one */
	uint64_t target_processes;  /* processes in its tree */
	uint64_t frames;
	uint64_t unresolved[RT_SYMBOL_NR_STATUS];
	uint64_t unresolved_no_map; /* address outside every known map */
	uint64_t empty_callchains;
	uint64_t interp_samples;        /* samples with interpreter frames */
	uint64_t interp_incomplete;     /* ... whose walk was truncated or faulted */
	uint64_t interp_native_mismatch;/* ... whose native chain lacked eval-loop frames */
	uint64_t interp_frames;
	uint64_t interp_frames_no_symbols;
	uint64_t bad_interp_records;    /* bpf-output payloads the decoder rejected */
	uint64_t code_records;          /* bpf-output samples that carried names, not a stack */
	uint64_t offcpu_records;        /* bpf-output samples that carried an off-CPU interval */
	uint64_t stack_only_records;    /* stack records without a native stack, for the native
					 * sample perf kept after them */
	uint64_t unpaired_records;      /* ... whose native sample never came or did not match */
	uint64_t same_chain_records;    /* off-CPU stack records joined to their thread's
					 * previous switch sample (RT_REC_STACK_SAME_CHAIN) */
	uint64_t same_chain_missing;    /* ... whose thread had none to join */
	uint64_t empty_records;         /* bpf-output samples without a payload */
	uint64_t unwound_samples;       /* user stacks unwound from REGS_USER + STACK_USER */
	uint64_t unwound_to_entry;      /* ... down to _start or the thread's start */
	uint64_t unwind_failed;         /* copies that gave no frame (callchain used) */
	uint64_t unwind_stops[8];       /* by enum rt_unwind_stop */
	uint64_t late_lines;            /* interpreter frames (function, instruction) given
					 * their line at the end (their line table's pieces
					 * came after them) */
	uint64_t names_sanitized;       /* frame names with control characters replaced */
	uint64_t inlined_frames;        /* frames of inlined functions (--inline) */
	uint64_t task_records;          /* bpf-output samples that carried an async task's step */
	uint64_t task_frames;           /* samples given a [task] frame */
	uint64_t task_frames_unanchored;/* ... put under the root: no event loop or poll frame */
	uint64_t task_returns_restored; /* stack copies inside a step unwound knowing the
					 * step function's real return address (the
					 * uretprobe's trampoline stands there in the copy) */
	uint64_t task_after_return;     /* samples of a step's thread after the step
					 * function returned (by their stack pointer),
					 * before the step's end record */
};

struct rt_merge;

/* Returns a merger or NULL with errno set.  opts may be NULL. */
struct rt_merge *rt_merge__new(const struct rt_merge_opts *opts);
void rt_merge__free(struct rt_merge *merge);

/*
 * Processes every record of reader.  Returns 0, -errno when the input is
 * malformed (rt_perf_reader__error() says where) or memory runs out, or
 * RT_MERGE_NO_EVENT.
 */
int rt_merge__run(struct rt_merge *merge, struct rt_perf_reader *reader);
/* rt_merge__run's answer when the recording has no event opts.event names
 * (it said so, naming the events it has). */
#define RT_MERGE_NO_EVENT 1

/* What a stack's weight counts under @opts (NULL: the defaults), for an
 * output to name: "microseconds" (the time views), "period" (--period)
 * or "samples". */
const char *rt_merge__weight_unit(const struct rt_merge_opts *opts);

/* The aggregated stacks; borrowed until free. */
const struct rt_stacks *rt_merge__stacks(const struct rt_merge *merge);
const struct rt_merge_stats *rt_merge__stats(const struct rt_merge *merge);
/* The event whose samples were used (NULL before run). */
const char *rt_merge__event_name(const struct rt_merge *merge);
/* The times (perf's clock, ns) of the first and the last sample read that
 * had one; false when none had. */
bool rt_merge__sample_times(const struct rt_merge *merge, uint64_t *first, uint64_t *last);

/* rtmerge's exit status when it folded a recording cut short. */
#define RT_MERGE_EXIT_CUT 3

/*
 * Prints one warning when the recording read by reader was cut short
 * (perf killed, file truncated, pipe cut): the input's name, the offset
 * where its complete records end and the bytes lost.  Returns true when it
 * was cut, false (printing nothing) for a whole recording.
 */
bool rt_merge__print_cut(const struct rt_perf_reader *reader, const char *name, FILE *out);

/* Prints the end-of-run summary (samples, lost, unresolved by reason). */
void rt_merge__print_summary(const struct rt_merge *merge, const struct rt_perf_reader *reader,
			     FILE *out);

#endif
