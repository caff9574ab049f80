/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For the symbol table harnesses: looks every loaded symbol up again and
 * names it, then looks up an address that depends on all of them; returns
 * a sum the harness keeps, so that no lookup is optimised away.
 */
#ifndef RT_FUZZ_SYMTAB_LOOKUPS_H
#define RT_FUZZ_SYMTAB_LOOKUPS_H

#include <stdint.h>
#include <string.h>

#include "symbolize/symtab.h"

static inline uint64_t symtab_lookups(struct rt_symtab *t)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->nr; i++) {
		int32_t at = rt_symtab__find(t, t->syms[i].start);

		if (at >= 0)
			sum += strlen(rt_symtab__name(t, (size_t)at));
	}
	return sum + (uint64_t)rt_symtab__find(t, sum);
}

#endif
