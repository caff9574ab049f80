/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What rt-bpf's probe-based modes (record -e sdt_*, trace) read in a
 * program's ELF file before attaching: its USDT probes (the stapsdt notes),
 * the libraries it needs (DT_NEEDED), where an interpreter keeps its
 * probes in a shared library, and the offsets of functions that uprobes
 * take where a build has no probes.
 */
#ifndef RT_RTBPF_USDT_H
#define RT_RTBPF_USDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * true when the ELF file open at @fd has a USDT probe of @provider (its
 * first @provider_len bytes) named @name, or any probe of that provider
 * when @name is NULL.  The fd stays the caller's.
 */
bool rt_usdt__has_probe(int fd, const char *provider, size_t provider_len, const char *name);

/*
 * Calls @fn with each DT_NEEDED entry of the ELF file open at @fd, in
 * order, until it returns non-zero.  Returns that value, or 0.  The fd
 * stays the caller's.
 */
int rt_usdt__each_needed(int fd, int (*fn)(void *ctx, const char *lib), void *ctx);

/*
 * The file offset (where a uprobe goes) of function @name of the ELF file
 * open at @fd, from its .symtab (local symbols included) or else its
 * .dynsym.  Returns 0, -ENOENT when there is no such function, -ENOEXEC.
 */
int rt_usdt__function_offset(int fd, const char *name, uint64_t *offset);

/*
 * The file offset of the code that entry @index of table @table (an array
 * of code addresses, such as CPython's computed-goto opcode_targets; a
 * function-local static's "table.N" counts) in the ELF file open at @fd
 * points to, as the file holds it (the linker writes a relative
 * relocation's value in place too).  Returns 0, -ENOENT when there is no
 * such table or the entry points to no code, -EIO, -ENOEXEC.
 */
int rt_usdt__code_table_offset(int fd, const char *table, uint32_t index, uint64_t *offset);

#endif
