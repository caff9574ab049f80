/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CRuby records (RT_REC_RUBY_CODE, stack records of RT_REC_RUNTIME_RUBY),
 * reached through the runtime table (runtimes/runtime.h) by runtimes/
 * decode.c's dispatch; the line table reader is here for the tests.
 */
#ifndef RT_RUNTIMES_RUBY_DECODE_H
#define RT_RUNTIMES_RUBY_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "runtimes/decode.h"

struct rt_decoding;

/* CRuby's record decoding, for the runtime table (runtimes/runtime.c). */
extern const struct rt_decoding rt_ruby_decoding;

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
