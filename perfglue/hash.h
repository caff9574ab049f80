/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hashes behind the project's tables: FNV-1a over bytes and strings,
 * and a mixer for 64-bit keys (the finalizer of MurmurHash3).
 */
#ifndef RT_PERFGLUE_HASH_H
#define RT_PERFGLUE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RT_HASH_SEED 1469598103934665603ULL /* FNV-1a offset basis */

static inline uint64_t rt_hash_bytes(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	while (len--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static inline uint64_t rt_hash_str(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static inline uint64_t rt_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif
