/* SPDX-License-Identifier: GPL-2.0-only */
#include "symbolize/symtab.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libiberty/demangle.h>

/*
 * Demangles C++ and Rust names with libiberty and no options, as perf
 * does by default: no parameters, no return type ("operator new[]",
 * "ns::Class<int>::method").  Returns a malloc'd string, or NULL when the
 * name is not mangled.
 */
char *rt_symtab__demangle(const char *name)
{
	if (name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	return cplus_demangle(name, DMGL_NO_OPTS);
}

static const char *name_end(const char *p, const char *end);

static int add_name(struct rt_symtab *t, const char *name, size_t len, uint32_t *off)
{
	if (t->names_in_text)
		return -EBUSY; /* its names are the kallsyms text's */
	if (t->names_len + len + 1 > t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap : 4096;
		char *n;

		while (cap < t->names_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -E2BIG;
		n = realloc(t->names, cap);
		if (!n)
			return -ENOMEM;
		t->names = n;
		t->names_cap = cap;
	}
	memcpy(t->names + t->names_len, name, len);
	t->names[t->names_len + len] = '\0';
	*off = (uint32_t)t->names_len;
	t->names_len += len + 1;
	return 0;
}

/* Room for about nr more symbols with names of names_len bytes in all. */
static void reserve(struct rt_symtab *t, size_t nr, size_t names_len)
{
	if (t->nr + nr > t->cap) {
		struct rt_sym *n = realloc(t->syms, (t->nr + nr) * sizeof(*n));

		if (n) {
			t->syms = n;
			t->cap = t->nr + nr;
		}
	}
	if (t->names_len + names_len > t->names_cap && t->names_len + names_len <= UINT32_MAX) {
		char *n = realloc(t->names, t->names_len + names_len);

		if (n) {
			t->names = n;
			t->names_cap = t->names_len + names_len;
		}
	}
}

/* Room for one more symbol. */
static int grow_syms(struct rt_symtab *t)
{
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct rt_sym *n = realloc(t->syms, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->syms = n;
		t->cap = cap;
	}
	return 0;
}

static int add_sym(struct rt_symtab *t, uint64_t start, uint64_t size, const char *name,
		   size_t len, uint8_t binding)
{
	struct rt_sym *s;
	int err = grow_syms(t);

	if (err)
		return err;
	s = &t->syms[t->nr];
	err = add_name(t, name, len, &s->name);
	if (err)
		return err;
	s->start = start;
	s->end = start + size;
	s->binding = binding;
	s->sized = size != 0;
	s->mangled = 0;
	s->region = 0;
	t->nr++;
	return 0;
}

/* A kallsyms symbol: zero size, its name at offset name of the text. */
static int add_text_sym(struct rt_symtab *t, uint64_t start, uint32_t name, uint8_t binding,
			uint16_t region)
{
	if (grow_syms(t))
		return -ENOMEM;
	t->syms[t->nr++] = (struct rt_sym){ .start = start, .end = start, .name = name,
					    .binding = binding, .region = region };
	return 0;
}

static bool is_mangled(const char *name)
{
	return name[0] == '_' && (name[1] == 'Z' || name[1] == 'R');
}

/* Length of sym's name as the table holds it (kallsyms text: up to the
 * separator after it). */
static size_t raw_len(const struct rt_symtab *t, const struct rt_sym *sym)
{
	const char *raw = t->names + sym->name;

	if (t->names_in_text)
		return (size_t)(name_end(raw, t->names + t->names_len) - raw);
	return strlen(raw);
}

/*
 * The slot of symbol idx's name as handed out (added empty when new), in
 * an open-addressing table: a recording hits a few hundred symbols of a
 * table of a hundred thousand, so an array of a pointer per symbol would
 * be mostly zeros to clear.  NULL when out of memory.
 */
static struct rt_made_name *made_slot(struct rt_symtab *t, size_t idx)
{
	size_t mask, i;

	if ((t->made_nr + 1) * 2 > t->made_cap) {
		size_t cap = t->made_cap ? t->made_cap * 2 : 64;
		struct rt_made_name *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		for (i = 0; i < t->made_cap; i++) {
			size_t j;

			if (!t->made[i].idx1)
				continue;
			for (j = rt_hash64(t->made[i].idx1) & (cap - 1); n[j].idx1; j = (j + 1) & (cap - 1))
				;
			n[j] = t->made[i];
		}
		free(t->made);
		t->made = n;
		t->made_cap = cap;
	}
	mask = t->made_cap - 1;
	for (i = rt_hash64(idx + 1) & mask; t->made[i].idx1 && t->made[i].idx1 != idx + 1;
	     i = (i + 1) & mask)
		;
	if (!t->made[i].idx1) {
		t->made[i].idx1 = idx + 1;
		t->made_nr++;
	}
	return &t->made[i];
}

/*
 * Demangling every symbol of a big C++ library costs more than reading
 * it; only the symbols a recording hits are demangled, once.  Kernel
 * names are copied out of kallsyms the same way, only those hit.
 */
const char *rt_symtab__name(struct rt_symtab *t, size_t idx)
{
	const char *raw = t->names + t->syms[idx].name;
	struct rt_made_name *slot;

	if (!t->names_in_text && !t->syms[idx].mangled)
		return raw;
	slot = made_slot(t, idx);
	if (!slot)
		return t->names_in_text ? "[unknown]" : raw;
	if (!slot->name && t->names_in_text)
		slot->name = strndup(raw, raw_len(t, &t->syms[idx]));
	else if (!slot->name && !(slot->name = rt_symtab__demangle(raw)))
		t->syms[idx].mangled = 0;   /* not demangleable: the raw name it is */
	if (!slot->name)
		return t->names_in_text ? "[unknown]" : raw;
	return slot->name;
}

/* Leading underscores of the len-byte name s. */
static size_t underscores(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] == '_')
		n++;
	return n;
}

