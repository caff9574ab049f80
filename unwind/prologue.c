/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frame layout of code without CFI, from its instructions.  Only the shapes
 * compilers and hand-written assembly actually use are accepted: a prologue
 * of pushes, "mov rbp, rsp" and "sub rsp, imm"; an epilogue of pops,
 * "add rsp, imm", "leave" and "ret".  Anything else in the prologue ends it;
 * anything that would make the frame size unknowable makes us give up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/disasm.h"
#include "unwind/prologue.h"

struct rt_prologue {
	csh handle;
	cs_insn *insn;
};

struct rt_prologue *rt_prologue__new(void)
{
	struct rt_prologue *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (rt_cs_open(CS_ARCH_X86, CS_MODE_64, &p->handle) != CS_ERR_OK) {
		free(p);
		errno = ENOSYS;
		return NULL;
	}
	rt_cs_option(p->handle, CS_OPT_DETAIL, CS_OPT_ON);
	p->insn = rt_cs_malloc(p->handle);
	if (!p->insn) {
		rt_cs_close(&p->handle);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void rt_prologue__free(struct rt_prologue *p)
{
	if (!p)
		return;
	rt_cs_free(p->insn, 1);
	rt_cs_close(&p->handle);
	free(p);
}

static int reg_slot(x86_reg reg)
{
	switch (reg) {
	case X86_REG_RBX: return RT_CFI_RBX;
	case X86_REG_RBP: return RT_CFI_RBP;
	case X86_REG_R12: return RT_CFI_R12;
	case X86_REG_R13: return RT_CFI_R13;
	case X86_REG_R14: return RT_CFI_R14;
	case X86_REG_R15: return RT_CFI_R15;
	default: return -1;
	}
}

static bool is_reg(const cs_x86_op *op, x86_reg reg)
{
	return op->type == X86_OP_REG && op->reg == reg;
}

/* "sub rsp, imm" / "add rsp, imm": the immediate, or -1. */
static int64_t rsp_imm(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count != 2 || !is_reg(&x->operands[0], X86_REG_RSP) ||
	    x->operands[1].type != X86_OP_IMM || x->operands[1].imm < 0 ||
	    x->operands[1].imm > (1 << 24))
		return -1;
	return x->operands[1].imm;
}

struct layout {
	int64_t delta;           /* bytes below the return address */
	bool fp;                 /* rbp = rsp after fp_delta bytes */
	int64_t fp_delta;
	int64_t saved[RT_CFI_NSLOTS]; /* delta right after the push, 0 = not saved */
};

enum scan { SCAN_AT_PC, SCAN_BODY, SCAN_FAIL };

/* Walk the prologue up to pc. */
static enum scan scan_prologue(struct rt_prologue *p, const uint8_t *code, size_t size,
			       uint64_t func, uint64_t pc, struct layout *l)
{
	const uint8_t *c = code;
	size_t left = size;
	uint64_t addr = func;
	cs_insn *insn = p->insn;

	for (int n = 0; n < 64; n++) {
		if (addr >= pc)
			return addr == pc ? SCAN_AT_PC : SCAN_FAIL;
		if (!rt_cs_disasm_iter(p->handle, &c, &left, &addr, insn))
			return SCAN_FAIL;
		const cs_x86 *x = &insn->detail->x86;
		int64_t imm;
		switch (insn->id) {
		case X86_INS_ENDBR64:
		case X86_INS_NOP:
			continue;
		case X86_INS_PUSH:
			l->delta += 8;
			if (x->op_count == 1 && x->operands[0].type == X86_OP_REG) {
				int slot = reg_slot(x->operands[0].reg);
				if (slot >= 0 && !l->saved[slot])
					l->saved[slot] = l->delta;
			}
			continue;
		case X86_INS_MOV:
			if (x->op_count == 2 && is_reg(&x->operands[0], X86_REG_RBP) &&
			    is_reg(&x->operands[1], X86_REG_RSP) && l->saved[RT_CFI_RBP] && !l->fp) {
				l->fp = true;
				l->fp_delta = l->delta;
				continue;
			}
			break;
		case X86_INS_SUB:
			if ((imm = rsp_imm(insn)) >= 0) {
				l->delta += imm;
				continue;
			}
			break;
		}
		/* The first instruction that is not part of the prologue. */
		return insn->address < pc ? SCAN_BODY : SCAN_AT_PC;
	}
	return SCAN_FAIL;
}

/* From pc, only pops/add rsp until ret?  Fills the row and returns true. */
static bool scan_epilogue(struct rt_prologue *p, const uint8_t *code, size_t size, uint64_t func,
			  uint64_t pc, struct rt_cfi_row *row)
{
	const uint8_t *c = code + (pc - func);
	size_t left = size - (pc - func);
	uint64_t addr = pc;
	int64_t below = 0;
	struct { int slot; int64_t at; } pops[16];
	int nr_pops = 0;

	for (int n = 0; n < 16; n++) {
		if (!rt_cs_disasm_iter(p->handle, &c, &left, &addr, p->insn))
			return false;
		const cs_x86 *x = &p->insn->detail->x86;
		int64_t imm;
		switch (p->insn->id) {
		case X86_INS_POP:
			if (x->op_count != 1 || x->operands[0].type != X86_OP_REG)
				return false;
			if (nr_pops < 16) {
				pops[nr_pops].slot = reg_slot(x->operands[0].reg);
				pops[nr_pops++].at = below;
			}
			below += 8;
			continue;
		case X86_INS_ADD:
			if ((imm = rsp_imm(p->insn)) < 0)
				return false;
			below += imm;
			continue;
		case X86_INS_RET:
			memset(row, 0, sizeof(*row));
			row->cfa_kind = RT_CFI_CFA_REG;
			row->cfa_reg = RT_DWARF_RSP;
			row->cfa_off = (int32_t)(below + 8);
			row->kind[RT_CFI_RA] = RT_CFI_RULE_OFFSET;
			row->off[RT_CFI_RA] = -8;
			for (int i = 0; i < nr_pops; i++) {
				if (pops[i].slot < 0)
					continue;
				row->kind[pops[i].slot] = RT_CFI_RULE_OFFSET;
				row->off[pops[i].slot] = (int16_t)(pops[i].at - below - 8);
			}
			return true;
		default:
			return false;
		}
	}
	return false;
}

int rt_prologue__analyze(struct rt_prologue *p, const uint8_t *code, size_t size, uint64_t func,
			 uint64_t pc, struct rt_cfi_row *row, enum rt_unwind_how *how)
{
	struct layout l;
	enum scan s;

	if (!p || pc < func || pc - func >= size)
		return -ENOENT;
	memset(&l, 0, sizeof(l));
	s = scan_prologue(p, code, size, func, pc, &l);
	if (s == SCAN_FAIL)
		return -ENOENT;
	if (s == SCAN_BODY && scan_epilogue(p, code, size, func, pc, row)) {
		*how = RT_UNWIND_PROLOGUE;
		return 0;
	}
	if (l.delta > 1 << 20)
		return -ENOENT;
	memset(row, 0, sizeof(*row));
	row->cfa_kind = RT_CFI_CFA_REG;
	if (l.fp) {
		/* rbp points at the saved rbp: CFA = rbp + what was pushed before it + RA. */
		row->cfa_reg = RT_DWARF_RBP;
		row->cfa_off = (int32_t)(l.fp_delta + 8);
		*how = RT_UNWIND_FP;
	} else {
		row->cfa_reg = RT_DWARF_RSP;
		row->cfa_off = (int32_t)(l.delta + 8);
		*how = RT_UNWIND_PROLOGUE;
	}
	row->kind[RT_CFI_RA] = RT_CFI_RULE_OFFSET;
	row->off[RT_CFI_RA] = -8;
	for (int i = 0; i < RT_CFI_NSLOTS; i++) {
		if (i == RT_CFI_RA || !l.saved[i] || l.saved[i] > INT16_MAX)
			continue;
		row->kind[i] = RT_CFI_RULE_OFFSET;
		row->off[i] = (int16_t)(-8 - l.saved[i]);
	}
	return 0;
}
