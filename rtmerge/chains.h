/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chains: one address standing for several frames.
 *
 * With inlined functions shown (--inline), one return address is a chain
 * of frames: the inlined callees and the function holding them.  rtmerge's
 * caches map an address to one frame id; a chain gets an id with
 * RT_CHAIN_BIT set instead, and a sample's frames are expanded once they
 * are all named.
 */
#ifndef RT_CHAINS_H
#define RT_CHAINS_H

#include <stdbool.h>
#include <stdint.h>

#define RT_CHAIN_BIT 0x80000000u

struct rt_chains {
	uint32_t *ids;      /* per chain: its length, then its frame ids, leaf first */
	uint32_t nr, cap;
};

/* Stores the frames @ids[0..n) (leaf first) as one chain; *chain is its id
 * (RT_CHAIN_BIT set).  0 or -ENOMEM. */
int rt_chains__add(struct rt_chains *c, const uint32_t *ids, uint32_t n, uint32_t *chain);

/* True when frame id @id stands for a chain. */
static inline bool rt_chains__is_chain(uint32_t id)
{
	return id & RT_CHAIN_BIT;
}

/*
 * Copies @in[0..n) to @out (at most @max ids), each chain replaced by its
 * frames.  Returns the number written.
 */
uint32_t rt_chains__expand(const struct rt_chains *c, const uint32_t *in, uint32_t n,
			   uint32_t *out, uint32_t max);

void rt_chains__exit(struct rt_chains *c);

#endif
