/* SPDX-License-Identifier: GPL-2.0-only */
#include "symbolize/inline.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfglue/safefile.h"
#include "symbolize/symtab.h"

/* Deeper nesting than this is a malformed file, not a program. */
#define MAX_DEPTH 64
#define MAX_CHAIN 64

/* An address range of a compilation unit, or of a function inside one. */
struct range {
	uint64_t lo, hi;        /* [lo, hi) */
	Dwarf_Off off;          /* the unit's or the function's DIE */
	uint32_t unit;          /* functions: index of their unit */
};

/* A unit's functions, sorted by lo; read on the first address inside it. */
struct unit_fns {
	bool read;
	struct range *fns;
	size_t nr;
};

/* A computed chain: names[first .. first + count) of the pool. */
struct chain_slot {
	uint64_t key;           /* vaddr + 1; 0 empty */
	uint32_t first, count;
};

struct rt_inline_dwarf {
	int fd;
	Elf *elf;
	Dwarf *dwarf;
	struct range *units;    /* sorted by lo */
	size_t nr_units, cap_units;
	struct unit_fns *unit_fns; /* per unit DIE, in reading order */
	Dwarf_Off *unit_offs;
	size_t nr_unit_offs;
	struct chain_slot *slots;
	size_t nr_slots, used_slots;
	const char **pool;
	size_t nr_pool, cap_pool;
	char **owned;           /* demangled names */
	size_t nr_owned, cap_owned;
};

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n * elem);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Appends die's address ranges to *v (a function's .cold part is a
 * second range of the same function). */
static int add_ranges(Dwarf_Die *die, Dwarf_Off off, uint32_t unit, struct range **v, size_t *nr,
		      size_t *cap)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t it = 0;

	while ((it = dwarf_ranges(die, it, &base, &lo, &hi)) > 0) {
		if (hi <= lo)
			continue;
		if (grow((void **)v, cap, *nr + 1, sizeof(**v)))
			return -ENOMEM;
		(*v)[(*nr)++] = (struct range){ .lo = lo, .hi = hi, .off = off, .unit = unit };
	}
	return 0;
}

/* The ranges of every compilation unit: which unit holds an address. */
static int read_units(struct rt_inline_dwarf *d)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	Dwarf_Half version;
	uint8_t unit_type;
	size_t cap_offs = 0;

	while (dwarf_get_units(d->dwarf, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		uint32_t idx = (uint32_t)d->nr_unit_offs;

		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		if (grow((void **)&d->unit_offs, &cap_offs, d->nr_unit_offs + 1,
			 sizeof(*d->unit_offs)) ||
		    add_ranges(&cudie, dwarf_dieoffset(&cudie), idx, &d->units, &d->nr_units,
			       &d->cap_units))
			return -ENOMEM;
		d->unit_offs[d->nr_unit_offs++] = dwarf_dieoffset(&cudie);
	}
	d->unit_fns = calloc(d->nr_unit_offs ? d->nr_unit_offs : 1, sizeof(*d->unit_fns));
	if (!d->unit_fns)
		return -ENOMEM;
	qsort(d->units, d->nr_units, sizeof(*d->units), range_cmp);
	return 0;
}

/* Functions at the top of a unit and inside namespaces (C++). */
static int read_fns(Dwarf_Die *parent, uint32_t unit, struct unit_fns *u, size_t *cap, int depth)
{
	Dwarf_Die child;
	int err = 0;

	if (depth > MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_subprogram)
			err = add_ranges(&child, dwarf_dieoffset(&child), unit, &u->fns, &u->nr, cap);
		else if (tag == DW_TAG_namespace)
			err = read_fns(&child, unit, u, cap, depth + 1);
	} while (!err && dwarf_siblingof(&child, &child) == 0);
	return err;
}

/* Index of the last range starting at or below addr that contains it. */
static const struct range *find_range(const struct range *v, size_t nr, uint64_t addr)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges rarely nest; a few steps back find a wider one that does. */
	for (size_t i = lo, steps = 0; i > 0 && steps < 16; i--, steps++)
		if (addr < v[i - 1].hi)
			return &v[i - 1];
	return NULL;
}

