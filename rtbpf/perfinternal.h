/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal to rtbpf/perfsession.c and rtbpf/perfrun.c: reading
 * size-versioned options structs (libbpf's way) and logging through the
 * caller's callback.
 */
#ifndef RT_RTBPF_PERFINTERNAL_H
#define RT_RTBPF_PERFINTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rtbpf/perfsession.h"

#define offsetofend_(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Reads an opts field only if the caller's struct (sz) is big enough to hold it. */
#define OPT(opts, field, dflt)                                                           \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field) \
		 ? (opts)->field : (dflt))

/* true when @opts (NULL is fine) can be read: sz holds at least its own
 * field, and every byte past the @known ones is zero. */
static inline bool opts_valid(const void *opts, size_t sz, size_t known)
{
	const unsigned char *p = opts;

	if (!opts)
		return true;
	if (sz < sizeof(size_t))
		return false;
	/* A newer caller's extra fields must be zero for us to ignore them. */
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

/* Formats one line and hands it to @fn (stderr when NULL). */
void rt_perf__logf(rt_perf_log_fn fn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* RT_RTBPF_PERFINTERNAL_H */
