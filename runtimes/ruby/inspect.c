/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/disasm.h"
#include "runtimes/ruby/inspect.h"
#include "runtimes/ruby/decode.h"
#include "layouts/layout.h"
#include "bpf/record.h"

enum {
	SYM_VM_PTR,  /* ruby_current_vm_ptr */
	SYM_VERSION, /* ruby_version: the version string */
	SYM_ID2STR,  /* rb_id2str: the way to the global symbol table */
	SYM_AT_EXIT, /* ruby_vm_at_exit: the way to the VM pointer where it is hidden */
	NR_SYMS,
};

/* Debian's libruby is stripped to .dynsym, which has them all. */
static const struct rt_process_symbol rb_symbols[NR_SYMS] = {
	[SYM_VM_PTR] = { "ruby_current_vm_ptr", -1 },
	[SYM_VERSION] = { "ruby_version", -1 },
	[SYM_ID2STR] = { "rb_id2str", -1 },
	[SYM_AT_EXIT] = { "ruby_vm_at_exit", -1 },
};

static bool rb_has_symbols(const uint64_t *v)
{
	return (v[SYM_VM_PTR] || v[SYM_AT_EXIT]) && v[SYM_VERSION];
}

/*
 * 3.3 no longer exports ruby_current_vm_ptr.  ruby_vm_at_exit() starts with
 * GET_VM(), a load of that pointer, and touches no other global: the first
 * `mov reg, [rip + disp]` in it names the variable.  Returns its address,
 * 0 when the code reads otherwise.
 */