/* The function DIE containing addr, through the unit's function table. */
static bool find_function(struct rt_inline_dwarf *d, uint64_t addr, Dwarf_Die *fn)
{
	const struct range *unit = find_range(d->units, d->nr_units, addr), *f;
	struct unit_fns *u;

	if (!unit)
		return false;
	u = &d->unit_fns[unit->unit];
	if (!u->read) {
		Dwarf_Die cu;
		size_t cap = 0;

		u->read = true;
		if (!dwarf_offdie(d->dwarf, unit->off, &cu) || read_fns(&cu, unit->unit, u, &cap, 0)) {
			free(u->fns);
			u->fns = NULL;
			u->nr = 0;
			return false;
		}
		qsort(u->fns, u->nr, sizeof(*u->fns), range_cmp);
	}
	f = find_range(u->fns, u->nr, addr);
	return f && dwarf_offdie(d->dwarf, f->off, fn);
}

/* The name a DIE's function goes by: its linkage name demangled (C++),
 * else its name, through abstract origins and specifications. */
static const char *function_name(struct rt_inline_dwarf *d, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) &&
	    (name = dwarf_formstring(&attr))) {
		char *plain = rt_symtab__demangle(name);

		if (plain) {
			if (grow((void **)&d->owned, &d->cap_owned, d->nr_owned + 1,
				 sizeof(*d->owned))) {
				free(plain);
				return name;
			}
			d->owned[d->nr_owned++] = plain;
			return plain;
		}
		return name;
	}
	if (dwarf_attr_integrate(die, DW_AT_name, &attr))
		return dwarf_formstring(&attr);
	return NULL;
}

/* A DIE without addresses of its own, whose children may have some. */
static bool has_no_pc(Dwarf_Die *die)
{
	return !dwarf_hasattr(die, DW_AT_low_pc) && !dwarf_hasattr(die, DW_AT_ranges);
}

/*
 * The inline instances around addr inside function fn, outermost first,
 * into names[*n]: descends through the lexical blocks and inlined calls
 * whose ranges hold addr.  Only one child can hold it.
 */
static void walk_inlined(struct rt_inline_dwarf *d, Dwarf_Die *scope, uint64_t addr,
			 const char **names, size_t *n, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_DEPTH || dwarf_child(scope, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block &&
		    tag != DW_TAG_try_block && tag != DW_TAG_catch_block)
			continue;
		if (tag != DW_TAG_inlined_subroutine && has_no_pc(&child)) {
			/* A block without ranges: its inlined calls may still
			 * hold addr. */
			size_t before = *n;

			walk_inlined(d, &child, addr, names, n, depth + 1);
			if (*n > before)
				return;
			continue;
		}
		if (dwarf_haspc(&child, addr) != 1)
			continue;
		if (tag == DW_TAG_inlined_subroutine && *n < MAX_CHAIN) {
			const char *name = function_name(d, &child);

			names[(*n)++] = name ? name : "??";
		}
		walk_inlined(d, &child, addr, names, n, depth + 1);
		return;
	} while (dwarf_siblingof(&child, &child) == 0);
}

static uint64_t slot_hash(uint64_t key)
{
	key ^= key >> 31;
	key *= 0x9E3779B97F4A7C15ULL;
	return key ^ (key >> 29);
}

static int slots_grow(struct rt_inline_dwarf *d)
{
	size_t size = d->nr_slots ? d->nr_slots * 2 : 1024;
	struct chain_slot *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr_slots; i++) {
		size_t j;

		if (!d->slots[i].key)
			continue;
		for (j = slot_hash(d->slots[i].key) & (size - 1); t[j].key; j = (j + 1) & (size - 1))
			;
		t[j] = d->slots[i];
	}
	free(d->slots);
	d->slots = t;
	d->nr_slots = size;
	return 0;
}

/* Computes the chain of addr into the pool; returns its length or -ENOMEM. */
static int compute(struct rt_inline_dwarf *d, uint64_t addr, uint32_t *first)
{
	const char *names[MAX_CHAIN + 1];
	size_t n = 0;
	Dwarf_Die fn;

	*first = (uint32_t)d->nr_pool;
	if (!find_function(d, addr, &fn))
		return 0;
	names[n] = function_name(d, &fn);
	if (!names[n])
		return 0;
	n++;
	walk_inlined(d, &fn, addr, names, &n, 0);
	if (grow((void **)&d->pool, &d->cap_pool, d->nr_pool + n, sizeof(*d->pool)))
		return -ENOMEM;
	/* innermost first, as a callchain is */
	for (size_t i = 0; i < n; i++)
		d->pool[d->nr_pool + i] = names[n - 1 - i];
	d->nr_pool += n;
	return (int)n;
}

