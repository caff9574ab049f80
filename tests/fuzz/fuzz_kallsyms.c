/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer harness for the kallsyms parser, which reads digits and names
 * eight and sixteen bytes at a time: the text is given in a buffer of
 * exactly its size (AddressSanitizer sees any read past it), then every
 * symbol is looked up and named.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/symtab.h"
#include "tests/fuzz/symtab_lookups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile uint64_t sink;  /* keeps the lookups */
	struct rt_symtab t;
	char *text = malloc(size ? size : 1);
	uint64_t sum = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	memset(&t, 0, sizeof(t));
	if (!rt_symtab__parse_kallsyms(&t, text, size, false))
		sum = symtab_lookups(&t);
	rt_symtab__exit(&t);
	sink += sum;
	return 0;
}
