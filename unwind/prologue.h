/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prologue: unwind rules for x86_64 code without CFI, read from the
 * function's machine code with capstone.  Internal to unwind/.
 */
#ifndef RT_UNWIND_PROLOGUE_H
#define RT_UNWIND_PROLOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "unwind/cfi.h"
#include "unwind/unwind.h"

struct rt_prologue;

/* A disassembler handle for the analyses; NULL with errno on failure. */
struct rt_prologue *rt_prologue__new(void);
/* NULL is a no-op. */
void rt_prologue__free(struct rt_prologue *prologue);

/*
 * Rules at pc for the function whose code is code[0..size) starting at
 * func (ELF virtual addresses).  On success fills *row (CFA from rsp or
 * rbp, registers saved at CFA offsets, as a CFI row would) and *how
 * (RT_UNWIND_FP when the prologue set up rbp as frame pointer and pc is past
 * it, else RT_UNWIND_PROLOGUE) and returns 0.  Returns -ENOENT when the code
 * does not show a frame layout it can trust (unknown stack adjustments,
 * undecodable bytes, pc outside the code).
 */
int rt_prologue__analyze(struct rt_prologue *prologue, const uint8_t *code, size_t size,
			 uint64_t func, uint64_t pc, struct rt_cfi_row *row,
			 enum rt_unwind_how *how);

#endif
