/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the CPython (python/decode.c) and CRuby (ruby/decode.c) record decoders
 * share, internal to runtimes/: interned strings, a table of code entries
 * keyed by (pid, address), and the runtime-independent parts of turning a stack
 * record into a struct rt_interp_stack.
 */
#ifndef RT_RUNTIMES_DECODE_COMMON_H
#define RT_RUNTIMES_DECODE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtimes/decode.h"
#include "bpf/record.h"

/* Strings kept until the table is freed, one copy of each. */
struct rt_string_table {
	char **slots;
	size_t cap, used; /* open addressing, power of two */
};

/* Makes @t empty.  Returns 0 or -ENOMEM. */
int rt_string_table__init(struct rt_string_table *t);

/* Returns the table's copy of @s (valid until __exit), or NULL when out of
 * memory. */
const char *rt_string_table__intern(struct rt_string_table *t, const char *s);

/* Frees every string.  A zeroed table is a no-op. */
void rt_string_table__exit(struct rt_string_table *t);

/* How every entry of a struct rt_code_table starts. */
struct rt_code_key {
	uint64_t addr; /* code object (iseq, method entry) address in the process */
	uint32_t pid;
	bool used;
};

/* Entries of @entry_size bytes, each starting with struct rt_code_key;
 * entries move when the table grows. */
struct rt_code_table {
	unsigned char *slots;
	size_t entry_size;
	size_t cap, used; /* open addressing, power of two */
};

/* Makes @t empty, for entries of @entry_size bytes.  Returns 0 or -ENOMEM. */
int rt_code_table__init(struct rt_code_table *t, size_t entry_size);

/* The entry for @addr in process @pid, or NULL. */
void *rt_code_table__find(const struct rt_code_table *t, uint32_t pid, uint64_t addr);

/* The entry for @addr in process @pid; a new one is zeroed but for its key.
 * Returns NULL when out of memory.  Valid until the next insert. */
void *rt_code_table__insert(struct rt_code_table *t, uint32_t pid, uint64_t addr);

/* Calls @exit_entry (if not NULL) on each entry, then frees the table.  A
 * zeroed table is a no-op. */
void rt_code_table__exit(struct rt_code_table *t, void (*exit_entry)(void *entry));

/* What every runtime's decoder keeps. */
struct rt_runtime_decoder {
	struct rt_code_table codes;     /* its code objects, by (pid, address) */
	struct rt_string_table strings; /* kept until the decoder is freed, so handed-out
					 * pointers stay valid when a code object's
					 * record is replaced */
	struct rt_code_table chunks;    /* deep stacks' chunks, by (pid, id) */
	struct rt_rec_frame deep[RT_REC_MAX_DEPTH];      /* the last stack's record frames,
							  * chunks expanded */
	struct rt_interp_frame frames[RT_REC_MAX_DEPTH]; /* the last stack's */
};

/*
 * One runtime's record decoding, as runtimes/decode.c reaches it through
 * the runtime table (runtimes/runtime.h).  The take functions get records
 * whose header is checked (@size: the header's size), seen in a sample of
 * @pid/@tid (UINT32_MAX: any), and follow rt_interp_decoder__feed's
 * contract: take_code returns 0, take_stack 1 with @out filled (frames
 * in @dec->frames), both -EINVAL or -ENOMEM, counting into @stats.
 */
struct rt_decoding {
	uint32_t code_type;     /* enum rt_rec_type of its code records */
	uint32_t stack_runtime; /* RT_REC_RUNTIME_* of its stack records */
	size_t entry_size;      /* its code table's entries, each starting with
				 * struct rt_code_key */
	void (*exit_entry)(void *entry); /* frees what an entry holds; may be NULL */
	int (*take_code)(struct rt_runtime_decoder *dec, const void *raw, size_t size,
			 uint32_t pid, struct rt_interp_decoder_stats *stats);
	int (*take_stack)(struct rt_runtime_decoder *dec, const void *raw, size_t size,
			  uint32_t pid, uint32_t tid, struct rt_interp_stack *out,
			  struct rt_interp_decoder_stats *stats);
	/* RT_REC_CODE_PIECE records of its runtime (copied out, size checked);
	 * NULL: they are skipped */
	int (*take_piece)(struct rt_runtime_decoder *dec, const struct rt_rec_code_piece *rec,
			  uint32_t pid);
	/* The line of @key's frame in @pid now, 0 unknown; NULL: no pieces */
	int (*line)(const struct rt_runtime_decoder *dec, uint32_t pid,
		    const struct rt_interp_frame_key *key);
};

