/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * capstone, loaded on first use.  Linked in, its relocations cost every
 * start of rtmerge and rt-bpf about a millisecond (a tenth of rtmerge's
 * time on a small recording), while most runs disassemble nothing: only
 * the prologue unwinder and the Ruby VM's inspection do.  These are
 * capstone's calls of the same names and arguments; until the library is
 * loaded rt_cs_open loads it, and fails with CS_ERR_MEM if it cannot (the
 * reason on stderr, once).
 */
#ifndef RT_PERFGLUE_DISASM_H
#define RT_PERFGLUE_DISASM_H

#include <capstone/capstone.h>

cs_err rt_cs_open(cs_arch arch, cs_mode mode, csh *handle);
cs_err rt_cs_option(csh handle, cs_opt_type type, size_t value);
cs_err rt_cs_close(csh *handle);
cs_insn *rt_cs_malloc(csh handle);
void rt_cs_free(cs_insn *insn, size_t count);
bool rt_cs_disasm_iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
		       cs_insn *insn);
size_t rt_cs_disasm(csh handle, const uint8_t *code, size_t size, uint64_t address,
		    size_t count, cs_insn **insn);

#endif
