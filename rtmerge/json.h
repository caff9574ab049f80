/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json: the string escaping the JSON outputs share.  Frame names come from
 * the profiled programs (function names, file names, thread names), so any
 * byte may arrive: the output stays valid JSON and valid UTF-8 whatever they
 * hold.
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * Writes s[0..len) as a quoted JSON string: '"' and '\' escaped, control
 * characters (and DEL) as \u00XX, U+2028/U+2029 as \u2028/\u2029 (so the
 * text is also a JavaScript literal), each byte that is not part of valid
 * UTF-8 (stray continuation bytes, overlong forms, surrogates, values past
 * U+10FFFF, cut sequences) as U+FFFD.  Returns 0 or -EIO.
 */
int rt_json__put_string(FILE *out, const char *s, size_t len);

#endif
