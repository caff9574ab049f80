/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * utf8: validation for the outputs whose readers require UTF-8 text (JSON,
 * protobuf strings); names from profiled programs may hold any byte.
 */
#ifndef RT_UTF8_H
#define RT_UTF8_H

#include <stddef.h>

/*
 * The length (1-4) of the valid UTF-8 sequence at s, of which n bytes are
 * available, or 0 when the bytes there are none (stray continuation bytes,
 * overlong forms, surrogates, values past U+10FFFF, a cut sequence).
 */
size_t rt_utf8__sequence(const unsigned char *s, size_t n);

/*
 * Copies s[0..len) into out (room for 3 * len + 1 bytes) with each byte
 * that is not part of valid UTF-8 replaced by U+FFFD, NUL-terminated.
 * Returns the length written.
 */
size_t rt_utf8__repair(const char *s, size_t len, char *out);

#endif
