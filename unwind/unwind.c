/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The unwinder: per-file CFI tables cached by (path, build id), and the
 * frame-by-frame walk over the stack copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unwind/cfi.h"
#include "unwind/prologue.h"
#include "unwind/unwind.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"

#define MAX_LOADS 16
#define NR_BUCKETS 512
#define BUILD_ID_MAX 20
#define PTR_CACHE 64

struct uw_load {
	uint64_t offset, filesz, vaddr;
};

struct uw_sym {
	uint64_t start, size;
};

struct uw_file {
	struct uw_file *next;
	char *path;
	uint8_t build_id[BUILD_ID_MAX];
	size_t build_id_size;
	bool ok;
	struct uw_load loads[MAX_LOADS];
	int nr_loads;
	uint64_t entry;        /* e_entry: the process entry, e.g. ld.so's _start */
	uint8_t *image;        /* the file, mapped (or a copy for the vDSO) */
	size_t image_size;
	bool image_malloced;
	struct rt_cfi_table eh;
	struct rt_cfi_table debug;
	bool debug_loaded;
	struct uw_sym *syms;   /* functions, for code without CFI; loaded on demand */
	size_t nr_syms;
	bool syms_loaded;
};

/* CFI rows by (file, address): return addresses repeat from sample to sample. */
#define ROW_CACHE_BITS 12
#define ROW_CACHE (1U << ROW_CACHE_BITS)

struct row_entry {
	const struct uw_file *file;
	uint64_t vaddr;
	struct rt_cfi_row row;
};

/* With a maps key: CFI rows by (key, pc), which spares the mapping and
 * file lookups of the frames seen before. */
#define PC_CACHE_BITS 12
#define PC_CACHE (1U << PC_CACHE_BITS)

struct pc_entry {
	uint64_t key, pc;
	struct rt_cfi_row row;
};

/* Results of prologue analyses: the disassembly costs microseconds. */
#define PROLOGUE_CACHE 1024

struct prologue_entry {
	const struct uw_file *file;
	uint64_t vaddr;
	bool ok;
	enum rt_unwind_how how;
	struct rt_cfi_row row;
};

struct uw_ptr_slot {
	const char *path;
	struct uw_file *file;
	size_t id_size;
	uint8_t id[BUILD_ID_MAX];
};

struct rt_unwinder {
	char *root_dir;
	char *debug_root;
	char *buildid_cache;            /* "" when none */
	struct uw_file *buckets[NR_BUCKETS];
	struct uw_file *last;       /* the file of the previous lookup */
	bool interned_paths;
	/* With interned paths: files by path pointer and build id, direct-mapped. */
	struct uw_ptr_slot by_ptr[PTR_CACHE];
	struct row_entry *rows;     /* ROW_CACHE entries; NULL: no cache (ENOMEM) */
	struct pc_entry *pcs;       /* PC_CACHE entries, or NULL */
	struct rt_prologue *prologue;
	bool prologue_failed;
	struct prologue_entry prologue_cache[PROLOGUE_CACHE];
	struct rt_unwinder_stats stats;
};

const char *rt_unwind_stop__name(enum rt_unwind_stop stop)
{
	static const char *const names[RT_UNWIND_STOP_NR] = {
		"end", "no-map", "no-cfi", "stack", "bad", "max-depth",
	};
	return stop < RT_UNWIND_STOP_NR ? names[stop] : "?";
}

struct rt_unwinder *rt_unwinder__new(const struct rt_unwinder_opts *opts)
{
	struct rt_unwinder *u;
	const char *root = NULL, *debug = NULL, *cache = NULL, *home = getenv("HOME");
	char home_cache[4096] = "";
	bool interned;

