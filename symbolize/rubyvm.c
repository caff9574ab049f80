/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rubyvm: names CRuby's VM loop in a libruby stripped to its exports.
 *
 * rtmerge splices Ruby frames in at the VM's eval loop, which it knows by
 * name.  Debian's libruby keeps only .dynsym: vm_exec_core is static
 * everywhere, and vm_exec is exported as rb_vm_exec up to 3.2 only (3.3
 * builds with MJIT gone hide it).  Their code is still recognisable from
 * what is exported:
 *
 *   - rb_iseq_eval_main() and rb_iseq_eval() each end by running the VM on
 *     the frame they pushed: vm_exec() is the one function both call (or
 *     tail-jump to), unless rb_vm_exec names it already;
 *   - vm_exec() calls vm_exec_core(), by far the largest of its callees,
 *     a function of several kilobytes that dispatches each instruction
 *     through an indirect jump (direct-threaded code).
 *
 * Function bounds come from .eh_frame, which stripping keeps.  The answer
 * lives in the file's symbol table, so it is worked out once per file
 * symbolize/ loads, which is once per path and build id.
 */
#include "symbolize/rubyvm.h"

#include <errno.h>
#include <gelf.h>
#include <string.h>

#include "perfglue/disasm.h"
#include "unwind/cfi.h"

/* vm_exec_core is 17-23 KB in Debian's 2.7-3.3 builds; vm_exec's other
 * callees (exception handling helpers) are far smaller. */
#define CORE_MIN_SIZE 4096
#define MAX_CALLEES 64

struct fn {
	uint64_t start, len;
};

struct vm_scan {
	Elf *elf;
	size_t shstrndx;
	struct rt_cfi_table eh;
	csh cs;
};

/* The bytes of [addr, addr + len) in an executable section, or NULL. */
static const uint8_t *code_of(Elf *elf, uint64_t addr, uint64_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || addr < sh.sh_addr ||
		    addr - sh.sh_addr > sh.sh_size || len > sh.sh_size - (addr - sh.sh_addr))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size < sh.sh_size)
			return NULL;
		return (const uint8_t *)data->d_buf + (addr - sh.sh_addr);
	}
	return NULL;
}

/* A PLT stub is no function of the library's own. */
static bool in_plt(const struct vm_scan *v, uint64_t addr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(v->elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || addr < sh.sh_addr || addr - sh.sh_addr >= sh.sh_size)
			continue;
		name = elf_strptr(v->elf, v->shstrndx, sh.sh_name);
		return name && !strncmp(name, ".plt", 4);
	}
	return false;
}

/* The function starting exactly at addr, by its FDE. */
static bool function_at(const struct vm_scan *v, uint64_t addr, struct fn *out)
{
	return !rt_cfi_table__function(&v->eh, addr, &out->start, &out->len) && out->start == addr;
}

/*
 * The functions f calls or tail-jumps to directly (at most max, each once),
 * and whether f jumps through a register or memory anywhere.  Returns how
 * many, or -ENOENT when f's code cannot be read.
 */
static int callees(const struct vm_scan *v, const struct fn *f, struct fn *out, int max,
		   bool *indirect_jump)
{
	const uint8_t *code = code_of(v->elf, f->start, f->len);
	cs_insn *insn;
	size_t size = f->len;
	uint64_t addr = f->start;
	int n = 0;

	*indirect_jump = false;
	if (!code)
		return -ENOENT;
	insn = rt_cs_malloc(v->cs);
	if (!insn)
		return -ENOMEM;
	/* cs_disasm_iter stops at bytes it cannot decode (data in code,
	 * padding): step over one and go on. */
	while (size) {
		if (!rt_cs_disasm_iter(v->cs, &code, &size, &addr, insn)) {
			code++;
			size--;
			addr++;
			continue;
		}
		const cs_x86 *x = &insn->detail->x86;
		struct fn callee;

		if ((insn->id != X86_INS_CALL && insn->id != X86_INS_JMP) || x->op_count != 1)
			continue;
		if (x->operands[0].type != X86_OP_IMM) {
			if (insn->id == X86_INS_JMP)
				*indirect_jump = true;
			continue;
		}
		uint64_t target = (uint64_t)x->operands[0].imm;

		if (target - f->start < f->len || in_plt(v, target) || !function_at(v, target, &callee))
			continue;
		int k;
		for (k = 0; k < n && out[k].start != target; k++)
			;
		if (k == n && n < max)
			out[n++] = callee;
	}
	rt_cs_free(insn, 1);
	return n;
}

