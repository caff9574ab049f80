/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registers an unwind starts from, taken in a test program's own code
 * as perf's user register sample gives them (PERF_SAMPLE_REGS_USER): shared
 * by the snapshot of tests/e2e/unwind/chain.c and the unit test of
 * rtbpf/nativestack.c.
 */
#ifndef RT_TESTS_REGS_HERE_H
#define RT_TESTS_REGS_HERE_H

#include <stdint.h>

/* perf's numbers: BX=1, BP=6, SP=7, IP=8, R12..R15=20..23 */
#define RT_REGS_HERE_MASK ((1ull << 1) | (1ull << 6) | (1ull << 7) | (1ull << 8) | (0xfull << 20))
#define RT_REGS_HERE_NR 8
#define RT_REGS_HERE_SP 2 /* index of SP in the values */

/* Fills @vals, in perf's order (BX, BP, SP, IP, R12-R15), with the
 * registers at this point of the function it is written in: inlined, its
 * IP and SP are that function's. */
static inline __attribute__((always_inline)) void rt_regs_here(uint64_t vals[RT_REGS_HERE_NR])
{
	__asm__ volatile("movq %%rbx, 0(%0)\n\t"
			 "movq %%rbp, 8(%0)\n\t"
			 "movq %%rsp, 16(%0)\n\t"
			 "leaq 0(%%rip), %%rax\n\t"
			 "movq %%rax, 24(%0)\n\t"
			 "movq %%r12, 32(%0)\n\t"
			 "movq %%r13, 40(%0)\n\t"
			 "movq %%r14, 48(%0)\n\t"
			 "movq %%r15, 56(%0)\n\t"
			 : : "r"(vals) : "rax", "memory");
}

#endif