	if (opts && opts->sz >= offsetof(struct rt_unwinder_opts, root_dir) + sizeof(char *))
		root = opts->root_dir;
	if (opts && opts->sz >= offsetof(struct rt_unwinder_opts, debug_root) + sizeof(char *))
		debug = opts->debug_root;
	interned = opts && opts->sz >= offsetof(struct rt_unwinder_opts, interned_paths) +
					   sizeof(bool) && opts->interned_paths;
	if (opts && opts->sz >= offsetof(struct rt_unwinder_opts, buildid_cache) + sizeof(char *))
		cache = opts->buildid_cache;
	if (!cache && home && home[0] == '/')
		snprintf(home_cache, sizeof(home_cache), "%s/.debug", home);
	elf_version(EV_CURRENT);
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->interned_paths = interned;
	u->rows = calloc(ROW_CACHE, sizeof(*u->rows));
	u->pcs = calloc(PC_CACHE, sizeof(*u->pcs));
	u->root_dir = strdup(root ? root : "");
	u->debug_root = strdup(debug ? debug : "/usr/lib/debug");
	u->buildid_cache = strdup(cache ? cache : home_cache);
	if (!u->root_dir || !u->debug_root || !u->buildid_cache) {
		rt_unwinder__free(u);
		errno = ENOMEM;
		return NULL;
	}
	return u;
}

static void file_free(struct uw_file *f)
{
	if (f->image) {
		if (f->image_malloced)
			free(f->image);
		else
			munmap(f->image, f->image_size);
	}
	rt_cfi_table__exit(&f->eh);
	rt_cfi_table__exit(&f->debug);
	free(f->syms);
	free(f->path);
	free(f);
}

void rt_unwinder__free(struct rt_unwinder *u)
{
	if (!u)
		return;
	for (int i = 0; i < NR_BUCKETS; i++) {
		struct uw_file *f = u->buckets[i], *next;
		for (; f; f = next) {
			next = f->next;
			file_free(f);
		}
	}
	rt_prologue__free(u->prologue);
	free(u->rows);
	free(u->pcs);
	free(u->root_dir);
	free(u->debug_root);
	free(u->buildid_cache);
	free(u);
}

int rt_unwinder__stats(const struct rt_unwinder *u, struct rt_unwinder_stats *stats)
{
	*stats = u->stats;
	return 0;
}

/* ---- files ---- */

/* Paths come from perf.data: opened through safefile (no FIFO, device or
 * final symbolic link), and read rather than mapped when someone else owns
 * the file and could truncate it under us. */
/* Maps the file at @path, or when @link, the file the magic link @path
 * leads to. */
static int map_file(const char *path, bool link, uint8_t **image, size_t *size)
{
	struct stat st;
	int fd = link ? rt_safefile__open_proc_link(path, 0, &st) :
			rt_safefile__open(AT_FDCWD, path, 0, &st);

	if (fd < 0)
		return fd;
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -EINVAL;
	}
	/* Private and writable so that libelf may convert in place without touching the file. */
	void *p = rt_safefile__map(fd, &st, st.st_size);
	close(fd);
	if (!p)
		return -errno;
	*image = p;
	*size = st.st_size;
	return 0;
}

/* The running kernel's vDSO: the same code every process on this machine maps. */
static int copy_vdso(uint8_t **image, size_t *size)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	FILE *maps;
	char line[512];
	int err = -ENOENT;

	if (!base)
		return -ENOENT;
	maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return -errno;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end;
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start == base && end > start) {
			*image = malloc(end - start);
			if (!*image) {
				err = -ENOMEM;
				break;
			}
			memcpy(*image, (const void *)start, end - start);
			*size = end - start;
			err = 0;
			break;
		}
	}
	fclose(maps);
	return err;
}

