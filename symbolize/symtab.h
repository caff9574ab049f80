/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * symtab: sorted symbol tables (internal to symbolize/).  Built from an ELF
 * symbol table, kallsyms or a JIT perf map, with perf's rules: symbols of
 * executable code only, one symbol per start address (chosen as perf
 * chooses), a zero-size symbol extending to the next one.
 */
#ifndef RT_SYMTAB_H
#define RT_SYMTAB_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

struct rt_sym {
	uint64_t start, end;    /* [start, end) */
	uint32_t name;          /* offset into names */
	uint8_t binding;        /* STB_* */
	uint8_t sized : 1;      /* had a non-zero size */
	uint8_t mangled : 1;    /* names holds the mangled form: demangled on use */
	uint16_t region;        /* kallsyms: which kernel part (core, a module) */
};

struct rt_symtab {
	struct rt_sym *syms;    /* sorted by start, unique starts */
	size_t nr, cap;
	char *names;
	size_t names_len, names_cap;
	/* kallsyms: names is the file's text itself, kept (mapped or read)
	 * rather than copied; a name ends at a space, tab or newline there. */
	bool names_in_text;
	bool names_mapped;      /* ... and mapped, of names_len bytes */
	/* the names handed out that had to be made, on first use: demangled,
	 * or cut out of the kallsyms text; by symbol index (idx1: index + 1,
	 * 0 empty) */
	struct rt_made_name {
		size_t idx1;
		char *name;
	} *made;
	size_t made_nr, made_cap;
};

struct rt_load_segment {
	uint64_t offset, vaddr, size;
};

/*
 * Loads the .symtab (else .dynsym) of symbols, plus "name@plt" entries
 * from runtime's PLT when runtime is not NULL (the file that is mapped;
 * symbols may be its separate debug file).  0 or -errno.
 */
int rt_symtab__load_elf(struct rt_symtab *t, Elf *symbols, Elf *runtime);
/* Loads kernel text symbols from a kallsyms file.  -EPERM when addresses are hidden. */
int rt_symtab__load_kallsyms(struct rt_symtab *t, const char *path);
/*
 * The same from kallsyms text already in memory (len bytes at buf, no NUL
 * needed), which t owns from then on: released by rt_symtab__exit()
 * (munmap() when mapped, else free()), or at once when t is not empty
 * (-EBUSY) or the text is over 4 GB (-E2BIG).
 */
int rt_symtab__parse_kallsyms(struct rt_symtab *t, char *buf, size_t len, bool mapped);
/* Longest perf map line read; longer lines are skipped. */
#define RT_PERF_MAP_LINE_MAX 8192
/* Largest perf map read (safefile's size cap). */
#define RT_PERF_MAP_MAX_SIZE (1ull << 30)
/* Loads a perf map ("START SIZE name" lines, hex) from @f, left open.  0 or -errno. */
int rt_symtab__load_perf_map(struct rt_symtab *t, FILE *f);
/*
 * Adds a function the file's symbol tables leave out (found by other means,
 * symbolize/rubyvm.c): [start, start + size) named name.  A symbol already
 * starting there keeps its place.  0 or -errno.
 */
int rt_symtab__add(struct rt_symtab *t, uint64_t start, uint64_t size, const char *name);
/* Index of the symbol named name (as the file spells it), or -1.  A linear
 * search: for a few look-ups per file. */
int32_t rt_symtab__by_name(const struct rt_symtab *t, const char *name);
/* Index of the symbol containing addr, or -1. */
int32_t rt_symtab__find(const struct rt_symtab *t, uint64_t addr);
/* The (demangled) name of symbol idx; borrowed until rt_symtab__exit(). */
const char *rt_symtab__name(struct rt_symtab *t, size_t idx);
void rt_symtab__exit(struct rt_symtab *t);
/*
 * Demangles a C++ or Rust name as perf does by default (no parameters, no
 * return type).  Returns a malloc'd string, or NULL when it is not mangled.
 */
char *rt_symtab__demangle(const char *name);
/* Size of an ELF image in memory (for the vDSO).  0 or -EINVAL. */
int rt_elf__image_size(const void *image, size_t *size);

#endif