/*
 * perf's choice between two symbols at one address (choose_best_symbol),
 * made after zero-size symbols got their extent: true keeps a.
 */
static bool prefer_first(const struct rt_symtab *t, const struct rt_sym *a, const struct rt_sym *b)
{
	const char *na = t->names + a->name, *nb = t->names + b->name;
	bool a_sized = a->end > a->start, b_sized = b->end > b->start, keep_a = true;
	char *da = NULL, *db = NULL;
	size_t la, lb;

	if (a_sized != b_sized)
		return a_sized;
	if ((a->binding == STB_WEAK) != (b->binding == STB_WEAK))
		return b->binding == STB_WEAK;
	if ((a->binding == STB_GLOBAL) != (b->binding == STB_GLOBAL))
		return a->binding == STB_GLOBAL;
	/* perf compares the demangled names. */
	if (a->mangled && (da = rt_symtab__demangle(na)))
		na = da;
	if (b->mangled && (db = rt_symtab__demangle(nb)))
		nb = db;
	/* kallsyms names end at a separator, maybe the text's last byte */
	la = da ? strlen(da) : raw_len(t, a);
	lb = db ? strlen(db) : raw_len(t, b);
	if (underscores(na, la) != underscores(nb, lb))
		keep_a = underscores(na, la) < underscores(nb, lb);
	else if (la != lb)
		keep_a = la > lb;
	free(da);
	free(db);
	return keep_a;
}

struct sort_key {
	uint64_t start;
	uint64_t pos;
};

/*
 * Stable sort by start.  Symbol tables hold up to hundreds of thousands of
 * entries: an LSD radix sort on the start address (stable by nature, so
 * equal starts keep their table order), skipping bytes all keys share.
 */
