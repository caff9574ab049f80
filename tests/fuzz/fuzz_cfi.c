/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer harness for unwind/'s untrusted-input parsers: the CFI compiler
 * (input as .eh_frame and as .debug_frame, then lookups) and the prologue
 * analysis (input as machine code).
 */
#include <stdint.h>
#include <stdlib.h>

#include "unwind/cfi.h"
#include "unwind/prologue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rt_prologue *prologue; /* the disassembler is costly to open */
	struct rt_cfi_table t = { 0 };
	struct rt_cfi_row row;
	enum rt_unwind_how how;
	volatile uint64_t sum = 0;

	for (int eh = 0; eh < 2; eh++) {
		if (rt_cfi_table__add_section(&t, data, size, 0x1000, eh))
			abort(); /* only -ENOMEM is an error, and inputs are small */
		rt_cfi_table__finish(&t);
		for (size_t i = 0; i < t.nr; i++) {
			const struct rt_cfi_row *r = rt_cfi_table__find(&t, t.rows[i].pc);
			if (!r || r->pc > t.rows[i].pc)
				abort();
			sum += r->cfa_off + r->off[RT_CFI_RA];
		}
		for (uint64_t pc = 0; pc < 0x3000; pc += 0x101)
			if (rt_cfi_table__find(&t, pc))
				sum++;
		/* The lazy table: every row it returns covers the address asked. */
		struct rt_cfi_table lz = { 0 };
		if (rt_cfi_table__set_lazy(&lz) || rt_cfi_table__add_section(&lz, data, size, 0x1000, eh))
			abort();
		rt_cfi_table__finish(&lz);
		for (size_t i = 0; i < t.nr; i++) {
			uint64_t pc = t.rows[i].pc;
			const struct rt_cfi_row *r = rt_cfi_table__find(&lz, pc);
			if (r && (pc < r->pc || pc - r->pc >= r->len))
				abort();
		}
		for (uint64_t pc = 0; pc < 0x3000; pc += 0x101)
			if (rt_cfi_table__find(&lz, pc))
				sum++;
		rt_cfi_table__exit(&lz);
		rt_cfi_table__exit(&t);
	}
	if (!prologue)
		prologue = rt_prologue__new();
	if (prologue && size)
		for (size_t pc = 0; pc < size && pc < 64; pc += 3)
			if (!rt_prologue__analyze(prologue, data, size, 0x4000, 0x4000 + pc, &row, &how))
				sum += row.cfa_off;
	(void)sum;
	return 0;
}
