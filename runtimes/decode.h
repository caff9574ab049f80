/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Decoder for the records rt-bpf's walker writes (bpf/record.h) into perf's
 * bpf-output samples.  Feed it every such sample's RAW payload in perf.data
 * order (time order); code records update its symbol table, stack records
 * come back as interpreter stacks with names, files and line numbers.  It
 * never needs the target process: everything it knows came in records.
 * The input is untrusted: a malformed record gives -EINVAL and is counted.
 */
#ifndef RT_RUNTIMES_DECODE_H
#define RT_RUNTIMES_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rt_interp_frame.flags */
#define RT_INTERP_FRAME_ENTRY      (1u << 0) /* first frame run by a new eval-loop C frame
					      * (_PyEval_EvalFrameDefault; before 3.11 every
					      * frame, 3.12+ the frame after a shim): rtmerge splices
					      * each group of frames, from an ENTRY frame up to
					      * the next one, at one eval-loop native frame */
#define RT_INTERP_FRAME_NO_SYMBOLS (1u << 1) /* no symbol record for this code object */
#define RT_INTERP_FRAME_NO_LINE    (1u << 2) /* line unknown (line is 0) */
#define RT_INTERP_FRAME_LINE_PENDING (1u << 3) /* with NO_LINE: the line table's
					      * pieces have not all come yet;
					      * rt_interp_decoder__line may know it later */

struct rt_interp_frame {
	const char *function; /* co_qualname (co_name if empty); borrowed until __free */
	const char *file;     /* co_filename; borrowed until __free */
	int line;             /* 0 if unknown */
	unsigned int flags;   /* RT_INTERP_FRAME_* */
	/* With RT_INTERP_FRAME_LINE_PENDING: the record's frame, to look up again. */
	struct rt_interp_frame_key {
		uint64_t code;
		uint32_t lasti, rec_flags;
		uint32_t rec_runtime; /* RT_REC_RUNTIME_* */
	} key;
};

/* rt_interp_stack.flags */
#define RT_INTERP_STACK_TRUNCATED  (1u << 0) /* deeper than the walker's limit: root-side
					      * frames are missing (frames[0] is not the root) */
#define RT_INTERP_STACK_INCOMPLETE (1u << 1) /* the walk stopped at a read fault */
#define RT_INTERP_STACK_NO_SYMBOLS (1u << 2) /* some frame has RT_INTERP_FRAME_NO_SYMBOLS */

struct rt_interp_stack {
	uint32_t pid, tid;
	int runtime;        /* enum rt_runtime (layouts/layout.h) */
	size_t nr_frames;
	const struct rt_interp_frame *frames; /* root first; valid until the next __feed */
	unsigned int flags; /* RT_INTERP_STACK_* */
};

struct rt_interp_decoder_stats {
	uint64_t stacks;        /* stack records decoded */
	uint64_t code_records;  /* code (symbol) records taken in */
	uint64_t bad_records;   /* records rejected with -EINVAL */
	uint64_t frames;        /* frames returned */
	uint64_t unknown_frames;/* frames returned without symbols */
	uint64_t truncated;     /* stacks with RT_INTERP_STACK_TRUNCATED */
	uint64_t incomplete;    /* stacks with RT_INTERP_STACK_INCOMPLETE */
	uint64_t chunks;        /* stack chunk records (deep stacks) taken in */
	uint64_t missing_chunks;/* stacks cut (truncated) where a chunk never came */
	uint64_t newer_records; /* records of a newer format version than this
				 * decoder reads (among bad_records) */
	uint32_t newer_version; /* the newest such version seen */
};

struct rt_interp_decoder;

/* Creates an empty decoder.  Returns NULL and sets errno on failure. */
struct rt_interp_decoder *rt_interp_decoder__new(void);

/*
 * Takes one bpf-output RAW payload (@raw, @size bytes, padding allowed)
 * sampled from task @pid/@tid (pass UINT32_MAX to skip the check against
 * the record's own ids).  Returns 1 and fills @out for a stack record,
 * 0 for another valid record (symbol data, kept), -EINVAL for a malformed
 * record or one that contradicts @pid/@tid, -ENOMEM.  @out's frames array
 * is owned by the decoder and valid until the next call; its strings until
 * rt_interp_decoder__free().
 */
int rt_interp_decoder__feed(struct rt_interp_decoder *dec, const void *raw, size_t size,
			    uint32_t pid, uint32_t tid, struct rt_interp_stack *out);

/*
 * The line of frame @f of process @pid, which a stack record gave with
 * RT_INTERP_FRAME_LINE_PENDING, as the code records and pieces taken in
 * since then tell it: a function's first sample comes before its line
 * table's pieces.  0 when still unknown (pieces lost, or the code object
 * was replaced: its tag differs).
 */
int rt_interp_decoder__line(const struct rt_interp_decoder *dec, uint32_t pid,
			    const struct rt_interp_frame *f);

/* Copies the decoder's counters into @stats. */
void rt_interp_decoder__stats(const struct rt_interp_decoder *dec,
			      struct rt_interp_decoder_stats *stats);

/* Frees the decoder and every string it handed out.  NULL is a no-op. */
void rt_interp_decoder__free(struct rt_interp_decoder *dec);

#endif