static int sort_stable(struct rt_symtab *t)
{
	struct sort_key *a, *b, *swap;
	struct rt_sym *sorted;
	size_t i, n = t->nr;
	uint64_t diff = 0;
	int shift;

	if (n < 2)
		return 0;
	/* kallsyms and many symbol tables come in order already. */
	for (i = 1; i < n && t->syms[i - 1].start <= t->syms[i].start; i++)
		;
	if (i == n)
		return 0;
	a = malloc(n * sizeof(*a));
	b = malloc(n * sizeof(*b));
	sorted = malloc(n * sizeof(*sorted));
	if (!a || !b || !sorted) {
		free(a);
		free(b);
		free(sorted);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		a[i].start = t->syms[i].start;
		a[i].pos = i;
		diff |= a[i].start ^ a[0].start;
	}
	for (shift = 0; shift < 64; shift += 8) {
		size_t count[256] = { 0 }, sum = 0;

		if (!((diff >> shift) & 0xff))
			continue;
		for (i = 0; i < n; i++)
			count[(a[i].start >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[count[(a[i].start >> shift) & 0xff]++] = a[i];
		swap = a;
		a = b;
		b = swap;
	}
	for (i = 0; i < n; i++)
		sorted[i] = t->syms[a[i].pos];
	free(t->syms);
	t->syms = sorted;
	t->cap = n;
	free(a);
	free(b);
	return 0;
}

static uint64_t page_up(uint64_t x)
{
	return (x + 4095) & ~(uint64_t)4095;
}

/*
 * perf's order: sort, give each zero-size symbol the extent up to the
 * next start (symbols__fixup_end), then keep one symbol per start
 * (symbols__fixup_duplicate).  Doing the fixup first matters: of several
 * zero-size aliases only the last one gets an extent, and so wins.  Where
 * the next symbol lies in another region (kernel vs module), and after
 * the last symbol, the extent ends a page further, as in perf.
 */
static int finish(struct rt_symtab *t, bool fixup_end)
{
	size_t i, n = 0;
	int err = sort_stable(t);

	if (err || !t->nr)
		return err;
	if (fixup_end) {
		for (i = 0; i + 1 < t->nr; i++) {
			struct rt_sym *prev = &t->syms[i], *curr = &t->syms[i + 1];

			if (prev->end != prev->start)
				continue;
			if (prev->region != curr->region) {
				prev->end = page_up(prev->start + 4096);
				if (prev->end > curr->start && curr->start > prev->start)
					prev->end = curr->start;
			} else {
				prev->end = curr->start;
			}
		}
		if (t->syms[t->nr - 1].end == t->syms[t->nr - 1].start)
			t->syms[t->nr - 1].end = page_up(t->syms[t->nr - 1].start) + 4096;
	}
	for (i = 0; i < t->nr; i++) {
		if (n && t->syms[n - 1].start == t->syms[i].start) {
			if (!prefer_first(t, &t->syms[n - 1], &t->syms[i]))
				t->syms[n - 1] = t->syms[i];
			continue;
		}
		t->syms[n++] = t->syms[i];
	}
	t->nr = n;
	return 0;
}

/* A JIT reuses addresses: of entries with one start, the newest wins. */
static int finish_last_wins(struct rt_symtab *t)
{
	size_t i, n = 0;
	int err = sort_stable(t);

	if (err)
		return err;
	for (i = 0; i < t->nr; i++) {
		if (n && t->syms[n - 1].start == t->syms[i].start) {
			t->syms[n - 1] = t->syms[i];
			continue;
		}
		t->syms[n++] = t->syms[i];
	}
	t->nr = n;
	return 0;
}

int rt_symtab__add(struct rt_symtab *t, uint64_t start, uint64_t size, const char *name)
{
	int err;

	if (t->made)
		return -EBUSY; /* names already handed out by index */
	err = add_sym(t, start, size, name, strlen(name), STB_LOCAL);
	/* finish() keeps the first of equal starts unless perf would prefer
	 * the other: a real symbol at start outranks this local one. */
	return err ? err : finish(t, false);
}

int32_t rt_symtab__by_name(const struct rt_symtab *t, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < t->nr; i++) {
		const char *raw = t->names + t->syms[i].name;

		if (t->names_in_text ? raw_len(t, &t->syms[i]) == len && !memcmp(raw, name, len) :
				       !strcmp(raw, name))
			return (int32_t)i;
	}
	return -1;
}

int32_t rt_symtab__find(const struct rt_symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr, back;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo - 1 is the last symbol starting at or below addr; a nested symbol
	 * may end before addr while an enclosing one further back covers it. */
	for (back = 0; lo > 0 && back < 4; back++, lo--)
		if (addr < t->syms[lo - 1].end)
			return (int32_t)(lo - 1);
	return -1;
}

void rt_symtab__exit(struct rt_symtab *t)
{
	size_t i;

	for (i = 0; i < t->made_cap; i++)
		free(t->made[i].name);
	free(t->made);
	free(t->syms);
	if (t->names_mapped)
		munmap(t->names, t->names_len);
	else
		free(t->names);
	memset(t, 0, sizeof(*t));
}

/* Per section of an ELF file: what load_section asks of a symbol's section. */
enum { SEC_EXEC = 1, SEC_TEXT_NAME = 2 };

/*
 * The SEC_* flags of every section, looked up once per file rather than
 * once per symbol (a symbol table has tens of thousands of entries and a
 * file a few dozen sections).  NULL when out of memory.
 */
static uint8_t *section_flags(Elf *elf, size_t *nr)
{
	size_t shstrndx;
	bool have_shstr = elf_getshdrstrndx(elf, &shstrndx) == 0;
	Elf_Scn *scn = NULL;
	uint8_t *flags;

	if (elf_getshdrnum(elf, nr))
		*nr = 0;
	flags = calloc(*nr ? *nr : 1, 1);
	if (!flags)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		size_t idx = elf_ndxscn(scn);
		GElf_Shdr sh;
		const char *name;

		if (idx >= *nr || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		flags[idx] = SEC_EXEC;
		name = have_shstr ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (name && strstr(name, "text"))
			flags[idx] |= SEC_TEXT_NAME;
	}
	return flags;
}

/*
 * The string table's bytes when every string in it can be read in place
 * (one uncompressed chunk ending in a NUL), else NULL: elf_strptr then.
 */
static const char *plain_strtab(Elf *elf, size_t idx, size_t *size)
{
	Elf_Scn *scn = elf_getscn(elf, idx);
	Elf_Data *data;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB ||
	    (sh.sh_flags & SHF_COMPRESSED))
		return NULL;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size || data->d_size != sh.sh_size ||
	    elf_getdata(scn, data) || ((const char *)data->d_buf)[data->d_size - 1])
		return NULL;
	*size = data->d_size;
	return data->d_buf;
}

