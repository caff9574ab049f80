/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hashes behind the project's tables: FNV-1a over bytes and strings,
 * and a mixer for 64-bit keys (the finalizer of MurmurHash3).
 */
#ifndef RT_PERFGLUE_HASH_H
#define RT_PERFGLUE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>

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

/*
 * A per-process secret for tables whose keys come from input (addresses,
 * event ids): the kernel's AT_RANDOM bytes, mixed, so a crafted perf.data
 * cannot aim its keys at one slot (rt_hash64 alone is a known bijection,
 * easy to invert).
 */
static inline uint64_t rt_hash_secret(void)
{
	static uint64_t secret;

	if (!secret) {
		const void *r = (const void *)getauxval(AT_RANDOM);
		uint64_t w[2] = { 0, 0 };

		if (r)
			memcpy(w, r, sizeof(w));   /* 16 bytes, not aligned */
		secret = rt_hash64(w[0] ^ rt_hash64(w[1])) | 1;
	}
	return secret;
}

/* rt_hash64 of key under the process's secret. */
static inline uint64_t rt_hash64_keyed(uint64_t x)
{
	return rt_hash64(x ^ rt_hash_secret());
}

#endif
