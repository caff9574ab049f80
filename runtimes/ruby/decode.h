/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CRuby records (RT_REC_RUBY_CODE, stack records of RT_REC_RUBY_RUNTIME),
 * for runtimes/decode.c's dispatch: internal to runtimes/.  Same contract as
 * rt_interp_decoder__feed (decode.h): untrusted input, -EINVAL for a
 * malformed record.
 */
#ifndef RT_RUNTIMES_RUBY_DECODE_H
#define RT_RUNTIMES_RUBY_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "runtimes/decode.h"

struct rt_ruby_decoder;

/*
 * Takes one RT_REC_RUBY_CODE record (@size bytes at @raw, already checked
 * to have a valid header) seen in a sample of @pid (UINT32_MAX: any).
 * Creates *@dec on first use.  Returns 0, -EINVAL or -ENOMEM; counts into
 * @stats.
 */
int rt_ruby_decoder__take_code(struct rt_ruby_decoder **dec, const void *raw, size_t size,
			       uint32_t pid, struct rt_interp_decoder_stats *stats);

/*
 * Takes one stack record of runtime RT_REC_RUNTIME_RUBY.  Returns 1 and
 * fills @out (frames owned by *@dec, valid until its next call; strings
 * until it is freed), -EINVAL or -ENOMEM.
 */
int rt_ruby_decoder__take_stack(struct rt_ruby_decoder **dec, const void *raw, size_t size,
				uint32_t pid, uint32_t tid, struct rt_interp_stack *out,
				struct rt_interp_decoder_stats *stats);

/* Frees @dec.  NULL is a no-op. */
void rt_ruby_decoder__free(struct rt_ruby_decoder *dec);

/*
 * Line of bytecode position @pos in a CRuby line table: @info holds
 * @nr_entries insn_info entries of @entry_size bytes with the int line at
 * @line_offset; @index (@index_len bytes, kind RT_REC_RUBY_INDEX_*) maps
 * positions to entries (@succ_immediate, @succ_block_size describe the
 * succinct form).  Returns the line (> 0), 0 when unknown or cut off,
 * -EINVAL when the table is malformed.
 */
int rt_ruby_linetable__line(const uint8_t *info, size_t nr_entries, size_t entry_size,
			    size_t line_offset, unsigned int index_kind, const uint8_t *index,
			    size_t index_len, unsigned int succ_immediate,
			    unsigned int succ_block_size, uint32_t pos);

#endif