static int load_section(struct rt_symtab *t, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, nr, nr_sections = 0, strtab_size = 0;
	const char *strtab = plain_strtab(elf, sh->sh_link, &strtab_size);
	/* 64-bit symbols (libelf gives them in this host's byte order) are
	 * copied out directly; they may lie unaligned in a mapped file. */
	const char *native = NULL;
	uint8_t *sec_flags;
	int err = 0;

	if (!data || !sh->sh_entsize)
		return 0;
	sec_flags = section_flags(elf, &nr_sections);
	if (!sec_flags)
		return -ENOMEM;
	if (gelf_getclass(elf) == ELFCLASS64 && data->d_type == ELF_T_SYM &&
	    sh->sh_entsize == sizeof(Elf64_Sym))
		native = data->d_buf;
	nr = data->d_size / sh->sh_entsize;
	for (i = 0; i < nr; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (native)
			memcpy(&sym, native + i * sizeof(Elf64_Sym), sizeof(sym));
		else if (!gelf_getsym(data, (int)i, &sym))
			continue;
		if (!sym.st_name)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT &&
		    type != STT_NOTYPE)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE ||
		    sym.st_shndx >= nr_sections || !(sec_flags[sym.st_shndx] & SEC_EXEC))
			continue;
		/*
		 * perf takes an untyped symbol only as a zero-size label in a
		 * section named like "text"; one with a size it ignores.
		 */
		if (type == STT_NOTYPE && (sym.st_size || !(sec_flags[sym.st_shndx] & SEC_TEXT_NAME)))
			continue;
		if (strtab)
			name = sym.st_name < strtab_size ? strtab + sym.st_name : NULL;
		else
			name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !name[0])
			continue;
		/* perf drops these markers of code it cannot attribute. */
		if (type == STT_NOTYPE && (!strcmp(name, "$x") || !strncmp(name, ".L", 2)))
			continue;
		err = add_sym(t, sym.st_value, sym.st_size, name, strlen(name),
			      (uint8_t)GELF_ST_BIND(sym.st_info));
		if (err)
			break;
		t->syms[t->nr - 1].mangled = is_mangled(name);
	}
	free(sec_flags);
	return err;
}

