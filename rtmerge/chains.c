/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/chains.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rt_chains__add(struct rt_chains *c, const uint32_t *ids, uint32_t n, uint32_t *chain)
{
	if (c->nr + 1 + (uint64_t)n >= RT_CHAIN_BIT)
		return -ENOMEM;
	if (c->nr + 1 + n > c->cap) {
		uint32_t cap = c->cap ? c->cap : 1024;
		uint32_t *p;

		while (cap < c->nr + 1 + n)
			cap *= 2;
		p = realloc(c->ids, (size_t)cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->ids = p;
		c->cap = cap;
	}
	*chain = RT_CHAIN_BIT | c->nr;
	c->ids[c->nr] = n;
	memcpy(c->ids + c->nr + 1, ids, n * sizeof(*ids));
	c->nr += 1 + n;
	return 0;
}

uint32_t rt_chains__expand(const struct rt_chains *c, const uint32_t *in, uint32_t n,
			   uint32_t *out, uint32_t max)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n && k < max; i++) {
		const uint32_t *chain;

		if (!rt_chains__is_chain(in[i])) {
			out[k++] = in[i];
			continue;
		}
		chain = c->ids + (in[i] & ~RT_CHAIN_BIT);
		for (uint32_t j = 0; j < chain[0] && k < max; j++)
			out[k++] = chain[1 + j];
	}
	return k;
}

void rt_chains__exit(struct rt_chains *c)
{
	free(c->ids);
	memset(c, 0, sizeof(*c));
}