/* Creates an empty decoder for @d's records.  Returns NULL when out of
 * memory. */
struct rt_runtime_decoder *rt_runtime_decoder__new(const struct rt_decoding *d);

/* Frees @dec (made for @d) and every string it handed out.  NULL is a
 * no-op. */
void rt_runtime_decoder__free(struct rt_runtime_decoder *dec, const struct rt_decoding *d);

/*
 * Checks the stack record @rec (copied out; @size bytes of it are there)
 * of runtime @runtime taken in a sample of @pid/@tid (UINT32_MAX: any):
 * 0 with its RT_INTERP_STACK_* flags in *@flags, or -EINVAL.
 */
int rt_rec_stack__check(const struct rt_rec_stack *rec, size_t size, uint32_t runtime,
			uint32_t pid, uint32_t tid, unsigned int *flags);

/*
 * Takes the stack chunk record @raw (@size bytes, header checked) seen in a
 * sample of @pid (UINT32_MAX: any) into @dec.  Returns 0, -EINVAL or
 * -ENOMEM.
 */
int rt_runtime_decoder__take_chunk(struct rt_runtime_decoder *dec, const void *raw, size_t size,
				   uint32_t pid, struct rt_interp_decoder_stats *stats);

/*
 * The frames of stack record @rec (its header copied out; @raw the whole
 * record, checked by rt_rec_stack__check), leaf first, with a chunk
 * reference replaced by the chunks it names: *@frames points into @dec
 * (valid until the next call) and *@n counts them.  A chunk @dec never got
 * cuts the stack there, marked RT_INTERP_STACK_TRUNCATED in *@sflags.
 * Returns 0 or -EINVAL (a malformed reference).
 */
int rt_rec_stack__frames(struct rt_runtime_decoder *dec, const struct rt_rec_stack *rec,
			 const void *raw, const struct rt_rec_frame **frames, size_t *n,
			 unsigned int *sflags, struct rt_interp_decoder_stats *stats);

/*
 * A record's repeated frames (a deep recursion repeats one code object at
 * one instruction thousands of times) looked up and given their lines once:
 * one memo per record, on the decoder's stack, zeroed, keyed by the
 * frame's code address, instruction and flags (the tables do not change
 * while one record is decoded).
 */
#define RT_FRAME_MEMO 8 /* a power of two */
struct rt_frame_memo {
	uint64_t code;
	uint32_t lasti, flags;
	const void *entry;  /* the code table's entry; NULL: not looked up */
	int line;
};

/* The memo slot of frame @f: slot->entry is set and slot->line holds when
 * it remembers @f, else the caller looks @f up and fills the slot. */
static inline struct rt_frame_memo *rt_frame_memo__slot(struct rt_frame_memo *memo,
							  const struct rt_rec_frame *f, bool *hit)
{
	struct rt_frame_memo *slot =
		&memo[(f->code ^ (f->code >> 12) ^ f->lasti) & (RT_FRAME_MEMO - 1)];

	*hit = slot->entry && slot->code == f->code && slot->lasti == f->lasti &&
	       slot->flags == f->flags;
	return slot;
}

/* Marks @frame, whose line is unknown while its code's line table lacks
 * pieces, for rt_interp_decoder__line: record frame @f of @rec_runtime. */
static inline void rt_interp_frame__line_pending(struct rt_interp_frame *frame,
						 const struct rt_rec_frame *f, uint32_t rec_runtime)
{
	frame->flags |= RT_INTERP_FRAME_LINE_PENDING;
	frame->key = (struct rt_interp_frame_key){ f->code, f->lasti, f->flags, rec_runtime };
}

/* Names @frame @function in @file at @line (0 or less: unknown). */
void rt_interp_frame__set(struct rt_interp_frame *frame, const char *function, const char *file,
			  int line);

/* Names @frame @function, with no symbols for it; marks the stack's @flags
 * and counts it in @stats. */
void rt_interp_frame__set_unknown(struct rt_interp_frame *frame, const char *function,
				  unsigned int *flags, struct rt_interp_decoder_stats *stats);

/*
 * Fills @out for stack record @rec: its @nr_frames @frames of @runtime,
 * with @flags (RT_INTERP_STACK_*), and counts it in @stats.  Returns 1, as
 * a decoder's feed does for a stack.
 */
int rt_interp_stack__finish(struct rt_interp_stack *out, const struct rt_rec_stack *rec,
			    int runtime, const struct rt_interp_frame *frames, size_t nr_frames,
			    unsigned int flags, struct rt_interp_decoder_stats *stats);

#endif