static Elf_Scn *section_by_name(Elf *elf, const char *want, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, out))
			continue;
		name = elf_strptr(elf, shstrndx, out->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/*
 * Names the PLT stubs "sym@plt" from the .rela.plt relocations, in order,
 * the way perf 6.1 does: one entry per relocation, entry and header size
 * both .plt's sh_entsize (no names at all when that is 0, where perf's
 * entries all collapse onto .plt's first byte).  A file built with IBT
 * has its call stubs in .plt.sec instead: those are named (as newer perf
 * does), since a .plt name there would be wrong.  Names are demangled.
 */
static int synthesize_plt(struct rt_symtab *t, Elf *elf)
{
	Elf_Scn *rela, *plt, *plt_sec, *dyn;
	GElf_Shdr rela_sh, plt_sh, sec_sh, dyn_sh;
	Elf_Data *rela_data, *dyn_data;
	uint64_t base, entry;
	size_t i, nr;
	char name[1024];
	int err;

	rela = section_by_name(elf, ".rela.plt", &rela_sh);
	plt = section_by_name(elf, ".plt", &plt_sh);
	if (!rela || !plt || rela_sh.sh_type != SHT_RELA || !rela_sh.sh_entsize)
		return 0;
	dyn = elf_getscn(elf, rela_sh.sh_link);
	if (!dyn || !gelf_getshdr(dyn, &dyn_sh) || dyn_sh.sh_type != SHT_DYNSYM)
		return 0;
	plt_sec = section_by_name(elf, ".plt.sec", &sec_sh);
	if (plt_sec && sec_sh.sh_entsize) {
		base = sec_sh.sh_addr;
		entry = sec_sh.sh_entsize;
	} else {
		if (!plt_sh.sh_entsize)
			return 0;
		entry = plt_sh.sh_entsize;
		base = plt_sh.sh_addr + entry;
	}
	rela_data = elf_getdata(rela, NULL);
	dyn_data = elf_getdata(dyn, NULL);
	if (!rela_data || !dyn_data)
		return 0;
	nr = rela_data->d_size / rela_sh.sh_entsize;
	for (i = 0; i < nr; i++) {
		GElf_Rela r;
		GElf_Sym sym;
		const char *sname = NULL;
		char *plain;

		if (!gelf_getrela(rela_data, (int)i, &r))
			continue;
		/* An IRELATIVE slot has no symbol: perf names it "@plt". */
		if (gelf_getsym(dyn_data, (int)GELF_R_SYM(r.r_info), &sym))
			sname = elf_strptr(elf, dyn_sh.sh_link, sym.st_name);
		if (!sname)
			sname = "";
		plain = rt_symtab__demangle(sname);
		snprintf(name, sizeof(name), "%s@plt", plain ? plain : sname);
		free(plain);
		err = add_sym(t, base + i * entry, entry, name, strlen(name), STB_GLOBAL);
		if (err)
			return err;
	}
	return 0;
}

static Elf_Scn *find_symbols(Elf *elf, Elf64_Word type, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, out) && out->sh_type == type && out->sh_size)
			return scn;
	return NULL;
}

int rt_symtab__load_elf(struct rt_symtab *t, Elf *symbols, Elf *runtime)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t nr;
	int err = 0;

	scn = find_symbols(symbols, SHT_SYMTAB, &sh);
	if (!scn)
		scn = find_symbols(symbols, SHT_DYNSYM, &sh);
	if (scn)
		err = load_section(t, symbols, scn, &sh);
	if (!err)
		err = finish(t, true);
	if (err || !runtime)
		return err;
	/* perf adds the PLT names after fixing up the other symbols' ends. */
	nr = t->nr;
	err = synthesize_plt(t, runtime);
	if (err || t->nr == nr)
		return err;
	return finish(t, false);
}

/* A hex digit's value plus one by byte, 0 for the rest: kallsyms has 16
 * digits per line, and a table beats comparisons there. */
