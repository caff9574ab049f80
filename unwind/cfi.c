/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compiles .eh_frame/.debug_frame into sorted rows (see cfi.h).  Formats from
 * the DWARF 4/5 standard, section 6.4, and the LSB's description of .eh_frame.
 * Every read is bounds-checked: the bytes come from files on disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/grow.h"
#include "unwind/cfi.h"

/* DW_CFA_* opcodes. */
enum {
	CFA_nop = 0x00, CFA_set_loc = 0x01, CFA_advance_loc1 = 0x02, CFA_advance_loc2 = 0x03,
	CFA_advance_loc4 = 0x04, CFA_offset_extended = 0x05, CFA_restore_extended = 0x06,
	CFA_undefined = 0x07, CFA_same_value = 0x08, CFA_register = 0x09,
	CFA_remember_state = 0x0a, CFA_restore_state = 0x0b, CFA_def_cfa = 0x0c,
	CFA_def_cfa_register = 0x0d, CFA_def_cfa_offset = 0x0e, CFA_def_cfa_expression = 0x0f,
	CFA_expression = 0x10, CFA_offset_extended_sf = 0x11, CFA_def_cfa_sf = 0x12,
	CFA_def_cfa_offset_sf = 0x13, CFA_val_offset = 0x14, CFA_val_offset_sf = 0x15,
	CFA_val_expression = 0x16, CFA_GNU_args_size = 0x2e,
	CFA_GNU_negative_offset_extended = 0x2f,
	CFA_advance_loc = 0x40, CFA_offset = 0x80, CFA_restore = 0xc0,
};

/* DW_OP_* used by the expressions we recognise. */
enum {
	OP_deref = 0x06, OP_and = 0x1a, OP_plus = 0x22, OP_shl = 0x24, OP_ge = 0x2a,
	OP_lit0 = 0x30, OP_breg0 = 0x70,
};

#define PE_omit 0xff

struct reader {
	const uint8_t *p, *end;
	bool err;
};

