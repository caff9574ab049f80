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

#endif