static const uint8_t hex_value1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Whether any byte of v equals the byte b (exact as a yes/no answer). */
static bool word_has_byte(uint64_t v, uint8_t b)
{
	v ^= 0x0101010101010101ull * b;
	return (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
}

/*
 * The first space or tab in [p, end), else end.  kallsyms names are most
 * of its bytes and nearly all end the line: eight bytes are tested at a
 * time, the word holding the separator byte by byte.
 */
static const char *token_end(const char *p, const char *end)
{
	uint64_t v;

	while (end - p >= 8) {
		memcpy(&v, p, sizeof(v));
		if (word_has_byte(v, ' ') || word_has_byte(v, '\t'))
			break;
		p += 8;
	}
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* 0x80 in each byte of v (eight ASCII characters) within [lo, hi]. */
static uint64_t bytes_within(uint64_t v, uint8_t lo, uint8_t hi)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t low7 = v & ~high;

	return (low7 + ones * (uint8_t)(0x80 - lo)) & ~(low7 + ones * (uint8_t)(0x7f - hi)) & ~v &
	       high;
}

/*
 * The value of the 16 hex digits at p, eight at a time (false when one of
 * them is no hex digit): digit checks and conversion were most of the
 * cost of reading kallsyms byte by byte.
 */
static bool hex16(const char *p, uint64_t *out)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t r = 0;

	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return false; /* the byte-wise path then */
	for (int k = 0; k < 2; k++) {
		uint64_t v, x;

		memcpy(&v, p + 8 * k, sizeof(v));
		if ((bytes_within(v, '0', '9') | bytes_within(v, 'a', 'f') |
		     bytes_within(v, 'A', 'F')) != high)
			return false;
		/* each byte its digit's value: the low nibble, plus 9 for letters */
		x = (v & 0x0f0f0f0f0f0f0f0full) + 9 * ((v >> 6) & ones);
		/* the first character is the most significant digit */
		x = ((x & 0x000f000f000f000full) << 4) | ((x >> 8) & 0x000f000f000f000full);
		x = ((x & 0x000000ff000000ffull) << 8) | ((x >> 16) & 0x000000ff000000ffull);
		x = ((x & 0xffffull) << 16) | ((x >> 32) & 0xffffull);
		r = r << 32 | x;
	}
	*out = r;
	return true;
}

/* 0x80 in the byte of v equal to b, exact for the lowest such byte
 * (a higher one may be marked wrongly). */
static uint64_t word_match(uint64_t v, uint8_t b)
{
	v ^= 0x0101010101010101ull * b;
	return (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
}

/* The first space, tab or newline in [p, end), else end: a name's end and,
 * when it is the newline, the line's.  The lowest mark of the three
 * matches is a true one: its byte is the answer. */
static const char *name_end(const char *p, const char *end)
{
	uint64_t v, m;

#ifdef __SSE2__
	/* sixteen bytes a step where the CPU has it (every x86-64) */
	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)p);
		int hit = _mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))),
			_mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))));

		if (hit)
			return p + __builtin_ctz((unsigned int)hit);
		p += 16;
	}
#endif
	while (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && end - p >= 8) {
		memcpy(&v, p, sizeof(v));
		m = word_match(v, ' ') | word_match(v, '\t') | word_match(v, '\n');
		if (m)
			return p + __builtin_ctzll(m) / 8;
		p += 8;
	}
	while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	return p;
}

/* Reads a whole file (procfs files report size 0, so read until EOF). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 20, n = 0;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		cap *= 2;
		char *bigger = realloc(buf, cap + 1);

		if (!bigger) {
			free(buf);
			buf = NULL;
		}
		buf = bigger;
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	} else {
		errno = errno ? errno : ENOMEM;
	}
	return buf;
}

/* path's bytes: mapped when it is a regular file (no copy), else read
 * (files in /proc).  *mapped tells which; release with unslurp(). */
static char *slurp_or_map(const char *path, size_t *len, bool *mapped)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map;

	*mapped = false;
	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (map == MAP_FAILED)
			return NULL;
		*mapped = true;
		*len = (size_t)st.st_size;
		return map;
	}
	close(fd);
	return slurp(path, len);
}

static void unslurp(char *buf, size_t len, bool mapped)
{
	if (mapped)
		munmap(buf, len);
	else
		free(buf);
}

int rt_symtab__load_kallsyms(struct rt_symtab *t, const char *path)
{
	size_t len = 0;
	bool mapped;
	char *buf = slurp_or_map(path, &len, &mapped);

	if (!buf)
		return -errno;
	return rt_symtab__parse_kallsyms(t, buf, len, mapped);
}

