/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython records (RT_REC_CODE, stack records of RT_REC_RUNTIME_CPYTHON),
 * reached through the runtime table (runtimes/runtime.h) by runtimes/
 * decode.c's dispatch; the line table readers are here for the tests.
 */
#ifndef RT_RUNTIMES_PYTHON_DECODE_H
#define RT_RUNTIMES_PYTHON_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtimes/decode.h"

struct rt_decoding;

/* CPython's record decoding, for the runtime table (runtimes/runtime.c). */
extern const struct rt_decoding rt_python_decoding;

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