static uint64_t rd_bytes(struct reader *r, int n)
{
	uint64_t v = 0;

	if (r->err || r->end - r->p < n) {
		r->err = true;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint8_t rd_u8(struct reader *r) { return rd_bytes(r, 1); }

static uint64_t rd_uleb(struct reader *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!r->err) {
		if (r->p >= r->end) {
			r->err = true;
			break;
		}
		uint8_t b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	return v;
}

static int64_t rd_sleb(struct reader *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	while (!r->err) {
		if (r->p >= r->end) {
			r->err = true;
			return 0;
		}
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* A pointer in .eh_frame encoding; base/vaddr locate the section for pcrel. */
static bool rd_encoded(struct reader *r, uint8_t enc, const uint8_t *base, uint64_t vaddr,
		       uint64_t *out)
{
	uint64_t here = vaddr + (uint64_t)(r->p - base), v;

	if (enc == PE_omit || (enc & 0x80))
		return false; /* indirect pointers need memory we do not have */
	switch (enc & 0x0f) {
	case 0x00: v = rd_bytes(r, 8); break;
	case 0x01: v = rd_uleb(r); break;
	case 0x02: v = rd_bytes(r, 2); break;
	case 0x03: v = rd_bytes(r, 4); break;
	case 0x04: v = rd_bytes(r, 8); break;
	case 0x09: v = (uint64_t)rd_sleb(r); break;
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_bytes(r, 2); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_bytes(r, 4); break;
	case 0x0c: v = rd_bytes(r, 8); break;
	default: return false;
	}
	switch (enc & 0x70) {
	case 0x00: break;
	case 0x10: v += here; break;
	default: return false; /* textrel/datarel/funcrel: not used for FDEs on x86_64 */
	}
	*out = v;
	return !r->err;
}

struct cie {
	size_t offset;          /* in the section; SIZE_MAX when none parsed */
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc, addr_size;
	bool has_z;
	const uint8_t *insns, *insns_end;
};

struct state {
	uint8_t cfa_kind, cfa_reg;
	int64_t cfa_off;
	uint8_t kind[RT_CFI_NSLOTS];
	int64_t off[RT_CFI_NSLOTS];
};

#define MAX_REMEMBER 16

struct fde_run {
	struct rt_cfi_table *table;
	const struct cie *cie;
	const uint8_t *base;   /* section start, for DW_CFA_set_loc */
	uint64_t vaddr;
	uint64_t loc, end;
	struct state init;     /* after the CIE's instructions, for DW_CFA_restore */
	struct state cur;
	struct state stack[MAX_REMEMBER];
	int depth;
};

/* factor * align without overflow; an impossible offset when it would overflow
 * (emit() turns out-of-range offsets into "no rule"). */
static int64_t scaled(int64_t factor, int64_t align)
{
	int64_t v;

	return __builtin_mul_overflow(factor, align, &v) ? INT64_MAX : v;
}

int rt_cfi__slot_dwarf_reg(int slot)
{
	static const int regs[RT_CFI_NSLOTS] = {
		RT_DWARF_RBX, RT_DWARF_RBP, RT_DWARF_R12, RT_DWARF_R13, RT_DWARF_R14,
		RT_DWARF_R15, RT_DWARF_RIP,
	};
	return slot >= 0 && slot < RT_CFI_NSLOTS ? regs[slot] : -1;
}

static int reg_slot(const struct cie *cie, uint64_t reg)
{
	if (reg == cie->ra_reg)
		return RT_CFI_RA;
	switch (reg) {
	case RT_DWARF_RBX: return RT_CFI_RBX;
	case RT_DWARF_RBP: return RT_CFI_RBP;
	case RT_DWARF_R12: return RT_CFI_R12;
	case RT_DWARF_R13: return RT_CFI_R13;
	case RT_DWARF_R14: return RT_CFI_R14;
	case RT_DWARF_R15: return RT_CFI_R15;
	default: return -1;
	}
}

static void set_rule(struct fde_run *run, uint64_t reg, uint8_t kind, int64_t off)
{
	int slot = reg_slot(run->cie, reg);

	if (slot < 0)
		return;
	run->cur.kind[slot] = kind;
	run->cur.off[slot] = off;
}

/* DW_CFA_restore and restore_extended: register @reg's rule back to the
 * one at the FDE's start. */
static void restore_rule(struct fde_run *run, uint64_t reg)
{
	int slot = reg_slot(run->cie, reg);

	if (slot < 0)
		return;
	run->cur.kind[slot] = run->init.kind[slot];
	run->cur.off[slot] = run->init.off[slot];
}

/* The extended offset rules: a register, then its offset in data alignment
 * units (signed when @sleb), times @sign (-1: the GNU negative form). */
static void offset_rule(struct fde_run *run, struct reader *r, uint8_t kind, bool sleb, int64_t sign)
{
	uint64_t reg = rd_uleb(r);
	int64_t factor = sleb ? rd_sleb(r) : (int64_t)rd_uleb(r);

	set_rule(run, reg, kind, scaled(scaled(factor, run->cie->data_align), sign));
}

static int push_row(struct rt_cfi_table *t, const struct rt_cfi_row *row)
{
	if (t->nr > t->merge_floor) {
		struct rt_cfi_row *prev = &t->rows[t->nr - 1];
		/* Merge a row that only repeats the previous rules. */
		if (prev->pc + prev->len == row->pc && (uint64_t)prev->len + row->len <= UINT32_MAX &&
		    prev->cfa_kind == row->cfa_kind && prev->cfa_reg == row->cfa_reg &&
		    prev->cfa_off == row->cfa_off &&
		    !memcmp(prev->kind, row->kind, sizeof(row->kind)) &&
		    !memcmp(prev->off, row->off, sizeof(row->off))) {
			prev->len += row->len;
			return 0;
		}
	}
	if (RT_ARRAY_GROW(t->rows, t->alloc, t->nr + 1, 256))
		return -ENOMEM;
	t->rows[t->nr++] = *row;
	return 0;
}

/* Emit the current rules for [run->loc, to). */
static int emit(struct fde_run *run, uint64_t to)
{
	struct rt_cfi_row row;
	const struct state *s = &run->cur;

	if (to > run->end)
		to = run->end;
	if (to <= run->loc)
		return 0;
	memset(&row, 0, sizeof(row));
	row.pc = run->loc;
	row.len = (uint32_t)(to - run->loc);
	row.cfa_kind = s->cfa_kind;
	row.cfa_reg = s->cfa_reg;
	if (s->cfa_off < INT32_MIN || s->cfa_off > INT32_MAX)
		row.cfa_kind = RT_CFI_CFA_NONE;
	else
		row.cfa_off = (int32_t)s->cfa_off;
	for (int i = 0; i < RT_CFI_NSLOTS; i++) {
		row.kind[i] = s->kind[i];
		if (s->kind[i] == RT_CFI_RULE_OFFSET || s->kind[i] == RT_CFI_RULE_VAL_OFFSET) {
			if (s->off[i] < INT16_MIN || s->off[i] > INT16_MAX)
				row.kind[i] = RT_CFI_RULE_OTHER;
			else
				row.off[i] = (int16_t)s->off[i];
		}
	}
	return push_row(run->table, &row);
}

/*
 * The CFA expressions worth evaluating: "breg7 N; breg16 0; lit15; and; litK;
 * ge; lit3; shl; plus" (the PLT stubs' rule) and "bregR N; deref".
 */
static void cfa_expression(struct state *s, const uint8_t *p, const uint8_t *end)
{
	struct reader r = { p, end, false };
	uint8_t op = rd_u8(&r);

	s->cfa_kind = RT_CFI_CFA_NONE;
	if (r.err || op < OP_breg0 || op > OP_breg0 + 16)
		return;
	int64_t off = rd_sleb(&r);
	if (r.err)
		return;
	if (r.p + 1 == end && *r.p == OP_deref) {
		s->cfa_kind = RT_CFI_CFA_DEREF;
		s->cfa_reg = op - OP_breg0;
		s->cfa_off = off;
		return;
	}
	if (op != OP_breg0 + RT_DWARF_RSP || rd_u8(&r) != OP_breg0 + RT_DWARF_RIP || rd_sleb(&r) != 0 ||
	    rd_u8(&r) != OP_lit0 + 15 || rd_u8(&r) != OP_and)
		return;
	uint8_t lit = rd_u8(&r);
	if (lit < OP_lit0 || lit > OP_lit0 + 15 || rd_u8(&r) != OP_ge || rd_u8(&r) != OP_lit0 + 3 ||
	    rd_u8(&r) != OP_shl || rd_u8(&r) != OP_plus || r.err || r.p != end)
		return;
	s->cfa_kind = RT_CFI_CFA_PLT;
	s->cfa_reg = lit - OP_lit0;
	s->cfa_off = off;
}

/* Run a CFA program; returns 0, -EINVAL (stop this FDE) or -ENOMEM. */
static int run_program(struct fde_run *run, const uint8_t *p, const uint8_t *end, bool emit_rows)
{
	struct reader r = { p, end, false };
	const struct cie *cie = run->cie;

	while (r.p < r.end && !r.err) {
		uint8_t op = rd_u8(&r), low = op & 0x3f;
		uint64_t reg, delta = 0, newloc;
		int64_t off;
		int err;

		switch (op & 0xc0) {
		case CFA_advance_loc:
			delta = low;
			goto advance;
		case CFA_offset:
			off = scaled((int64_t)rd_uleb(&r), cie->data_align);
			set_rule(run, low, RT_CFI_RULE_OFFSET, off);
			continue;
		case CFA_restore:
			restore_rule(run, low);
			continue;
		}
		switch (op) {
		case CFA_nop:
		case CFA_GNU_args_size:
			if (op == CFA_GNU_args_size)
				rd_uleb(&r);
			continue;
		case CFA_set_loc:
			if (!emit_rows || !rd_encoded(&r, cie->fde_enc, run->base, run->vaddr, &newloc) ||
			    newloc < run->loc)
				return -EINVAL;
			if ((err = emit(run, newloc)))
				return err;
			run->loc = newloc;
			continue;
		case CFA_advance_loc1: delta = rd_bytes(&r, 1); goto advance;
		case CFA_advance_loc2: delta = rd_bytes(&r, 2); goto advance;
		case CFA_advance_loc4: delta = rd_bytes(&r, 4); goto advance;
		case CFA_offset_extended:
			offset_rule(run, &r, RT_CFI_RULE_OFFSET, false, 1);
			continue;
		case CFA_offset_extended_sf:
			offset_rule(run, &r, RT_CFI_RULE_OFFSET, true, 1);
			continue;
		case CFA_GNU_negative_offset_extended:
			offset_rule(run, &r, RT_CFI_RULE_OFFSET, false, -1);
			continue;
		case CFA_val_offset:
			offset_rule(run, &r, RT_CFI_RULE_VAL_OFFSET, false, 1);
			continue;
		case CFA_val_offset_sf:
			offset_rule(run, &r, RT_CFI_RULE_VAL_OFFSET, true, 1);
			continue;
		case CFA_restore_extended:
			restore_rule(run, rd_uleb(&r));
			continue;
		case CFA_undefined:
			set_rule(run, rd_uleb(&r), RT_CFI_RULE_UNDEF, 0);
			continue;
		case CFA_same_value:
			set_rule(run, rd_uleb(&r), RT_CFI_RULE_SAME, 0);
			continue;
		case CFA_register:
			reg = rd_uleb(&r);
			rd_uleb(&r);
			set_rule(run, reg, RT_CFI_RULE_OTHER, 0);
			continue;
		case CFA_remember_state:
			if (run->depth >= MAX_REMEMBER)
				return -EINVAL;
			run->stack[run->depth++] = run->cur;
			continue;
		case CFA_restore_state:
			if (run->depth <= 0)
				return -EINVAL;
			run->cur = run->stack[--run->depth];
			continue;
		case CFA_def_cfa:
			run->cur.cfa_reg = (uint8_t)(reg = rd_uleb(&r));
			run->cur.cfa_off = (int64_t)rd_uleb(&r);
			run->cur.cfa_kind = reg < RT_DWARF_NREGS ? RT_CFI_CFA_REG : RT_CFI_CFA_NONE;
			continue;
		case CFA_def_cfa_sf:
			run->cur.cfa_reg = (uint8_t)(reg = rd_uleb(&r));
			run->cur.cfa_off = scaled(rd_sleb(&r), cie->data_align);
			run->cur.cfa_kind = reg < RT_DWARF_NREGS ? RT_CFI_CFA_REG : RT_CFI_CFA_NONE;
			continue;
		case CFA_def_cfa_register:
			reg = rd_uleb(&r);
			/* Only meaningful after a register rule; keeps the offset. */
			if (run->cur.cfa_kind == RT_CFI_CFA_REG || run->cur.cfa_kind == RT_CFI_CFA_NONE) {
				run->cur.cfa_reg = (uint8_t)reg;
				run->cur.cfa_kind = reg < RT_DWARF_NREGS ? RT_CFI_CFA_REG
									 : RT_CFI_CFA_NONE;
			}
			continue;
		case CFA_def_cfa_offset:
			run->cur.cfa_off = (int64_t)rd_uleb(&r);
			continue;
		case CFA_def_cfa_offset_sf:
			run->cur.cfa_off = scaled(rd_sleb(&r), cie->data_align);
			continue;
		case CFA_def_cfa_expression: {
			uint64_t len = rd_uleb(&r);
			if (r.err || len > (uint64_t)(r.end - r.p))
				return -EINVAL;
			cfa_expression(&run->cur, r.p, r.p + len);
			r.p += len;
			continue;
		}
		case CFA_expression:
		case CFA_val_expression: {
			reg = rd_uleb(&r);
			uint64_t len = rd_uleb(&r);
			if (r.err || len > (uint64_t)(r.end - r.p))
				return -EINVAL;
			r.p += len;
			set_rule(run, reg, RT_CFI_RULE_OTHER, 0);
			continue;
		}
		default:
			return -EINVAL; /* unknown opcode: operand length unknown */
		}
advance:
		if (r.err)
			break;
		if (!emit_rows)
			continue;
		if (cie->code_align && delta > UINT64_MAX / cie->code_align)
			return -EINVAL;
		newloc = run->loc + delta * cie->code_align;
		if (newloc < run->loc)
			return -EINVAL;
		if ((err = emit(run, newloc)))
			return err;
		run->loc = newloc;
	}
	return r.err ? -EINVAL : 0;
}

/* Parse the entry header at off: body bounds, id and whether 64-bit. */
static bool entry_at(const uint8_t *data, size_t size, size_t off, const uint8_t **body,
		     const uint8_t **body_end, uint64_t *id, bool *is64, size_t *next)
{
	struct reader r = { data + off, data + size, false };
	uint64_t len;

	if (off >= size)
		return false;
	len = rd_bytes(&r, 4);
	*is64 = len == 0xffffffff;
	if (*is64)
		len = rd_bytes(&r, 8);
	if (r.err || len > (uint64_t)(r.end - r.p))
		return false;
	*body = r.p;
	*body_end = r.p + len;
	*next = (size_t)(*body_end - data);
	r.end = *body_end;
	*id = rd_bytes(&r, *is64 ? 8 : 4);
	return !r.err;
}

static bool parse_cie(const uint8_t *data, size_t size, size_t off, uint64_t vaddr, bool eh,
		      struct cie *cie)
{
	const uint8_t *body, *body_end;
	uint64_t id;
	bool is64;
	size_t next;

	if (!entry_at(data, size, off, &body, &body_end, &id, &is64, &next))
		return false;
	if (eh ? id != 0 : id != (is64 ? UINT64_MAX : 0xffffffffu))
		return false;
	struct reader r = { body + (is64 ? 8 : 4), body_end, false };
	uint8_t version = rd_u8(&r);
	if (r.err || (version != 1 && version != 3 && version != 4))
		return false;
	const uint8_t *aug = r.p;
	while (r.p < r.end && *r.p)
		r.p++;
	if (r.p >= r.end)
		return false;
	size_t aug_len = (size_t)(r.p - aug);
	r.p++;
	memset(cie, 0, sizeof(*cie));
	cie->offset = off;
	cie->addr_size = 8;
	cie->fde_enc = 0; /* absptr */
	if (version == 4) {
		cie->addr_size = rd_u8(&r);
		rd_u8(&r); /* segment selector size */
		if (cie->addr_size != 4 && cie->addr_size != 8)
			return false;
	}
	cie->code_align = rd_uleb(&r);
	cie->data_align = rd_sleb(&r);
	cie->ra_reg = version == 1 ? rd_u8(&r) : rd_uleb(&r);
	if (r.err)
		return false;
	if (aug_len && aug[0] == 'z') {
		uint64_t len = rd_uleb(&r);
		if (r.err || len > (uint64_t)(r.end - r.p))
			return false;
		struct reader a = { r.p, r.p + len, false };
		cie->has_z = true;
		for (size_t i = 1; i < aug_len && !a.err; i++) {
			uint64_t ignored;
			if (aug[i] == 'R') {
				cie->fde_enc = rd_u8(&a);
			} else if (aug[i] == 'L') {
				rd_u8(&a);
			} else if (aug[i] == 'P') {
				uint8_t enc = rd_u8(&a);
				if (!rd_encoded(&a, enc & 0x7f, data, vaddr, &ignored))
					break;
			} else if (aug[i] != 'S' && aug[i] != 'B') {
				break; /* unknown: the length lets us skip the rest */
			}
		}
		r.p += len;
	} else if (aug_len) {
		return false; /* without 'z' an unknown augmentation hides the instructions */
	}
	cie->insns = r.p;
	cie->insns_end = body_end;
	return true;
}

/* Decodes an FDE's address range; *insns is where its instructions start. */
static int fde_range(const uint8_t *data, uint64_t vaddr, bool eh, const struct cie *cie,
		     const uint8_t *p, const uint8_t *end, uint64_t *pc_out, uint64_t *range_out,
		     const uint8_t **insns)
{
	struct reader r = { p, end, false };
	uint64_t pc, range;

	if (eh) {
		if (!rd_encoded(&r, cie->fde_enc, data, vaddr, &pc))
			return -EINVAL;
		struct reader rr = r;
		if (!rd_encoded(&rr, cie->fde_enc & 0x0f, data, vaddr, &range))
			return -EINVAL;
		r = rr;
	} else {
		pc = rd_bytes(&r, cie->addr_size);
		range = rd_bytes(&r, cie->addr_size);
	}
	if (cie->has_z) {
		uint64_t len = rd_uleb(&r);
		if (r.err || len > (uint64_t)(r.end - r.p))
			return -EINVAL;
		r.p += len;
	}
	if (r.err)
		return -EINVAL;
	*pc_out = pc;
	*range_out = range;
	*insns = r.p;
	/* Empty or discarded functions, and ranges our 32-bit lengths cannot hold. */
	return !range || !pc || range > UINT32_MAX || pc + range < pc ? 1 : 0;
}

static int parse_fde(struct rt_cfi_table *t, struct fde_run *run, const uint8_t *data,
		     uint64_t vaddr, bool eh, const struct cie *cie, const uint8_t *p,
		     const uint8_t *end)
{
	const uint8_t *insns;
	uint64_t pc, range;
	int err = fde_range(data, vaddr, eh, cie, p, end, &pc, &range, &insns);

	if (err)
		return err > 0 ? 0 : err;
	memset(&run->init, 0, sizeof(run->init));
	memset(&run->cur, 0, sizeof(run->cur));
	run->depth = 0;
	run->table = t;
	run->cie = cie;
	run->base = data;
	run->vaddr = vaddr;
	run->loc = pc;
	run->end = pc + range;
	/* Before any instruction the CFA is unknown and every register keeps its value. */
	run->cur.cfa_kind = RT_CFI_CFA_NONE;
	err = run_program(run, cie->insns, cie->insns_end, false);
	if (!err) {
		run->init = run->cur;
		run->depth = 0;
		err = run_program(run, insns, end, true);
	}
	if (!err)
		err = emit(run, run->end);
	else if (err == -EINVAL)
		emit(run, run->loc); /* keep the rows before the bad instruction */
	if (!err)
		t->nr_fdes++;
	return err;
}

/* ---- lazy tables ---------------------------------------------------------- */

#define LAZY_SECTIONS 4

struct lazy_fde {
	uint64_t pc;
	uint32_t len;
	uint8_t section;
	uint8_t state;          /* FDE_NEW, FDE_DONE, FDE_BAD */
	uint32_t entry;         /* the FDE's offset in its section */
	uint32_t cie;           /* its CIE's offset */
	uint32_t first_row, nr_rows;
};

enum { FDE_NEW, FDE_DONE, FDE_BAD };

struct rt_cfi_lazy {
	struct {
		const uint8_t *data;
		size_t size;
		uint64_t vaddr;
		bool eh;
	} sections[LAZY_SECTIONS];
	int nr_sections;
	struct lazy_fde *fdes;
	size_t nr, alloc;
	struct cie cie;         /* the last CIE parsed, by offset and section */
	int cie_section;
	struct fde_run run;
};

int rt_cfi_table__set_lazy(struct rt_cfi_table *t)
{
	if (t->lazy)
		return 0;
	t->lazy = calloc(1, sizeof(*t->lazy));
	if (!t->lazy)
		return -ENOMEM;
	t->lazy->cie.offset = SIZE_MAX;
	return 0;
}

static int lazy_push(struct rt_cfi_lazy *l, const struct lazy_fde *fde)
{
	if (RT_ARRAY_GROW(l->fdes, l->alloc, l->nr + 1, 1024))
		return -ENOMEM;
	l->fdes[l->nr++] = *fde;
	return 0;
}

/* Parses the CIE at off of section sec into l->cie unless it is there. */
static bool lazy_cie(struct rt_cfi_lazy *l, int sec, size_t off)
{
	if (l->cie.offset == off && l->cie_section == sec)
		return true;
	l->cie_section = sec;
	if (parse_cie(l->sections[sec].data, l->sections[sec].size, off, l->sections[sec].vaddr,
		      l->sections[sec].eh, &l->cie))
		return true;
	l->cie.offset = SIZE_MAX;
	return false;
}

/* Compiles one FDE's rows, appended to the table's rows. */
static void lazy_compile(struct rt_cfi_table *t, struct lazy_fde *fde)
{
	struct rt_cfi_lazy *l = t->lazy;
	const uint8_t *data = l->sections[fde->section].data, *body, *body_end;
	size_t size = l->sections[fde->section].size, next;
	uint64_t id;
	bool is64;

	fde->state = FDE_BAD;
	if (!entry_at(data, size, fde->entry, &body, &body_end, &id, &is64, &next) ||
	    !lazy_cie(l, fde->section, fde->cie))
		return;
	t->merge_floor = t->nr;
	fde->first_row = (uint32_t)t->nr;
	if (parse_fde(t, &l->run, data, l->sections[fde->section].vaddr, l->sections[fde->section].eh,
		      &l->cie, body + (is64 ? 8 : 4), body_end) == -ENOMEM) {
		t->nr = fde->first_row; /* try again on the next lookup */
		fde->state = FDE_NEW;
		return;
	}
	fde->nr_rows = (uint32_t)(t->nr - fde->first_row);
	if (fde->nr_rows)
		fde->state = FDE_DONE;
}

static const struct rt_cfi_row *rows_find(const struct rt_cfi_row *rows, size_t nr, uint64_t pc)
{
	size_t lo = 0, hi = nr;

	/* The last row starting at or before pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct rt_cfi_row *row = &rows[lo - 1];
	return pc - row->pc < row->len ? row : NULL;
}

static const struct rt_cfi_row *lazy_find(struct rt_cfi_table *t, uint64_t pc)
{
	struct rt_cfi_lazy *l = t->lazy;
	size_t lo = 0, hi = l->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->fdes[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* FDEs may overlap (both sections, or odd linkers): the nearest few
	 * starting at or before pc are the candidates, nearest first. */
	for (size_t i = lo, tries = 0; i > 0 && tries < 4; i--, tries++) {
		struct lazy_fde *fde = &l->fdes[i - 1];

		if (pc - fde->pc >= fde->len)
			continue;
		if (fde->state == FDE_NEW)
			lazy_compile(t, fde);
		if (fde->state != FDE_DONE)
			continue;
		const struct rt_cfi_row *row = rows_find(t->rows + fde->first_row, fde->nr_rows, pc);
		if (row)
			return row;
	}
	return NULL;
}

static int lazy_fde_cmp(const void *a, const void *b)
{
	const struct lazy_fde *x = a, *y = b;

	if (x->pc != y->pc)
		return x->pc < y->pc ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

int rt_cfi_table__add_section(struct rt_cfi_table *t, const uint8_t *data, size_t size,
			      uint64_t vaddr, bool eh)
{
	struct cie cie = { .offset = SIZE_MAX };
	struct rt_cfi_lazy *l = t->lazy;
	struct fde_run *run = NULL;
	size_t off = 0;
	int ret = 0, sec = 0;

	if (l) {
		if (l->nr_sections == LAZY_SECTIONS || size > UINT32_MAX)
			return 0; /* offsets are kept in 32 bits */
		sec = l->nr_sections++;
		l->sections[sec].data = data;
		l->sections[sec].size = size;
		l->sections[sec].vaddr = vaddr;
		l->sections[sec].eh = eh;
	} else if (!(run = malloc(sizeof(*run)))) {
		return -ENOMEM;
	}
	while (off + 4 <= size) {
		const uint8_t *body, *body_end;
		uint64_t id;
		bool is64;
		size_t next;

		if (!entry_at(data, size, off, &body, &body_end, &id, &is64, &next)) {
			/* A zero length ends .eh_frame; anything else is truncation. */
			if (!(data[off] | data[off + 1] | data[off + 2] | data[off + 3]))
				break;
			t->nr_bad++;
			break;
		}
		size_t this = off;
		off = next;
		if (eh ? id == 0 : id == (is64 ? UINT64_MAX : 0xffffffffu))
			continue; /* a CIE: parsed when an FDE refers to it */
		size_t id_pos = (size_t)(body - data);
		size_t cie_off;
		if (eh) {
			if (id > id_pos)
				goto bad;
			cie_off = id_pos - (size_t)id;
		} else {
			if (id >= size)
				goto bad;
			cie_off = (size_t)id;
		}
		if (cie_off == this)
			goto bad;
		if (cie.offset != cie_off && !parse_cie(data, size, cie_off, vaddr, eh, &cie)) {
			cie.offset = SIZE_MAX;
			goto bad;
		}
		const uint8_t *fde_body = body + (is64 ? 8 : 4);
		int err;
		if (l) {
			const uint8_t *insns;
			uint64_t pc, range;

			err = fde_range(data, vaddr, eh, &cie, fde_body, body_end, &pc, &range, &insns);
			if (!err)
				err = lazy_push(l, &(struct lazy_fde){
					.pc = pc, .len = (uint32_t)range, .section = (uint8_t)sec,
					.entry = (uint32_t)this, .cie = (uint32_t)cie_off });
			if (err > 0)
				continue; /* an empty or discarded function */
		} else {
			err = parse_fde(t, run, data, vaddr, eh, &cie, fde_body, body_end);
		}
		if (err == -ENOMEM) {
			ret = err;
			break;
		}
		if (err)
			t->nr_bad++;
		continue;
bad:
		t->nr_bad++;
	}
	free(run);
	return ret;
}

static int row_cmp(const void *a, const void *b)
{
	const struct rt_cfi_row *x = a, *y = b;

	if (x->pc != y->pc)
		return x->pc < y->pc ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len;
}

int rt_cfi_table__finish(struct rt_cfi_table *t)
{
	size_t i;

	if (t->lazy) {
		struct rt_cfi_lazy *l = t->lazy;

		for (i = 1; i < l->nr; i++)
			if (lazy_fde_cmp(&l->fdes[i - 1], &l->fdes[i]) > 0)
				break;
		if (i < l->nr)
			qsort(l->fdes, l->nr, sizeof(*l->fdes), lazy_fde_cmp);
		return 0;
	}
	/* Linkers usually emit FDEs in address order: skip the sort then. */
	for (i = 1; i < t->nr; i++)
		if (row_cmp(&t->rows[i - 1], &t->rows[i]) > 0)
			break;
	if (i < t->nr)
		qsort(t->rows, t->nr, sizeof(*t->rows), row_cmp);
	return 0;
}

const struct rt_cfi_row *rt_cfi_table__find(struct rt_cfi_table *t, uint64_t pc)
{
	return t->lazy ? lazy_find(t, pc) : rows_find(t->rows, t->nr, pc);
}

int rt_cfi_table__function(const struct rt_cfi_table *t, uint64_t pc, uint64_t *start,
			   uint64_t *len)
{
	const struct rt_cfi_lazy *l = t->lazy;
	size_t lo = 0, hi;

	if (!l)
		return -EINVAL;
	hi = l->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->fdes[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* As lazy_find: the nearest few starting at or before pc. */
	for (size_t i = lo, tries = 0; i > 0 && tries < 4; i--, tries++) {
		const struct lazy_fde *fde = &l->fdes[i - 1];

		if (pc - fde->pc < fde->len) {
			*start = fde->pc;
			*len = fde->len;
			return 0;
		}
	}
	return -ENOENT;
}

void rt_cfi_table__exit(struct rt_cfi_table *t)
{
	if (t->lazy)
		free(t->lazy->fdes);
	free(t->lazy);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
