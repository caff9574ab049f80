/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython records (RT_REC_CODE, stack records of RT_REC_RUNTIME_CPYTHON),
 * for runtimes/decode.c's dispatch: internal to runtimes/ but for the line
 * table readers, which tests use directly.  Same contract as
 * rt_interp_decoder__feed (runtimes/decode.h): untrusted input, -EINVAL for
 * a malformed record.
 */
#ifndef RT_RUNTIMES_PYTHON_DECODE_H
#define RT_RUNTIMES_PYTHON_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtimes/decode.h"

struct rt_python_decoder;

/*
 * Takes one RT_REC_CODE record (@size bytes at @raw, already checked to
 * have a valid header) seen in a sample of @pid (UINT32_MAX: any).
 * Creates *@dec on first use.  Returns 0, -EINVAL or -ENOMEM; counts into
 * @stats.
 */
int rt_python_decoder__take_code(struct rt_python_decoder **dec, const void *raw, size_t size,
				 uint32_t pid, struct rt_interp_decoder_stats *stats);

/*
 * Takes one stack record of runtime RT_REC_RUNTIME_CPYTHON.  Returns 1 and
 * fills @out (frames owned by *@dec, valid until its next call; strings
 * until it is freed), -EINVAL or -ENOMEM.
 */
int rt_python_decoder__take_stack(struct rt_python_decoder **dec, const void *raw, size_t size,
				  uint32_t pid, uint32_t tid, struct rt_interp_stack *out,
				  struct rt_interp_decoder_stats *stats);

/* Frees @dec and every string it handed out.  NULL is a no-op. */
void rt_python_decoder__free(struct rt_python_decoder *dec);

/*
 * Line number for code unit @lasti in a CPython 3.11 location table
 * (co_linetable) of a code object starting at line @firstlineno.  Returns
 * the line (> 0), 0 when the table has no line for it or is cut short
 * before it, -EINVAL when the table is malformed before reaching it.
 */
int rt_interp_linetable311__line(const uint8_t *table, size_t len, int firstlineno,
				 uint32_t lasti);

/*
 * Line number for byte offset @lasti in a co_lnotab (CPython <= 3.9) of a
 * code object starting at @firstlineno; @signed_lines: line increments are
 * signed bytes (3.6+).  @lasti -1 (not started) gives @firstlineno.
 * Returns the line, or 0 when it is not positive.
 */
int rt_interp_lnotab__line(const uint8_t *table, size_t len, int firstlineno, int32_t lasti,
			   bool signed_lines);

/*
 * Line number for code unit @lasti in a CPython 3.10 co_linetable.
 * Returns the line, or 0 when the table has none for it or ends before it.
 */
int rt_interp_linetable310__line(const uint8_t *table, size_t len, int firstlineno, int32_t lasti);

#endif /* RT_RUNTIMES_PYTHON_DECODE_H */