static uint64_t vm_ptr_from_at_exit(pid_t pid, uint64_t at_exit)
{
	uint64_t found = 0;
	uint8_t code[64];
	cs_insn *insn = NULL;
	size_t count;
	csh cs;

	if (rt_process__read(pid, at_exit, code, sizeof(code)) ||
	    rt_cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return 0;
	rt_cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	count = rt_cs_disasm(cs, code, sizeof(code), at_exit, 16, &insn);
	for (size_t i = 0; i < count && !found; i++) {
		cs_x86 *x = &insn[i].detail->x86;

		if (insn[i].id == X86_INS_RET || insn[i].id == X86_INS_JMP)
			break;
		if (insn[i].id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_MEM && x->operands[1].mem.base == X86_REG_RIP &&
		    x->operands[1].size == 8)
			found = insn[i].address + insn[i].size + (int64_t)x->operands[1].mem.disp;
	}
	rt_cs_free(insn, count);
	rt_cs_close(&cs);
	return found;
}

/* Takes @img for the struct rt_rbproc @ctx when its version string reads. */
static int rb_take_image(void *ctx, const struct rt_process_image *img)
{
	struct rt_rbproc *out = ctx;
	const uint64_t *v = img->values;
	char ver[16] = { 0 };

	/* the version the library itself reports, not its file name */
	if (rt_process__read(img->pid, img->bias + v[SYM_VERSION], ver, sizeof(ver) - 1) ||
	    sscanf(ver, "%d.%d.%d", &out->base.major, &out->base.minor, &out->base.patch) != 3)
		return -ENOENT;
	if (v[SYM_VM_PTR])
		out->vm_ptr_addr = img->bias + v[SYM_VM_PTR];
	else
		out->vm_ptr_addr = vm_ptr_from_at_exit(img->pid, img->bias + v[SYM_AT_EXIT]);
	if (!out->vm_ptr_addr)
		return -ENOENT;
	out->id2str_addr = v[SYM_ID2STR] ? img->bias + v[SYM_ID2STR] : 0;
	snprintf(out->base.elf, sizeof(out->base.elf), "%s", img->path);
	return 0;
}

/* Does @addr look like the global symbol table: a plausible last serial and
 * an Array of Arrays of IDs? */
static bool symbols_plausible(pid_t pid, uint64_t addr, const struct rt_layout_ruby *l)
{
	uint32_t last = 0;
	uint64_t ids = 0, flags = 0;

	if (rt_process__read(pid, addr + l->symbols_last_id, &last, sizeof(last)) || last < 100 ||
	    last > (1u << 28) || rt_process__read(pid, addr + l->symbols_ids, &ids, sizeof(ids)) || !ids ||
	    (ids & 7) || rt_process__read(pid, ids, &flags, sizeof(flags)))
		return false;
	return (flags & l->t_mask) == l->t_array;
}

/*
 * rb_id2str tail-calls (or calls) the lookup that compares the ID's serial
 * with the table's last_id: the first RIP-relative operand there that
 * looks like the table is it.  The table is a hidden symbol, so this is the
 * way to it in a stripped libruby.
 */
static uint64_t find_symbols(pid_t pid, uint64_t id2str, const struct rt_layout_ruby *l)
{
	uint64_t funcs[2] = { id2str, 0 }, found = 0;
	csh cs;

	if (!id2str || rt_cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return 0;
	rt_cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	for (int f = 0; f < 2 && funcs[f] && !found; f++) {
		uint8_t code[256];
		cs_insn *insn = NULL;
		size_t count;

		if (rt_process__read(pid, funcs[f], code, sizeof(code)))
			break;
		count = rt_cs_disasm(cs, code, sizeof(code), funcs[f], 48, &insn);
		for (size_t i = 0; i < count && !found; i++) {
			cs_x86 *x = &insn[i].detail->x86;

			for (int k = 0; k < x->op_count; k++) {
				uint64_t target;

				if (x->operands[k].type == X86_OP_IMM &&
				    (insn[i].id == X86_INS_JMP || insn[i].id == X86_INS_CALL) && f == 0 &&
				    !funcs[1]) {
					funcs[1] = (uint64_t)x->operands[k].imm;
					continue;
				}
				if (x->operands[k].type != X86_OP_MEM || x->operands[k].mem.base != X86_REG_RIP)
					continue;
				target = insn[i].address + insn[i].size + (int64_t)x->operands[k].mem.disp;
				if (symbols_plausible(pid, target - l->symbols_last_id, l)) {
					found = target - l->symbols_last_id;
					break;
				}
			}
			if (f == 0 && (insn[i].id == X86_INS_JMP || insn[i].id == X86_INS_RET))
				break;
		}
		rt_cs_free(insn, count);
	}
	rt_cs_close(&cs);
	return found;
}

/* Returns nonzero when @l has an offset outside the headers read here. */
static int layout_fits_host(const struct rt_layout_ruby *l)
{
	return l->rarray_len >= 40 || l->rarray_ptr >= 40 || l->rstring_len >= 32 ||
	       l->rstring_ptr >= 32 || !l->id_entry_unit;
}

static int array_at(pid_t pid, const struct rt_layout_ruby *l, uint64_t ary, uint64_t i,
		    uint64_t *out)
{
	uint64_t hdr[5], len, ptr;

	if (!ary || (ary & 7) || rt_process__read(pid, ary, hdr, sizeof(hdr)) ||
	    (hdr[0] & l->t_mask) != l->t_array)
		return -EINVAL;
	if (hdr[0] & l->rarray_embed_flag) {
		len = (hdr[0] & l->rarray_embed_len_mask) >> l->rarray_embed_len_shift;
		ptr = ary + l->rarray_embed;
	} else {
		len = hdr[l->rarray_len / 8];
		ptr = hdr[l->rarray_ptr / 8];
	}
	if (i >= len)
		return -ERANGE;
	return rt_process__read(pid, ptr + i * 8, out, sizeof(*out));
}

int rt_rbproc__read_string(pid_t pid, const struct rt_layout_ruby *l, uint64_t str, char *buf,
			   size_t size)
{
	uint64_t hdr[4], len, ptr;

	if (!size)
		return -EINVAL;
	buf[0] = 0;
	if (!str || (str & 7) || rt_process__read(pid, str, hdr, sizeof(hdr)) ||
	    (hdr[0] & l->t_mask) != l->t_string)
		return -EINVAL;
	if (hdr[0] & l->rstring_noembed) {
		len = hdr[l->rstring_len / 8];
		ptr = hdr[l->rstring_ptr / 8];
	} else {
		len = l->rstring_embed_len_mask ?
			      (hdr[0] & l->rstring_embed_len_mask) >> l->rstring_embed_len_shift :
			      hdr[l->rstring_len / 8];
		ptr = str + l->rstring_embed;
	}
	if (len > (1u << 24))
		return -EINVAL;
	if (len >= size)
		len = size - 1;
	if (len && rt_process__read(pid, ptr, buf, len))
		return -EFAULT;
	buf[len] = 0;
	return 0;
}

static bool string_is(pid_t pid, const struct rt_layout_ruby *l, uint64_t str, const char *want)
{
	char buf[32];

	return !rt_rbproc__read_string(pid, l, str, buf, sizeof(buf)) && !strcmp(buf, want);
}

int rt_rbproc__id_name(const struct rt_rbproc *proc, const struct rt_layout_ruby *l, uint64_t id,
		       char *buf, size_t size)
{
	uint64_t serial, ids = 0, entry = 0, str = 0;
	uint32_t last = 0;
	pid_t pid = proc->base.pid;

	if (!id || !proc->symbols_addr || layout_fits_host(l))
		return -ENOENT;
	serial = id > l->last_op_id ? id >> l->id_scope_shift : id;
	if (rt_process__read(pid, proc->symbols_addr + l->symbols_last_id, &last, sizeof(last)) ||
	    serial > last ||
	    rt_process__read(pid, proc->symbols_addr + l->symbols_ids, &ids, sizeof(ids)) ||
	    array_at(pid, l, ids, serial / l->id_entry_unit, &entry) ||
	    array_at(pid, l, entry, (serial % l->id_entry_unit) * l->id_entry_size, &str))
		return -ENOENT;
	return rt_rbproc__read_string(pid, l, str, buf, size);
}

int rt_rbproc__class_path(const struct rt_rbproc *proc, const struct rt_layout_ruby *l,
			  uint64_t klass, char *buf, size_t size, bool *singleton)
{
	uint64_t flags = 0, ext, v = 0;
	pid_t pid = proc->base.pid;

	*singleton = false;
	if (l->classext_classpath == RT_RUBY_NONE || !klass || (klass & 7) ||
	    rt_process__read(pid, klass, &flags, sizeof(flags)))
		return -ENOTSUP;
	for (int i = 0; i < 2; i++) {
		ext = klass + l->rclass_ext;
		if (!l->rclass_ext_inline && (rt_process__read(pid, ext, &ext, sizeof(ext)) || !ext))
			return -EFAULT;
		if (i || !(flags & l->fl_singleton))
			break;
		/* a singleton class: named after the object it is attached to */
		*singleton = true;
		if (rt_process__read(pid, ext + l->classext_attached, &klass, sizeof(klass)) || !klass)
			return -EFAULT;
	}
	if (rt_process__read(pid, ext + l->classext_classpath, &v, sizeof(v)))
		return -EFAULT;
	return rt_rbproc__read_string(pid, l, v, buf, size);
}

/* Address of the VM's thread list head (in the main ractor from 3.0):
 * 0, or -EAGAIN while the VM is not up. */
static int thread_list(const struct rt_rbproc *proc, const struct rt_layout_ruby *l,
		       uint64_t *head)
{
	uint64_t vm = 0, owner;
	pid_t pid = proc->base.pid;

	if (rt_process__read(pid, proc->vm_ptr_addr, &vm, sizeof(vm)) || !vm)
		return -EAGAIN;
	owner = vm;
	if (l->vm_main_ractor != RT_RUBY_NONE &&
	    (rt_process__read(pid, vm + l->vm_main_ractor, &owner, sizeof(owner)) || !owner))
		return -EAGAIN;
	*head = owner + l->thread_list;
	return 0;
}

int rt_rbproc__thread_ec(const struct rt_rbproc *proc, const struct rt_layout_ruby *l,
			 uint64_t pthread, uint64_t *ec)
{
	uint64_t head, node = 0;
	pid_t pid = proc->base.pid;

	if (thread_list(proc, l, &head) || rt_process__read(pid, head, &node, sizeof(node)))
		return -EAGAIN;
	/* a bounded walk: the list may change under it */
	for (int k = 0; k < 4096 && node && node != head; k++) {
		uint64_t th = node - l->thread_lt_node, holder = th, id = 0;

		if ((l->thread_nt == RT_RUBY_NONE ||
		     !rt_process__read(pid, th + l->thread_nt, &holder, sizeof(holder))) &&
		    holder && !rt_process__read(pid, holder + l->thread_pthread, &id, sizeof(id)) &&
		    id == pthread)
			return rt_process__read(pid, th + l->thread_ec, ec, sizeof(*ec)) || !*ec ?
				       -EAGAIN : 0;
		if (rt_process__read(pid, node, &node, sizeof(node)))
			break;
	}
	return -ENOENT;
}

int rt_rbproc__main_ec(const struct rt_rbproc *proc, const struct rt_layout_ruby *l, uint64_t *ec)
{
	uint64_t head, node = 0;
	pid_t pid = proc->base.pid;

	/* threads are appended to the list: the main thread is its first */
	if (thread_list(proc, l, &head) || rt_process__read(pid, head, &node, sizeof(node)) ||
	    !node || node == head ||
	    rt_process__read(pid, node - l->thread_lt_node + l->thread_ec, ec, sizeof(*ec)) || !*ec)
		return -EAGAIN;
	return 0;
}

int rt_rbproc__resolve_symbols(struct rt_rbproc *proc, const struct rt_layout_ruby *l)
{
	uint32_t last = 0;
	uint64_t ids = 0, entry = 0;

	if (layout_fits_host(l))
		return -EINVAL;
	if (!proc->symbols_addr)
		proc->symbols_addr = find_symbols(proc->base.pid, proc->id2str_addr, l);
	if (!proc->symbols_addr)
		return -EAGAIN;
	/* 3.3 keeps class paths in the class, not in instance variables */
	if ((proc->classpath_serial && proc->attached_serial) ||
	    l->classext_classpath != RT_RUBY_NONE)
		return 0;
	if (rt_process__read(proc->base.pid, proc->symbols_addr + l->symbols_last_id, &last, sizeof(last)) ||
	    rt_process__read(proc->base.pid, proc->symbols_addr + l->symbols_ids, &ids, sizeof(ids)))
		return -EFAULT;
	/* both are interned while the VM boots: early serials */
	for (uint64_t serial = 1; serial <= last && serial < 20000; serial++) {
		uint64_t str = 0;

		if (serial % l->id_entry_unit == 0 || !entry)
			if (array_at(proc->base.pid, l, ids, serial / l->id_entry_unit, &entry))
				break;
		if (array_at(proc->base.pid, l, entry, (serial % l->id_entry_unit) * l->id_entry_size, &str))
			continue;
		if (!proc->classpath_serial && string_is(proc->base.pid, l, str, "__classpath__"))
			proc->classpath_serial = (uint32_t)serial;
		else if (!proc->attached_serial && string_is(proc->base.pid, l, str, "__attached__"))
			proc->attached_serial = (uint32_t)serial;
		if (proc->classpath_serial && proc->attached_serial)
			return 0;
	}
	return -EAGAIN;
}

int rt_rbproc__walker_config(const struct rt_rbproc *proc, const struct rt_layout_ruby *l,
			     uint32_t generation, struct rt_ruby_walker_config *cfg)
{
	/* the walker reads a control frame and an iseq body in one piece each */
	if (l->cfp_size > RT_RUBY_CFP_READ || l->cfp_pc + 8 > l->cfp_size ||
	    l->cfp_iseq + 8 > l->cfp_size || l->cfp_ep + 8 > l->cfp_size ||
	    l->body_location_label + 8 > RT_RUBY_BODY_READ ||
	    l->body_location_pathobj + 8 > RT_RUBY_BODY_READ ||
	    l->body_location_first_lineno + 8 > RT_RUBY_BODY_READ ||
	    l->body_insns_info_body + 8 > RT_RUBY_BODY_READ ||
	    l->body_insns_info_positions + 8 > RT_RUBY_BODY_READ ||
	    l->body_insns_info_succ_index_table + 8 > RT_RUBY_BODY_READ ||
	    l->body_iseq_size + 4 > RT_RUBY_BODY_READ || l->body_insns_info_size + 4 > RT_RUBY_BODY_READ ||
	    l->env_me_cref != -2 || l->env_flags != 0 || l->me_called_id >= 40 || l->me_owner >= 40 ||
	    l->ec_cfp >= 24 || l->ec_vm_stack >= 24 || l->ec_vm_stack_size >= 24 ||
	    l->st_entries_start >= 56 || l->st_entries_bound >= 56 || l->st_entries >= 56 ||
	    l->st_entry_key != 8 || l->st_entry_record != 16 || layout_fits_host(l))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->vm_ptr_addr = proc->vm_ptr_addr;
	cfg->symbols_addr = proc->symbols_addr;
	cfg->version = (uint32_t)proc->base.major << 16 | (uint32_t)proc->base.minor << 8 | (uint32_t)proc->base.patch;
	cfg->generation = generation;
	cfg->classpath_serial = proc->classpath_serial;
	cfg->attached_serial = proc->attached_serial;
	cfg->off = *l;
	return 0;
}

/* What the tracker keeps per process. */
struct rb_state {
	bool resolved;       /* symbol table and serials found */
	bool reported;       /* handed to found() at least once */
	uint32_t generation;
	struct rt_rbproc proc;
};

/*
 * rt_runtime_desc.check: a Ruby process is reported when found, again when its
 * symbol table is found (with a new generation once it was reported), and
 * while the table is not found on its first and last retry.
 */
static void rb_check(struct rt_runtime_tracker *tr, struct rt_tracked_process *t)
{
	struct rb_state *s = t->state;
	const struct rt_layout *lv;

	if (!t->found) {
		if (rt_runtime_tracker__inspect(tr, t->pid, &s->proc.base))
			return;
		t->found = true;
		s->generation = rt_runtime_tracker__new_generation(tr);
		t->retries = 50; /* 5 s at the usual rescan period for the VM to boot */
	}
	lv = rt_layout__find(RT_RUNTIME_RUBY, s->proc.base.major, s->proc.base.minor,
			     s->proc.base.patch);
	if (lv && !rt_rbproc__resolve_symbols(&s->proc, &lv->ruby)) {
		/* C methods met before the symbol table was found were sent
		 * without names: a new generation makes the walker send them
		 * again */
		if (s->reported)
			s->generation = rt_runtime_tracker__new_generation(tr);
		s->resolved = true;
	}
	if (s->resolved || !lv || t->retries == 50 || t->retries == 1) {
		rt_runtime_tracker__report(tr, t->pid, &s->proc.base, s->generation);
		s->reported = true;
	}
	if (s->resolved || !lv)
		t->retries = 0;
}

/* rt_runtime_desc.select_layout: layouts/' table for its version. */
static int rb_select_layout(const struct rt_runtime_process *proc, const struct rt_layout *given,
			    struct rt_layout *out, char *msg, size_t msg_size)
{
	const struct rt_layout *l = rt_layout__find(RT_RUNTIME_RUBY, proc->major, proc->minor,
						    proc->patch);

	msg[0] = '\0';
	if (!l) {
		snprintf(msg, msg_size, "no layout for it (have: %s); docs/ruby.md says how to add one",
			 rt_layout_ruby__supported());
		return -ENOTSUP;
	}
	*out = *l;
	return 0;
}

static int rb_walker_config(const struct rt_runtime_process *proc, const struct rt_layout *layout,
			    uint32_t generation, void *cfg)
{
	return rt_rbproc__walker_config((const struct rt_rbproc *)proc, &layout->ruby, generation,
					cfg);
}

static void rb_describe(const struct rt_runtime_process *proc, char *buf, size_t size)
{
	snprintf(buf, size, ", symbol table %s",
		 ((const struct rt_rbproc *)proc)->symbols_addr ? "found" : "not found yet");
}

const struct rt_runtime_desc rt_runtime_ruby = {
	.name = "Ruby",
	.absent = "CRuby (no ruby_current_vm_ptr)",
	.versions = "Ruby 2.7, 3.1 and 3.3",
	.image = {
		.lib_name = "libruby",
		.syms = rb_symbols,
		.nr_syms = NR_SYMS,
		.has_symbols = rb_has_symbols,
		.take = rb_take_image,
	},
	.proc_size = sizeof(struct rt_rbproc),
	/* an executable named ruby* may not have mapped libruby yet */
	.exe_name = "ruby",
	.retries = 20,
	.state_size = sizeof(struct rb_state),
	.check = rb_check,
	.select_layout = rb_select_layout,
	.walker_config = rb_walker_config,
	.config_size = sizeof(struct rt_ruby_walker_config),
	.walker_map = "rb_pids",
	.describe = rb_describe,
	.decoding = &rt_ruby_decoding,
};
