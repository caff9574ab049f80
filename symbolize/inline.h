/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * inline: the functions inlined at an address, from a file's DWARF.
 *
 * An optimized build folds small functions into their callers; the one ELF
 * symbol covering an address then names only the outermost function.  The
 * DWARF (.debug_info) still describes each inlined call as an inline
 * instance, and the chain of instances around an address is what
 * `perf script` shows as "(inlined)" frames.  One rt_inline_dwarf holds the
 * DWARF of one file (a program, a library or its separate debug file) and
 * remembers every chain it computed, so each (file, address) is looked up
 * once.
 */
#ifndef RT_INLINE_H
#define RT_INLINE_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt_inline_dwarf;

/* Most bytes a file's compressed DWARF sections may inflate to. */
#define RT_INLINE_MAX_DWARF (1ull << 30)

/*
 * Reads the DWARF of the ELF file open as @fd (which stays the caller's: the
 * module keeps its own duplicate).  Returns NULL with errno ENODATA when the
 * file has no .debug_info, EFBIG when its compressed DWARF would inflate
 * past RT_INLINE_MAX_DWARF, or another errno.
 */
struct rt_inline_dwarf *rt_inline_dwarf__open(int fd);

/* Frees it and every name it handed out.  NULL is a no-op. */
void rt_inline_dwarf__free(struct rt_inline_dwarf *dwarf);

/*
 * The functions around link-time address @vaddr, innermost first: the
 * inlined callees, then the function they were inlined into.  *names points
 * at the chain (borrowed until free).  Returns the number of names, 0 when
 * no DWARF describes the address (the caller keeps its symbol's name), or
 * -ENOMEM.
 */
int rt_inline_dwarf__chain(struct rt_inline_dwarf *dwarf, uint64_t vaddr,
			   const char *const **names);

/* True when @elf has a .debug_info section with contents. */
bool rt_elf__has_debug_info(Elf *elf);

#endif