int rt_inline_dwarf__chain(struct rt_inline_dwarf *d, uint64_t vaddr, const char *const **names)
{
	uint64_t key = vaddr + 1;
	size_t i;
	uint32_t first;
	int n;

	*names = NULL;
	if (!key)
		return 0;
	if ((d->used_slots + 1) * 2 > d->nr_slots && slots_grow(d))
		return -ENOMEM;
	for (i = slot_hash(key) & (d->nr_slots - 1); d->slots[i].key; i = (i + 1) & (d->nr_slots - 1))
		if (d->slots[i].key == key) {
			/* no chain: the pool may not exist yet */
			*names = d->slots[i].count ? d->pool + d->slots[i].first : NULL;
			return (int)d->slots[i].count;
		}
	n = compute(d, vaddr, &first);
	if (n < 0)
		return n;
	d->slots[i] = (struct chain_slot){ .key = key, .first = first, .count = (uint32_t)n };
	d->used_slots++;
	*names = n ? d->pool + first : NULL;
	return n;
}

bool rt_elf__has_debug_info(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !sh.sh_size)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
			return true;
	}
	return false;
}

/*
 * libdw reads (and, compressed, inflates) every DWARF section it knows when
 * it opens a file; inline chains need only the DIEs, their strings, ranges
 * and addresses.  Renaming the other sections in this private copy of the
 * section headers leaves them out: libc's compressed debug file then opens
 * in about three quarters of the time.  The sections kept may inflate to
 * RT_INLINE_MAX_DWARF bytes together, or the file's DWARF is not used (a
 * small file must not claim gigabytes).  Old-style .zdebug sections, whose
 * sizes libelf does not check first, are left out.  False when the file's
 * DWARF is not to be read.
 */
static bool prepare_sections(Elf *elf)
{
	static const char *const unneeded[] = {
		"line", "loc", "loclists", "macro", "macinfo", "frame", "aranges", "pubnames",
		"pubtypes", "gnu_pubnames", "gnu_pubtypes",
	};
	uint64_t inflated = 0;
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Chdr ch;
		const char *name;
		bool drop;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		drop = !strncmp(name, ".zdebug_", 8);
		if (!drop && strncmp(name, ".debug_", 7))
			continue;
		for (size_t i = 0; !drop && i < sizeof(unneeded) / sizeof(unneeded[0]); i++)
			drop = !strcmp(name + 7, unneeded[i]);
		if (drop) {
			sh.sh_name = 0;     /* "": a section libdw ignores */
			gelf_update_shdr(scn, &sh);
		} else if ((sh.sh_flags & SHF_COMPRESSED) && sh.sh_type != SHT_NOBITS) {
			if (!gelf_getchdr(scn, &ch) || ch.ch_size > RT_INLINE_MAX_DWARF - inflated)
				return false;
			inflated += ch.ch_size;
		}
	}
	return true;
}

struct rt_inline_dwarf *rt_inline_dwarf__open(int fd)
{
	struct rt_inline_dwarf *d = calloc(1, sizeof(*d));
	struct stat st;
	int err = ENODATA;

	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->fd < 0 || fstat(d->fd, &st)) {
		err = errno;
		goto fail;
	}
	/* A file someone else owns is read, not mapped: truncating it must
	 * not raise SIGBUS here. */
	elf_version(EV_CURRENT);
	/* Private: the section headers are edited in memory, never in the file. */
	d->elf = elf_begin(d->fd, rt_safefile__owner_trusted(&st) ? ELF_C_READ_MMAP_PRIVATE :
			   ELF_C_READ, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF || !rt_elf__has_debug_info(d->elf))
		goto fail;
	if (!prepare_sections(d->elf)) {
		err = EFBIG;
		goto fail;
	}
	d->dwarf = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dwarf)
		goto fail;
	if (read_units(d)) {
		err = ENOMEM;
		goto fail;
	}
	if (!d->nr_units)
		goto fail;
	return d;
fail:
	rt_inline_dwarf__free(d);
	errno = err;
	return NULL;
}

void rt_inline_dwarf__free(struct rt_inline_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr_unit_offs && d->unit_fns; i++)
		free(d->unit_fns[i].fns);
	for (size_t i = 0; i < d->nr_owned; i++)
		free(d->owned[i]);
	free(d->owned);
	free(d->unit_fns);
	free(d->unit_offs);
	free(d->units);
	free(d->slots);
	free(d->pool);
	if (d->dwarf)
		dwarf_end(d->dwarf);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}
