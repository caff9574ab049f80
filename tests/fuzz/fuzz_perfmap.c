/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer harness for the perf map parser (/tmp/perf-PID.map, which any
 * local user can write): load, then look up and name what loaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "symbolize/symtab.h"
#include "tests/fuzz/symtab_lookups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile uint64_t sink;  /* keeps the lookups */
	struct rt_symtab t;
	FILE *f = fmemopen((void *)data, size, "r");
	uint64_t sum = 0;

	if (!f)
		return 0;
	memset(&t, 0, sizeof(t));
	if (!rt_symtab__load_perf_map(&t, f))
		sum = symtab_lookups(&t);
	rt_symtab__exit(&t);
	fclose(f);
	sink += sum;
	return 0;
}
