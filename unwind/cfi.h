/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cfi: DWARF call frame information (.eh_frame, .debug_frame) compiled into
 * a compact table for x86_64.  Internal to unwind/; exposed for the unit test
 * and the fuzzer.
 *
 * Parsing runs every FDE's CFA program once and keeps one row per address
 * range with the CFA rule and the rules of the registers an unwinder needs
 * (rbx, rbp, r12-r15 and the return address).  A lookup is a binary search.
 */
#ifndef RT_UNWIND_CFI_H
#define RT_UNWIND_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DWARF register numbers on x86_64. */
enum {
	RT_DWARF_RAX = 0, RT_DWARF_RDX, RT_DWARF_RCX, RT_DWARF_RBX, RT_DWARF_RSI,
	RT_DWARF_RDI, RT_DWARF_RBP, RT_DWARF_RSP, RT_DWARF_R8, RT_DWARF_R9,
	RT_DWARF_R10, RT_DWARF_R11, RT_DWARF_R12, RT_DWARF_R13, RT_DWARF_R14,
	RT_DWARF_R15, RT_DWARF_RIP, RT_DWARF_NREGS,
};

enum rt_cfi_cfa_kind {
	RT_CFI_CFA_NONE = 0,   /* no usable rule (unsupported expression) */
	RT_CFI_CFA_REG,        /* CFA = reg + off */
	RT_CFI_CFA_DEREF,      /* CFA = *(reg + off) (stack realignment, signal frames) */
	RT_CFI_CFA_PLT,        /* CFA = rsp + off + ((rip & 15) >= reg ? 8 : 0) */
};

enum rt_cfi_rule_kind {
	RT_CFI_RULE_SAME = 0,  /* unspecified or same value: the callee did not touch it */
	RT_CFI_RULE_UNDEF,     /* undefined: for the return address, the outermost frame */
	RT_CFI_RULE_OFFSET,    /* saved at CFA + off */
	RT_CFI_RULE_VAL_OFFSET,/* value is CFA + off */
	RT_CFI_RULE_OTHER,     /* a rule this unwinder does not evaluate */
};

/* Tracked registers: slots in struct rt_cfi_row. */
enum { RT_CFI_RBX, RT_CFI_RBP, RT_CFI_R12, RT_CFI_R13, RT_CFI_R14, RT_CFI_R15, RT_CFI_RA,
       RT_CFI_NSLOTS };

struct rt_cfi_row {
	uint64_t pc;           /* ELF virtual address of the first byte covered */
	uint32_t len;          /* bytes covered */
	int32_t cfa_off;
	uint8_t cfa_kind;      /* enum rt_cfi_cfa_kind */
	uint8_t cfa_reg;       /* DWARF register (PLT: the rip threshold) */
	uint8_t kind[RT_CFI_NSLOTS];
	int16_t off[RT_CFI_NSLOTS];
};

struct rt_cfi_lazy;

struct rt_cfi_table {
	struct rt_cfi_row *rows;
	size_t nr, alloc;
	size_t nr_fdes, nr_bad;    /* FDEs compiled, entries skipped as malformed */
	size_t merge_floor;        /* rows below this index belong to other FDEs */
	struct rt_cfi_lazy *lazy;  /* set by rt_cfi_table__set_lazy() */
};

/* DWARF register number of a tracked slot. */
int rt_cfi__slot_dwarf_reg(int slot);

/*
 * Parse one CFI section and append its rows to table.  data/size is the
 * section's contents, vaddr its address in the ELF file (for pc-relative
 * pointers); eh_frame selects .eh_frame rules (else .debug_frame).
 * Malformed entries are skipped and counted.  Returns 0 or -ENOMEM.
 * Call rt_cfi_table__finish() once all sections are added.
 */
int rt_cfi_table__add_section(struct rt_cfi_table *table, const uint8_t *data, size_t size,
			      uint64_t vaddr, bool eh_frame);

/* Sort the rows for lookups.  Returns 0. */
int rt_cfi_table__finish(struct rt_cfi_table *table);

/*
 * Lazy mode, chosen before the first rt_cfi_table__add_section(): adding a
 * section only indexes its FDEs (address ranges), and each FDE's rows are
 * compiled the first time a lookup lands in it.  A process touches a few
 * hundred of a library's thousands of functions, so this saves most of the
 * parsing.  The section bytes must then stay valid until
 * rt_cfi_table__exit().  Returns 0 or -ENOMEM.
 */
int rt_cfi_table__set_lazy(struct rt_cfi_table *table);

/* The row covering pc, or NULL.  Borrowed from the table until the next
 * lookup (a lazy table may grow). */
const struct rt_cfi_row *rt_cfi_table__find(struct rt_cfi_table *table, uint64_t pc);

/*
 * The function around pc as a lazy table indexes it: the start and length
 * of the FDE covering pc (the innermost when FDEs overlap).  Lets a caller
 * find function bounds in a file stripped of its symbols.  Returns 0,
 * -ENOENT when no FDE covers pc, -EINVAL for a table that is not lazy.
 */
int rt_cfi_table__function(const struct rt_cfi_table *table, uint64_t pc, uint64_t *start,
			   uint64_t *len);

/* Free the rows (and the lazy index); the table may be reused after this. */
void rt_cfi_table__exit(struct rt_cfi_table *table);

#endif