/* vm_exec_core among vm_exec's callees: the largest, if it is large and
 * dispatches through indirect jumps.  False when none qualifies. */
static bool find_core(const struct vm_scan *v, const struct fn *exec, struct fn *core)
{
	struct fn called[MAX_CALLEES];
	bool indirect;
	int n = callees(v, exec, called, MAX_CALLEES, &indirect), best = -1;

	for (int i = 0; i < n; i++)
		if (best < 0 || called[i].len > called[best].len)
			best = i;
	if (best < 0 || called[best].len < CORE_MIN_SIZE ||
	    callees(v, &called[best], (struct fn[1]){ 0 }, 1, &indirect) < 0 || !indirect)
		return false;
	*core = called[best];
	return true;
}

static bool exported(const struct rt_symtab *t, const char *name, const struct vm_scan *v,
		     struct fn *out)
{
	int32_t i = rt_symtab__by_name(t, name);

	return i >= 0 && function_at(v, t->syms[i].start, out);
}

/* vm_exec and vm_exec_core when the exports lead to them. */
static int scan(struct vm_scan *v, const struct rt_symtab *t, struct fn *exec, struct fn *core,
		bool *exec_named)
{
	struct fn main_fn, eval_fn, a[MAX_CALLEES], b[MAX_CALLEES];
	bool indirect, found = false;
	int na, nb;

	*exec_named = exported(t, "rb_vm_exec", v, exec);
	if (*exec_named)
		return find_core(v, exec, core) ? 0 : -ENOENT;
	if (!exported(t, "rb_iseq_eval_main", v, &main_fn) || !exported(t, "rb_iseq_eval", v, &eval_fn))
		return -ENOENT;
	na = callees(v, &main_fn, a, MAX_CALLEES, &indirect);
	nb = callees(v, &eval_fn, b, MAX_CALLEES, &indirect);
	/* Of the functions both call, the one whose core is largest (both
	 * also call small helpers that reach no VM loop). */
	for (int i = 0; i < na; i++) {
		struct fn c;

		for (int k = 0; k < nb; k++) {
			if (a[i].start != b[k].start || !find_core(v, &a[i], &c))
				continue;
			if (!found || c.len > core->len) {
				*exec = a[i];
				*core = c;
				found = true;
			}
		}
	}
	return found ? 0 : -ENOENT;
}

int rt_rubyvm__name(struct rt_symtab *t, Elf *elf)
{
	struct vm_scan v = { .elf = elf };
	struct fn exec, core;
	GElf_Shdr sh;
	Elf_Scn *scn = NULL;
	bool exec_named = false;
	int err = 0;

	/* Not libruby, or a build whose symbols name the loop already. */
	if (rt_symtab__by_name(t, "ruby_run_node") < 0 || rt_symtab__by_name(t, "vm_exec_core") >= 0)
		return 0;
	if (elf_getshdrstrndx(elf, &v.shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(name = elf_strptr(elf, v.shstrndx, sh.sh_name)) || strcmp(name, ".eh_frame"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != sh.sh_size)
			return 0;
		if ((err = rt_cfi_table__set_lazy(&v.eh)) ||
		    (err = rt_cfi_table__add_section(&v.eh, data->d_buf, data->d_size, sh.sh_addr, true)))
			goto out;
		rt_cfi_table__finish(&v.eh);
		break;
	}
	if (!v.eh.lazy)
		return 0;
	if (rt_cs_open(CS_ARCH_X86, CS_MODE_64, &v.cs) != CS_ERR_OK)
		goto out;
	rt_cs_option(v.cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (!scan(&v, t, &exec, &core, &exec_named)) {
		err = rt_symtab__add(t, core.start, core.len, "vm_exec_core");
		if (!err && !exec_named)
			err = rt_symtab__add(t, exec.start, exec.len, "vm_exec");
		if (!err)
			err = exec_named ? 1 : 2;
	}
	rt_cs_close(&v.cs);
out:
	rt_cfi_table__exit(&v.eh);
	return err;
}