static Elf_Scn *find_section(Elf *elf, size_t shstrndx, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;
		if (!gelf_getshdr(scn, shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* Section contents, decompressed if needed; NULL when absent or empty. */
static Elf_Data *section_data(Elf *elf, size_t shstrndx, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = find_section(elf, shstrndx, name, shdr);
	Elf_Data *data;

	if (!scn || shdr->sh_type == SHT_NOBITS)
		return NULL;
	if ((shdr->sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return NULL;
	data = elf_getdata(scn, NULL);
	return data && data->d_buf && data->d_size ? data : NULL;
}

static int read_build_id(Elf *elf, uint8_t *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nhdr;
		while (data && (off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
			    !memcmp((const char *)data->d_buf + name_off, "GNU", 4)) {
				size_t n = nhdr.n_descsz < BUILD_ID_MAX ? nhdr.n_descsz : BUILD_ID_MAX;
				memcpy(out, (const char *)data->d_buf + desc_off, n);
				return (int)n;
			}
		}
	}
	return 0;
}

static int add_cfi(struct rt_cfi_table *t, Elf *elf, size_t shstrndx, const char *name, bool eh)
{
	GElf_Shdr shdr;
	Elf_Data *data = section_data(elf, shstrndx, name, &shdr);

	if (!data)
		return 0;
	return rt_cfi_table__add_section(t, data->d_buf, data->d_size, shdr.sh_addr, eh);
}

/* Load PT_LOADs, build id and .eh_frame (or .debug_frame) of f->image. */
static int file_parse(struct uw_file *f, const uint8_t *want_id, size_t want_id_size)
{
	Elf *elf = elf_memory((char *)f->image, f->image_size);
	GElf_Ehdr ehdr;
	size_t nphdr, shstrndx;
	int err = -EINVAL;

	if (!elf)
		return -EINVAL;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr) ||
	    ehdr.e_machine != EM_X86_64 || elf_getphdrnum(elf, &nphdr) ||
	    elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	f->entry = ehdr.e_entry;
	for (size_t i = 0; i < nphdr && f->nr_loads < MAX_LOADS; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
			f->loads[f->nr_loads++] = (struct uw_load){ ph.p_offset, ph.p_filesz, ph.p_vaddr };
	}
	f->build_id_size = read_build_id(elf, f->build_id);
	if (want_id_size && f->build_id_size &&
	    (want_id_size != f->build_id_size || memcmp(want_id, f->build_id, want_id_size))) {
		err = -ESTALE;
		goto out;
	}
	/* .eh_frame is indexed now and compiled per function on first use,
	 * straight from the mapped image (which lives as long as f). */
	GElf_Shdr shdr;
	if (section_data(elf, shstrndx, ".eh_frame", &shdr) &&
	    shdr.sh_type != SHT_NOBITS && shdr.sh_offset <= f->image_size &&
	    shdr.sh_size <= f->image_size - shdr.sh_offset) {
		if ((err = rt_cfi_table__set_lazy(&f->eh)) ||
		    (err = rt_cfi_table__add_section(&f->eh, f->image + shdr.sh_offset,
						     shdr.sh_size, shdr.sh_addr, true)))
			goto out;
	} else if ((err = add_cfi(&f->eh, elf, shstrndx, ".eh_frame", true))) {
		goto out;
	}
	rt_cfi_table__finish(&f->eh);
	err = 0;
out:
	elf_end(elf);
	return err;
}

/* .debug_frame from the file itself or its separate debug file, on first need. */
static void file_load_debug(struct rt_unwinder *u, struct uw_file *f)
{
	char link[256] = "";
	Elf *elf;
	size_t shstrndx;
	GElf_Shdr shdr;

	f->debug_loaded = true;
	elf = elf_memory((char *)f->image, f->image_size);
	if (!elf)
		return;
	if (!elf_getshdrstrndx(elf, &shstrndx)) {
		add_cfi(&f->debug, elf, shstrndx, ".debug_frame", false);
		Elf_Data *d = section_data(elf, shstrndx, ".gnu_debuglink", &shdr);
		if (d)
			snprintf(link, sizeof(link), "%.*s", (int)strnlen(d->d_buf, d->d_size),
				 (const char *)d->d_buf);
	}
	elf_end(elf);
	if (f->debug.nr) {
		rt_cfi_table__finish(&f->debug);
		return;
	}

	char candidates[4][4096];
	int n = 0;
	if (f->build_id_size >= 2) {
		int len = snprintf(candidates[n], sizeof(candidates[n]), "%s%s/.build-id/%02x/",
				   u->root_dir, u->debug_root, f->build_id[0]);
		for (size_t i = 1; i < f->build_id_size && len < 4000; i++)
			len += snprintf(candidates[n] + len, sizeof(candidates[n]) - len, "%02x",
					f->build_id[i]);
		snprintf(candidates[n] + len, sizeof(candidates[n]) - len, ".debug");
		n++;
	}
	if (link[0] && !strchr(link, '/') && strcmp(link, "..")) {
		const char *slash = strrchr(f->path, '/');
		int dirlen = slash ? (int)(slash - f->path) : 0;
		snprintf(candidates[n++], 4096, "%s%.*s/%s", u->root_dir, dirlen, f->path, link);
		snprintf(candidates[n++], 4096, "%s%.*s/.debug/%s", u->root_dir, dirlen, f->path, link);
		snprintf(candidates[n++], 4096, "%s%s%.*s/%s", u->root_dir, u->debug_root, dirlen,
			 f->path, link);
	}
	for (int i = 0; i < n; i++) {
		uint8_t *image;
		size_t size;
		if (map_file(candidates[i], false, &image, &size))
			continue;
		elf = elf_memory((char *)image, size);
		if (elf && !elf_getshdrstrndx(elf, &shstrndx)) {
			uint8_t id[BUILD_ID_MAX];
			int idlen = read_build_id(elf, id);
			/* A debug file of another build would give wrong rules. */
			if (!f->build_id_size || (idlen == (int)f->build_id_size &&
						  !memcmp(id, f->build_id, idlen)))
				add_cfi(&f->debug, elf, shstrndx, ".debug_frame", false);
		}
		elf_end(elf);
		munmap(image, size);
		if (f->debug.nr)
			break;
	}
	rt_cfi_table__finish(&f->debug);
	u->stats.cfi_rows += f->debug.nr;
}

static uint64_t hash_key(const char *path, const uint8_t *id, size_t id_size)
{
	return rt_hash_bytes(id, id_size, rt_hash_str(path, RT_HASH_SEED));
}

static bool file_matches(const struct uw_file *f, const char *path, const uint8_t *id,
			 size_t id_size)
{
	return !strcmp(f->path, path) &&
	       (!id_size || (f->build_id_size == id_size && !memcmp(f->build_id, id, id_size)));
}

/*
 * The file perf saw, by its build id, in perf's build-id cache
 * (CACHE/.build-id/xx/<rest>/elf): the copy of a container's file, whose
 * path the host resolves to another file or to none.  Replaces what f held.
 */
static int load_from_cache(struct rt_unwinder *u, struct uw_file *f, const uint8_t *id,
			   size_t id_size)
{
	char hexid[2 * BUILD_ID_MAX + 1], path[4096];
	int err;

	if (!u->buildid_cache[0])
		return -ENOENT;
	for (size_t i = 0; i < id_size; i++)
		snprintf(hexid + 2 * i, 3, "%02x", id[i]);
	if (snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s/elf", u->buildid_cache, hexid,
		     hexid + 2) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (f->image && !f->image_malloced)
		munmap(f->image, f->image_size);
	f->image = NULL;
	f->image_size = 0;
	f->nr_loads = 0;
	if ((err = map_file(path, false, &f->image, &f->image_size)))
		return err;
	/* the id is checked again: the cache is only a hint */
	return file_parse(f, id, id_size);
}

static struct uw_file *file_get(struct rt_unwinder *u, const struct rt_unwind_map *map)
{
	size_t id_size = map->build_id && map->build_id_size <= BUILD_ID_MAX ? map->build_id_size : 0;
	struct uw_ptr_slot *slot = NULL;
	struct uw_file *f;
	uint64_t h;

	if (u->interned_paths) {
		slot = &u->by_ptr[((uintptr_t)map->path >> 4) % PTR_CACHE];
		if (slot->path == map->path && slot->id_size == id_size &&
		    (!id_size || !memcmp(slot->id, map->build_id, id_size)))
			return slot->file;
	}
	/* Consecutive frames are mostly in the same file. */
	if (u->last && file_matches(u->last, map->path, map->build_id, id_size)) {
		f = u->last;
		goto remember;
	}
	h = hash_key(map->path, map->build_id, id_size) % NR_BUCKETS;
	for (f = u->buckets[h]; f; f = f->next) {
		if (file_matches(f, map->path, map->build_id, id_size))
			goto found;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->path = strdup(map->path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	int err;
	if (!strcmp(map->path, "[vdso]")) {
		err = copy_vdso(&f->image, &f->image_size);
		f->image_malloced = true;
	} else if (map->path[0] != '/') {
		err = -ENOENT; /* anonymous memory, JIT code, [stack]... */
	} else if (map->link) {
		err = map_file(map->link, true, &f->image, &f->image_size);
	} else {
		char full[4096];
		snprintf(full, sizeof(full), "%s%s", u->root_dir, map->path);
		err = map_file(full, false, &f->image, &f->image_size);
	}
	if (!err)
		err = file_parse(f, map->build_id, id_size);
	if (err && id_size && map->path[0] == '/')
		err = load_from_cache(u, f, map->build_id, id_size);
	f->ok = !err;
	if (!f->ok) {
		/* Remember the failure under the caller's id so it is not retried. */
		if (id_size)
			memcpy(f->build_id, map->build_id, id_size);
		f->build_id_size = id_size;
	}
	if (f->ok)
		u->stats.files_loaded++;
	else
		u->stats.files_failed++;
	u->stats.cfi_rows += f->eh.nr;
	f->next = u->buckets[h];
	u->buckets[h] = f;
found:
	u->last = f;
remember:
	if (slot) {
		slot->path = map->path;
		slot->file = f;
		slot->id_size = id_size;
		if (id_size)
			memcpy(slot->id, map->build_id, id_size);
	}
	return f;
}

static bool file_vaddr(const struct uw_file *f, const struct rt_unwind_map *map, uint64_t addr,
		       uint64_t *vaddr)
{
	uint64_t off = addr - map->start + map->pgoff;

	for (int i = 0; i < f->nr_loads; i++) {
		const struct uw_load *l = &f->loads[i];
		if (off >= l->offset && off - l->offset < l->filesz) {
			*vaddr = off - l->offset + l->vaddr;
			return true;
		}
	}
	return false;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct uw_sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void file_load_syms(struct uw_file *f)
{
	static const char *const tabs[] = { ".symtab", ".dynsym" };
	Elf *elf;
	size_t shstrndx, alloc = 0;

	f->syms_loaded = true;
	elf = elf_memory((char *)f->image, f->image_size);
	if (!elf)
		return;
	for (int t = 0; t < 2 && !f->nr_syms && !elf_getshdrstrndx(elf, &shstrndx); t++) {
		GElf_Shdr shdr;
		Elf_Scn *scn = find_section(elf, shstrndx, tabs[t], &shdr);
		Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
		if (!data || !shdr.sh_entsize)
			continue;
		size_t n = shdr.sh_size / shdr.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value || sym.st_shndx == SHN_UNDEF)
				continue;
			if (f->nr_syms == alloc) {
				size_t na = alloc ? alloc * 2 : 64;
				struct uw_sym *s = realloc(f->syms, na * sizeof(*s));
				if (!s)
					goto out;
				f->syms = s;
				alloc = na;
			}
			f->syms[f->nr_syms++] = (struct uw_sym){ sym.st_value, sym.st_size };
		}
	}
	if (f->nr_syms)
		qsort(f->syms, f->nr_syms, sizeof(*f->syms), sym_cmp);
out:
	elf_end(elf);
}

/* Start and end of the function around vaddr, from the symbol table. */
static bool file_function(struct uw_file *f, uint64_t vaddr, uint64_t *start, uint64_t *end)
{
	size_t lo = 0, hi;

	if (!f->syms_loaded)
		file_load_syms(f);
	hi = f->nr_syms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->syms[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	const struct uw_sym *s = &f->syms[lo - 1];
	/* Symbols without a size (hand-written assembly): only trust a short distance. */
	uint64_t size = s->size ? s->size : 4096;
	if (vaddr - s->start >= size)
		return false;
	*start = s->start;
	*end = s->start + size;
	if (lo < f->nr_syms && f->syms[lo].start < *end)
		*end = f->syms[lo].start;
	return true;
}

/* Code bytes [start, end) of the file by virtual address, clipped to the image. */
static const uint8_t *file_code(const struct uw_file *f, uint64_t start, uint64_t *end)
{
	for (int i = 0; i < f->nr_loads; i++) {
		const struct uw_load *l = &f->loads[i];
		if (start < l->vaddr || start - l->vaddr >= l->filesz)
			continue;
		uint64_t off = start - l->vaddr + l->offset;
		uint64_t lend = l->vaddr + l->filesz;
		if (*end > lend)
			*end = lend;
		if (off >= f->image_size)
			return NULL;
		if (*end - start > f->image_size - off)
			*end = start + (f->image_size - off);
		return f->image + off;
	}
	return NULL;
}

/* ---- the walk ---- */

struct regs {
	uint64_t v[RT_DWARF_NREGS];
	uint32_t valid;
};

struct stack {
	const uint8_t *data;
	uint64_t base, size;
	const struct rt_unwind_patch *patches;
	size_t nr_patches;
};

static bool stack_read(const struct stack *s, uint64_t addr, uint64_t *out)
{
	if (addr < s->base || addr - s->base > s->size || s->size - (addr - s->base) < 8)
		return false;
	for (size_t i = 0; i < s->nr_patches; i++)
		if (s->patches[i].addr == addr) {
			*out = s->patches[i].value;
			return true;
		}
	memcpy(out, s->data + (addr - s->base), 8);
	return true;
}

static int perf_to_dwarf(int perf)
{
	static const int8_t map[24] = {
		RT_DWARF_RAX, RT_DWARF_RBX, RT_DWARF_RCX, RT_DWARF_RDX, RT_DWARF_RSI, RT_DWARF_RDI,
		RT_DWARF_RBP, RT_DWARF_RSP, RT_DWARF_RIP, -1, -1, -1, -1, -1, -1, -1,
		RT_DWARF_R8, RT_DWARF_R9, RT_DWARF_R10, RT_DWARF_R11, RT_DWARF_R12, RT_DWARF_R13,
		RT_DWARF_R14, RT_DWARF_R15,
	};
	return perf >= 0 && perf < 24 ? map[perf] : -1;
}

#define CALLEE_SAVED ((1u << RT_DWARF_RBX) | (1u << RT_DWARF_RBP) | (1u << RT_DWARF_R12) | \
		      (1u << RT_DWARF_R13) | (1u << RT_DWARF_R14) | (1u << RT_DWARF_R15))

/*
 * One step through a row: the caller's registers into *r, its pc into *ra.
 * Returns RT_UNWIND_STOP_NR to go on, else the reason to stop.
 */
static enum rt_unwind_stop step(const struct rt_cfi_row *row, struct regs *r,
				const struct stack *s, uint64_t *ra)
{
	uint64_t cfa, v;
	struct regs out;

	switch (row->cfa_kind) {
	case RT_CFI_CFA_REG:
		if (row->cfa_reg >= RT_DWARF_NREGS || !(r->valid & (1u << row->cfa_reg)))
			return RT_UNWIND_STOP_BAD;
		cfa = r->v[row->cfa_reg] + (int64_t)row->cfa_off;
		break;
	case RT_CFI_CFA_DEREF:
		if (row->cfa_reg >= RT_DWARF_NREGS || !(r->valid & (1u << row->cfa_reg)))
			return RT_UNWIND_STOP_BAD;
		if (!stack_read(s, r->v[row->cfa_reg] + (int64_t)row->cfa_off, &cfa))
			return RT_UNWIND_STOP_STACK;
		break;
	case RT_CFI_CFA_PLT:
		cfa = r->v[RT_DWARF_RSP] + (int64_t)row->cfa_off +
		      ((r->v[RT_DWARF_RIP] & 15) >= row->cfa_reg ? 8 : 0);
		break;
	default:
		return RT_UNWIND_STOP_NO_CFI;
	}
	if (cfa <= r->v[RT_DWARF_RSP])
		return RT_UNWIND_STOP_BAD; /* the stack grows down: a caller's CFA is above */

	switch (row->kind[RT_CFI_RA]) {
	case RT_CFI_RULE_UNDEF:
		return RT_UNWIND_STOP_END;
	case RT_CFI_RULE_OFFSET:
		if (!stack_read(s, cfa + (int64_t)row->off[RT_CFI_RA], ra))
			return RT_UNWIND_STOP_STACK;
		break;
	case RT_CFI_RULE_VAL_OFFSET:
		*ra = cfa + (int64_t)row->off[RT_CFI_RA];
		break;
	default:
		return RT_UNWIND_STOP_BAD;
	}

	out.valid = r->valid & CALLEE_SAVED;
	memcpy(out.v, r->v, sizeof(out.v));
	for (int i = 0; i < RT_CFI_RA; i++) {
		int reg = rt_cfi__slot_dwarf_reg(i);
		switch (row->kind[i]) {
		case RT_CFI_RULE_SAME:
			break;
		case RT_CFI_RULE_OFFSET:
			/* A slot below the stack pointer was popped already: in an
			 * epilogue compilers keep the save rule and only move the
			 * CFA, and the register holds the caller's value again. */
			if (cfa + (int64_t)row->off[i] < r->v[RT_DWARF_RSP])
				break;
			/* A save slot outside the copy only matters if a caller needs it. */
			if (stack_read(s, cfa + (int64_t)row->off[i], &v))
				out.v[reg] = v;
			else
				out.valid &= ~(1u << reg);
			break;
		case RT_CFI_RULE_VAL_OFFSET:
			out.v[reg] = cfa + (int64_t)row->off[i];
			break;
		default:
			out.valid &= ~(1u << reg);
			break;
		}
	}
	out.v[RT_DWARF_RSP] = cfa;
	out.v[RT_DWARF_RIP] = *ra;
	out.valid |= (1u << RT_DWARF_RSP) | (1u << RT_DWARF_RIP);
	*r = out;
	return RT_UNWIND_STOP_NR;
}

/* Rules for code without CFI, from its instructions. */
static bool prologue_row(struct rt_unwinder *u, struct uw_file *f, uint64_t vaddr,
			 struct rt_cfi_row *row, enum rt_unwind_how *how)
{
	uint64_t start, end;
	const uint8_t *code;
	struct prologue_entry *e;

	e = &u->prologue_cache[((vaddr ^ ((uintptr_t)f >> 4)) * 0x9e3779b97f4a7c15ull) >> 54];
	if (e->file == f && e->vaddr == vaddr) {
		*row = e->row;
		*how = e->how;
		return e->ok;
	}
	e->file = f;
	e->vaddr = vaddr;
	e->ok = false;
	if (!u->prologue && !u->prologue_failed) {
		u->prologue = rt_prologue__new();
		u->prologue_failed = !u->prologue;
	}
	if (!u->prologue || !file_function(f, vaddr, &start, &end))
		return false;
	code = file_code(f, start, &end);
	if (!code || end <= vaddr)
		return false;
	e->ok = !rt_prologue__analyze(u->prologue, code, end - start, start, vaddr, row, how);
	e->row = *row;
	e->how = *how;
	return e->ok;
}

/* The CFI row for vaddr in f: .eh_frame, else .debug_frame; cached. */
static const struct rt_cfi_row *cfi_row(struct rt_unwinder *u, struct uw_file *f, uint64_t vaddr)
{
	const struct rt_cfi_row *row;
	struct row_entry *e = NULL;

	if (u->rows) {
		uint64_t h = (vaddr ^ ((uintptr_t)f >> 4)) * 0x9e3779b97f4a7c15ull;

		e = &u->rows[h >> (64 - ROW_CACHE_BITS)];
		if (e->file == f && e->vaddr == vaddr)
			return &e->row;
	}
	row = rt_cfi_table__find(&f->eh, vaddr);
	if (!row) {
		if (!f->debug_loaded)
			file_load_debug(u, f);
		row = rt_cfi_table__find(&f->debug, vaddr);
	}
	if (row && e) {
		e->file = f;
		e->vaddr = vaddr;
		e->row = *row;
		return &e->row;
	}
	return row;
}

int rt_unwinder__unwind(struct rt_unwinder *u, const struct rt_unwind_input *in,
			struct rt_unwind_frame *frames, size_t max, enum rt_unwind_stop *stop_out)
{
	struct regs r = { .valid = 0 };
	struct stack s;
	enum rt_unwind_stop stop = RT_UNWIND_STOP_BAD;
	size_t n = 0, idx = 0;

	if (!u || !in || !in->find_map || (!in->regs && in->regs_mask) || (max && !frames)) {
		if (stop_out)
			*stop_out = RT_UNWIND_STOP_BAD;
		return -EINVAL;
	}
	for (int bit = 0; bit < 64; bit++) {
		if (!(in->regs_mask & (1ull << bit)))
			continue;
		int reg = perf_to_dwarf(bit);
		if (reg >= 0) {
			r.v[reg] = in->regs[idx];
			r.valid |= 1u << reg;
		}
		idx++;
	}
	if (!(r.valid & (1u << RT_DWARF_RIP)) || !(r.valid & (1u << RT_DWARF_RSP))) {
		if (stop_out)
			*stop_out = RT_UNWIND_STOP_BAD;
		return -EINVAL;
	}
	s.data = in->stack;
	s.base = r.v[RT_DWARF_RSP];
	s.size = in->stack ? in->stack_size : 0;
	s.patches = in->patches;
	s.nr_patches = in->patches ? in->nr_patches : 0;

	if (!max) {
		stop = RT_UNWIND_STOP_MAX_DEPTH;
		goto out;
	}
	frames[n++] = (struct rt_unwind_frame){ r.v[RT_DWARF_RIP], RT_UNWIND_CFI };
	for (;;) {
		struct rt_unwind_map map;
		struct rt_cfi_row synth;
		const struct rt_cfi_row *row;
		enum rt_unwind_how how = RT_UNWIND_CFI;
		uint64_t pc = r.v[RT_DWARF_RIP], vaddr, ra;
		struct pc_entry *pe = NULL;
		struct uw_file *f;

		if (n >= max) {
			stop = RT_UNWIND_STOP_MAX_DEPTH;
			break;
		}
		/* A return address points after the call, maybe into the next function. */
		if (n > 1)
			pc--;
		if (in->maps_key && u->pcs) {
			uint64_t h = (pc ^ (in->maps_key << 40)) * 0x9e3779b97f4a7c15ull;

			pe = &u->pcs[h >> (64 - PC_CACHE_BITS)];
			if (pe->key == in->maps_key && pe->pc == pc) {
				row = &pe->row;
				goto have_row;
			}
		}
		memset(&map, 0, sizeof(map));
		if (in->find_map(in->ctx, pc, &map) || !map.path || pc < map.start || pc >= map.end) {
			stop = RT_UNWIND_STOP_NO_MAP;
			break;
		}
		f = file_get(u, &map);
		if (!f || !f->ok || !file_vaddr(f, &map, pc, &vaddr)) {
			stop = RT_UNWIND_STOP_NO_CFI;
			break;
		}
		row = cfi_row(u, f, vaddr);
		/* ld.so's _start has no CFI; a return address into it is the first frame. */
		if (!row && n > 1 && f->entry && vaddr >= f->entry && vaddr - f->entry < 32) {
			stop = RT_UNWIND_STOP_END;
			break;
		}
		if (!row) {
			if (!prologue_row(u, f, vaddr, &synth, &how)) {
				stop = RT_UNWIND_STOP_NO_CFI;
				break;
			}
			row = &synth;
		} else if (pe) {
			pe->key = in->maps_key;
			pe->pc = pc;
			pe->row = *row;
		}
have_row:
		stop = step(row, &r, &s, &ra);
		if (stop != RT_UNWIND_STOP_NR)
			break;
		if (!ra) {
			stop = RT_UNWIND_STOP_END; /* some thread entries leave a zero return address */
			break;
		}
		frames[n++] = (struct rt_unwind_frame){ ra, how };
		if (how == RT_UNWIND_CFI)
			u->stats.frames_cfi++;
		else if (how == RT_UNWIND_FP)
			u->stats.frames_fp++;
		else
			u->stats.frames_prologue++;
	}
out:
	if (stop_out)
		*stop_out = stop;
	return (int)n;
}