int rt_symtab__parse_kallsyms(struct rt_symtab *t, char *buf, size_t len, bool mapped)
{
	char *p, *end, *module = NULL;
	size_t module_len = 0;
	bool any_nonzero = false;
	uint16_t region = 0;
	int err = 0;

	if (t->names || len > UINT32_MAX) {
		unslurp(buf, len, mapped);
		return t->names ? -EBUSY : -E2BIG;
	}
	/* The names stay in the text: the table owns it from here on. */
	t->names = buf;
	t->names_len = t->names_cap = len;
	t->names_in_text = true;
	t->names_mapped = mapped;
	end = buf + len;
	/* A kallsyms line is "ADDR T name [module]": about 44 bytes; nearly
	 * all are text symbols. */
	reserve(t, len / 40, 0);
	for (p = buf; p < end; ) {
		char *line_end, *name, *q;
		uint64_t addr = 0;
		int digits = 0, v;
		char type;
		size_t name_len;

		/* Nearly every line: 16 hex digits, a space, the type, a name
		 * ended by the line or by a module's separator, each found in
		 * one pass.  Anything else takes the byte-wise path. */
		if (end - p >= 20 && p[16] == ' ' && hex16(p, &addr) && p[18] != '\n' &&
		    p[19] != '\n' && ((p[17] | 0x20) == 't' || (p[17] | 0x20) == 'w')) {
			type = p[17];
			name = p + 19;
			q = (char *)name_end(name, end);
			line_end = q < end && *q != '\n' ? memchr(q, '\n', (size_t)(end - q)) : q;
			if (!line_end)
				line_end = end;
			p = line_end + 1;
			goto named;
		}
		line_end = memchr(p, '\n', (size_t)(end - p));
		if (!line_end)
			line_end = end;
		while (p < line_end && (v = hex_value1[(uint8_t)*p] - 1) >= 0 && digits < 17) {
			addr = addr << 4 | (uint64_t)v;
			p++;
			digits++;
		}
		if (!digits || digits > 16 || line_end - p < 4 || *p != ' ') {
			p = line_end + 1;
			continue;
		}
		type = p[1];
		name = p + 3;
		p = line_end + 1;
		if ((type | 0x20) != 't' && (type | 0x20) != 'w')
			continue;
		q = (char *)token_end(name, line_end);
named:
		if (addr)
			any_nonzero = true;
		name_len = (size_t)(q - name);
		if (!name_len)
			continue;
		/* Each module's symbols are listed together: count the changes. */
		{
			char *mod = q;
			size_t mod_len;

			while (mod < line_end && (*mod == ' ' || *mod == '\t'))
				mod++;
			mod_len = mod < line_end && *mod == '[' ? (size_t)(line_end - mod) : 0;
			if (mod_len != module_len || (mod_len && memcmp(mod, module, mod_len))) {
				module = mod;
				module_len = mod_len;
				region++;
			}
		}
		/* perf's binding for kallsyms types: 'W' weak, other upper case
		 * global (of the text types left, 'T'). */
		err = add_text_sym(t, addr, (uint32_t)(name - buf),
				   type == 'W' ? STB_WEAK : type == 'T' ? STB_GLOBAL : STB_LOCAL,
				   region);
		if (err)
			return err;
	}
	if (!any_nonzero) {
		rt_symtab__exit(t);
		return -EPERM;
	}
	/* Of aliases perf keeps the one listed last: only it gets an extent. */
	return finish(t, true);
}

int rt_symtab__load_perf_map(struct rt_symtab *t, FILE *f)
{
	char *line = malloc(RT_PERF_MAP_LINE_MAX);
	ssize_t got;
	int err = 0;

	if (!line)
		return -ENOMEM;
	/* Anyone may have written the map: lines are bounded, longer ones skipped. */
	while ((got = rt_safefile__getline(f, line, RT_PERF_MAP_LINE_MAX)) != -1) {
		if (got <= 0)
			continue;
		char *p = line, *end;
		unsigned long long start, size;
		size_t len;

		start = strtoull(p, &end, 16);
		if (end == p || *end != ' ')
			continue;
		p = end + 1;
		size = strtoull(p, &end, 16);
		if (end == p || *end != ' ' || !size)
			continue;
		p = end + 1;
		len = strcspn(p, "\n");
		while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (!len)
			continue;
		err = add_sym(t, start, size, p, len, STB_GLOBAL);
		if (err)
			break;
	}
	free(line);
	if (err)
		return err;
	return finish_last_wins(t);
}

int rt_elf__image_size(const void *image, size_t *size)
{
	const Elf64_Ehdr *eh = image;
	const Elf64_Shdr *sh;
	uint64_t end = 0;
	int i;

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    !eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr))
		return -EINVAL;
	sh = (const Elf64_Shdr *)((const char *)image + eh->e_shoff);
	end = eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
	for (i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type != SHT_NOBITS && sh[i].sh_offset + sh[i].sh_size > end)
			end = sh[i].sh_offset + sh[i].sh_size;
	*size = (size_t)end;
	return 0;
}
