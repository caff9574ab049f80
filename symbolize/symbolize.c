/* SPDX-License-Identifier: GPL-2.0-only */
#include "symbolize/symbolize.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize/inline.h"
#include "symbolize/rubyvm.h"
#include "symbolize/symtab.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"

#define ADDR_CACHE_SIZE 4096    /* per file, direct mapped */

/* A parsed file: the one perf saw, or the reason we have none. */
struct dso {
	char *path;                 /* as perf recorded it */
	uint8_t build_id[20];
	uint8_t build_id_size;      /* of the id asked for; 0 = not checked */
	enum rt_symbol_status status;
	struct rt_symtab symtab;
	struct rt_load_segment *segments;   /* PT_LOAD, for file offset -> vaddr */
	size_t nr_segments;
	struct {
		uint64_t offset;    /* virtual address + 1; 0 empty */
		int32_t sym;        /* symbol index, -1 none */
	} *cache;
	struct rt_inline_dwarf *dwarf;      /* with inline_frames, when it has DWARF */
	struct dso *next;           /* hash chain */
};

struct perf_map {
	int pid;
	bool present;
	struct rt_symtab symtab;
	struct perf_map *next;
};

struct rt_symbolizer {
	struct rt_symbolizer_opts opts;
	char *kallsyms_path, *debug_root, *buildid_cache, *perf_map_dir, *root_dir;
	struct dso *dsos[1024];
	struct perf_map *maps[256];
	bool kernel_loaded;
	uint8_t kernel_build_id[20];
	size_t kernel_build_id_size;
	enum rt_symbol_status kernel_status;
	struct rt_symtab kernel;
	int pid; /* the process of the lookup under way (resolve_in_process), 0: none */
};

const char *rt_symbol_status__name(enum rt_symbol_status status)
{
	switch (status) {
	case RT_SYMBOL_OK: return "ok";
	case RT_SYMBOL_NO_FILE: return "no-file";
	case RT_SYMBOL_BUILD_ID_MISMATCH: return "build-id-mismatch";
	case RT_SYMBOL_NO_SYMBOLS: return "no-symbols";
	case RT_SYMBOL_NO_SYMBOL: return "no-symbol";
	default: return "unknown";
	}
}

static char *dup_or(const char *s, const char *fallback)
{
	return strdup(s ? s : fallback);
}

struct rt_symbolizer *rt_symbolizer__new(const struct rt_symbolizer_opts *opts)
{
	struct rt_symbolizer *s = calloc(1, sizeof(*s));
	char cache[4096];
	const char *home = getenv("HOME");

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		memcpy(&s->opts, opts, opts->sz < sizeof(s->opts) ? opts->sz : sizeof(s->opts));
	snprintf(cache, sizeof(cache), "%s/.debug", home && home[0] ? home : "/root");
	s->kallsyms_path = dup_or(s->opts.kallsyms_path, "/proc/kallsyms");
	s->debug_root = dup_or(s->opts.debug_root, "/usr/lib/debug");
	s->buildid_cache = dup_or(s->opts.buildid_cache, cache);
	s->perf_map_dir = dup_or(s->opts.perf_map_dir, "/tmp");
	s->root_dir = dup_or(s->opts.root_dir, "");
	if (!s->kallsyms_path || !s->debug_root || !s->buildid_cache || !s->perf_map_dir ||
	    !s->root_dir || elf_version(EV_CURRENT) == EV_NONE) {
		rt_symbolizer__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void dso_free(struct dso *d)
{
	rt_symtab__exit(&d->symtab);
	rt_inline_dwarf__free(d->dwarf);
	free(d->segments);
	free(d->cache);
	free(d->path);
	free(d);
}

void rt_symbolizer__free(struct rt_symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < sizeof(s->dsos) / sizeof(s->dsos[0]); i++) {
		while (s->dsos[i]) {
			struct dso *next = s->dsos[i]->next;

			dso_free(s->dsos[i]);
			s->dsos[i] = next;
		}
	}
	for (i = 0; i < sizeof(s->maps) / sizeof(s->maps[0]); i++) {
		while (s->maps[i]) {
			struct perf_map *next = s->maps[i]->next;

			rt_symtab__exit(&s->maps[i]->symtab);
			free(s->maps[i]);
			s->maps[i] = next;
		}
	}
	rt_symtab__exit(&s->kernel);
	free(s->kallsyms_path);
	free(s->debug_root);
	free(s->buildid_cache);
	free(s->perf_map_dir);
	free(s->root_dir);
	free(s);
}

/* ---- ELF files ------------------------------------------------------------ */

static void hex(const uint8_t *id, size_t size, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < size; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[2 * size] = '\0';
}

/*
 * Opens path as ELF; returns the Elf handle and the fd in *fd, or NULL.
 * Paths come from perf.data: safefile refuses FIFOs, devices and a final
 * symbolic link, and a file someone else owns is read, not mapped, so that
 * truncating it cannot raise SIGBUS.
 */
static Elf *open_elf(const char *path, int *fd)
{
	struct stat st;
	Elf *elf;

	*fd = rt_safefile__open(AT_FDCWD, path, 0, &st);
	if (*fd < 0) {
		errno = -*fd;
		*fd = -1;
		return NULL;
	}
	elf = elf_begin(*fd, rt_safefile__owner_trusted(&st) ? ELF_C_READ_MMAP : ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(*fd);
		*fd = -1;
		errno = ENOEXEC;
		return NULL;
	}
	return elf;
}

static void close_elf(Elf *elf, int fd)
{
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

static bool same_id(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
	/* perf pads short ids with zeros to 20 bytes. */
	size_t n = a_size < b_size ? a_size : b_size, i;

	if (!n || memcmp(a, b, n))
		return false;
	for (i = n; i < a_size; i++)
		if (a[i])
			return false;
	for (i = n; i < b_size; i++)
		if (b[i])
			return false;
	return true;
}

static int elf_build_id(Elf *elf, uint8_t *buf, size_t size);

/* True when elf carries the build id asked for (or none was asked for). */
static bool elf_has_id(Elf *elf, const uint8_t *id, size_t id_size)
{
	uint8_t found[64];
	int n;

	if (!id_size)
		return true;
	n = elf_build_id(elf, found, sizeof(found));
	return n > 0 && same_id(found, (size_t)n, id, id_size);
}

/* Opens path when it is an ELF file with the wanted build id. */
static Elf *open_with_id(const char *path, const uint8_t *id, size_t id_size, int *fd)
{
	Elf *elf = open_elf(path, fd);

	if (elf && !elf_has_id(elf, id, id_size)) {
		close_elf(elf, *fd);
		*fd = -1;
		return NULL;
	}
	return elf;
}

/*
 * Copies of the file perf saw, by build id, in perf's cache:
 * .build-id/xx/<rest>/<base> and <path>/<hex id>/<base>, where base is
 * "elf", "vdso" for the vDSO, or "debug" for a separate debug file.
 */
static Elf *open_from_cache(struct rt_symbolizer *s, const char *path, const char *base,
			    const uint8_t *id, size_t id_size, int *fd)
{
	char idhex[2 * 20 + 1], file[PATH_MAX];
	Elf *elf;

	hex(id, id_size > 20 ? 20 : id_size, idhex);
	snprintf(file, sizeof(file), "%s/.build-id/%.2s/%s/%s", s->buildid_cache, idhex,
		 idhex + 2, base);
	elf = open_with_id(file, id, id_size, fd);
	if (elf)
		return elf;
	snprintf(file, sizeof(file), "%s%s%s/%s/%s", s->buildid_cache, path[0] == '/' ? "" : "/",
		 path, idhex, base);
	return open_with_id(file, id, id_size, fd);
}

static int read_segments(Elf *elf, struct dso *d)
{
	size_t nr, i;

	if (elf_getphdrnum(elf, &nr))
		return -EINVAL;
	d->segments = calloc(nr ? nr : 1, sizeof(*d->segments));
	if (!d->segments)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		d->segments[d->nr_segments].offset = ph.p_offset;
		d->segments[d->nr_segments].vaddr = ph.p_vaddr;
		d->segments[d->nr_segments].size = ph.p_filesz > ph.p_memsz ? ph.p_filesz : ph.p_memsz;
		d->nr_segments++;
	}
	return 0;
}

/*
 * A debug file keeps its program's PT_LOAD addresses and sizes but not
 * their file offsets.  Linkers place each segment at the first offset
 * past the previous one that is congruent to its address modulo the
 * alignment (mmap needs the congruence; packing is what ld.bfd, gold and
 * lld do): rebuilding the offsets that way matched the real ones for all
 * but one of 623 binaries and libraries of a Debian system.
 */
static void rebuild_offsets(struct dso *d, Elf *elf)
{
	uint64_t end = 0;
	size_t i, nr, k = 0;

	if (elf_getphdrnum(elf, &nr))
		return;
	for (i = 0; i < nr && k < d->nr_segments; i++) {
		GElf_Phdr ph;
		uint64_t align;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		align = ph.p_align && !(ph.p_align & (ph.p_align - 1)) ? ph.p_align : 4096;
		d->segments[k].offset = end + ((ph.p_vaddr - end) & (align - 1));
		d->segments[k].size = ph.p_memsz;
		end = d->segments[k].offset + ph.p_memsz;
		k++;
	}
}

static bool has_symtab(Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size)
			return true;
	}
	return false;
}

/* .gnu_debuglink's file name, or NULL. */
static const char *debuglink(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debuglink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_size || !memchr(data->d_buf, 0, data->d_size))
			return NULL;
		/* A file name, never a path: "../../x" or "/x" would let the
		 * file's author choose what rtperf opens. */
		if (strchr(data->d_buf, '/') || !strcmp(data->d_buf, "..") ||
		    !strcmp(data->d_buf, "."))
			return NULL;
		return data->d_buf;
	}
	return NULL;
}

/* Opens a debug file with a .symtab whose build id is id. */
static Elf *open_debug_candidate(const char *path, const char *skip, const uint8_t *id,
				 size_t id_size, int *fd)
{
	Elf *elf;

	if (skip && !strcmp(path, skip))
		return NULL;
	elf = open_with_id(path, id, id_size, fd);
	if (elf && !has_symtab(elf)) {
		close_elf(elf, *fd);
		*fd = -1;
		return NULL;
	}
	return elf;
}

/*
 * The separate debug file of elf (read from real_path, perf's name path):
 * <debug_root>/.build-id/xx/<rest>.debug, then the .gnu_debuglink name in
 * the file's directory, its .debug/ and <debug_root>/<dir>/.  A candidate
 * must carry the same build id as elf when elf has one: a debug file of
 * another build would give wrong names.
 */
static Elf *open_debug_file(struct rt_symbolizer *s, const char *path, const char *real_path,
			    Elf *elf, int *fd)
{
	uint8_t id[64];
	char idhex[2 * 64 + 1], file[PATH_MAX];
	const char *link = debuglink(elf), *slash;
	int dir_len;
	int n = elf_build_id(elf, id, sizeof(id));
	size_t id_size = n > 0 ? (size_t)n : 0;
	Elf *dbg;

	if (id_size) {
		hex(id, id_size, idhex);
		snprintf(file, sizeof(file), "%s%s/.build-id/%.2s/%s.debug", s->root_dir,
			 s->debug_root, idhex, idhex + 2);
		dbg = open_debug_candidate(file, NULL, id, id_size, fd);
		if (dbg)
			return dbg;
		/* a container's debug file, copied by rt-bpf beside the binary */
		dbg = open_from_cache(s, path, "debug", id, id_size, fd);
		if (dbg)
			return dbg;
	}
	if (!link)
		return NULL;
	slash = strrchr(real_path, '/');
	dir_len = slash ? (int)(slash - real_path) : 0;
	snprintf(file, sizeof(file), "%.*s/%s", dir_len, real_path, link);
	dbg = open_debug_candidate(file, real_path, id, id_size, fd);
	if (dbg)
		return dbg;
	snprintf(file, sizeof(file), "%.*s/.debug/%s", dir_len, real_path, link);
	dbg = open_debug_candidate(file, real_path, id, id_size, fd);
	if (dbg)
		return dbg;
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	snprintf(file, sizeof(file), "%s%s%.*s/%s", s->root_dir, s->debug_root,
		 (int)(slash - path), path, link);
	return open_debug_candidate(file, real_path, id, id_size, fd);
}

/*
 * Segments and symbols of an opened file (@fd, -1 for an image in memory);
 * symbols from its debug file if need be.  debug_only: elf is itself a
 * separate debug file.  With inline_frames, the DWARF too, from the debug
 * file when the file itself has none.
 */
static void load_elf(struct rt_symbolizer *s, struct dso *d, Elf *elf, int fd,
		     const char *real_path, bool debug_only)
{
	Elf *dbg = NULL;
	int dbg_fd = -1, err;
	bool symtab;

	if (read_segments(elf, d)) {
		d->status = RT_SYMBOL_NO_FILE;
		return;
	}
	if (debug_only)
		rebuild_offsets(d, elf);
	symtab = has_symtab(elf);
	if (real_path && (!symtab || (s->opts.inline_frames && !rt_elf__has_debug_info(elf))))
		dbg = open_debug_file(s, d->path, real_path, elf, &dbg_fd);
	err = rt_symtab__load_elf(&d->symtab, dbg && !symtab ? dbg : elf, debug_only ? NULL : elf);
	/* A stripped libruby's VM loop, named from its code so that rtmerge
	 * can splice Ruby frames there; without it the names stay as they are. */
	if (!err)
		(void)rt_rubyvm__name(&d->symtab, elf);
	if (s->opts.inline_frames) {
		if (dbg)
			d->dwarf = rt_inline_dwarf__open(dbg_fd);
		if (!d->dwarf && fd >= 0)
			d->dwarf = rt_inline_dwarf__open(fd);
	}
	close_elf(dbg, dbg_fd);
	if (err)
		d->status = RT_SYMBOL_NO_FILE;
	else if (!d->symtab.nr)
		d->status = RT_SYMBOL_NO_SYMBOLS;
}

/*
 * The vDSO of this process: the kernel's own image, so the one perf saw
 * when perf ran on this kernel.  With a recorded build id that differs
 * (another kernel), perf's cached copy is used, else a mismatch.
 */
static void load_vdso(struct rt_symbolizer *s, struct dso *d)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	size_t size;
	Elf *elf = NULL;
	int fd = -1;

	if (base && !rt_elf__image_size((const void *)base, &size))
		elf = elf_memory((char *)base, size);
	if (elf && !elf_has_id(elf, d->build_id, d->build_id_size)) {
		elf_end(elf);
		elf = NULL;
	}
	if (!elf && d->build_id_size)
		elf = open_from_cache(s, d->path, "vdso", d->build_id, d->build_id_size, &fd);
	if (!elf) {
		d->status = d->build_id_size && base ? RT_SYMBOL_BUILD_ID_MISMATCH :
						       RT_SYMBOL_NO_FILE;
		return;
	}
	load_elf(s, d, elf, fd, NULL, false);
	close_elf(elf, fd);
}

/*
 * The file as the process of the lookup sees it, while it lives: inside its
 * root (/proc/PID/root, a container's own files), with the build id perf
 * recorded, so a reused pid cannot lend another file.
 */
static Elf *open_in_process_root(struct rt_symbolizer *s, const char *path, const uint8_t *id,
				 size_t id_size, int *fd)
{
	Elf *elf;

	*fd = -1;
	if (s->pid <= 0 || !id_size || path[0] != '/' || s->root_dir[0])
		return NULL;
	*fd = rt_safefile__open_in_root(s->pid, path, 0, NULL);
	if (*fd < 0) {
		*fd = -1;
		return NULL;
	}
	elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !elf_has_id(elf, id, id_size)) {
		close_elf(elf, *fd);
		*fd = -1;
		return NULL;
	}
	return elf;
}

/*
 * The file for (path, build id): the file on disk when its id matches (or
 * none is known), else a copy in perf's build-id cache, else the debug
 * file with that id under debug_root (symbols and program headers of a
 * debug file match its program's).  Otherwise a build-id mismatch, or a
 * missing file: never symbols of another build.
 */
static void load_dso(struct rt_symbolizer *s, struct dso *d)
{
	char path[PATH_MAX], idhex[2 * 20 + 1];
	bool exists, debug_only;
	Elf *elf;
	int fd;

	if (!strcmp(d->path, "[vdso]")) {
		load_vdso(s, d);
		return;
	}
	snprintf(path, sizeof(path), "%s%s", s->root_dir, d->path);
	elf = open_elf(path, &fd);
	exists = elf || errno != ENOENT;
	if (elf && elf_has_id(elf, d->build_id, d->build_id_size)) {
		load_elf(s, d, elf, fd, path, false);
		close_elf(elf, fd);
		return;
	}
	close_elf(elf, fd);
	if (!d->build_id_size) {
		d->status = RT_SYMBOL_NO_FILE;
		return;
	}
	elf = open_in_process_root(s, d->path, d->build_id, d->build_id_size, &fd);
	if (!elf)
		elf = open_from_cache(s, d->path, "elf", d->build_id, d->build_id_size, &fd);
	debug_only = !elf;
	if (!elf) {
		hex(d->build_id, d->build_id_size, idhex);
		snprintf(path, sizeof(path), "%s%s/.build-id/%.2s/%s.debug", s->root_dir,
			 s->debug_root, idhex, idhex + 2);
		elf = open_debug_candidate(path, NULL, d->build_id, d->build_id_size, &fd);
	}
	if (!elf) {
		d->status = exists ? RT_SYMBOL_BUILD_ID_MISMATCH : RT_SYMBOL_NO_FILE;
		return;
	}
	load_elf(s, d, elf, fd, NULL, debug_only);
	close_elf(elf, fd);
}

static uint64_t hash_path(const char *p)
{
	return rt_hash_str(p, RT_HASH_SEED);
}

static struct dso *find_dso(struct rt_symbolizer *s, const char *path, const uint8_t *id,
			    size_t id_size)
{
	size_t bucket = hash_path(path) % (sizeof(s->dsos) / sizeof(s->dsos[0]));
	struct dso *d;

	if (id_size > 20)
		id_size = 20;
	for (d = s->dsos[bucket]; d; d = d->next)
		if (d->build_id_size == id_size && (!id_size || !memcmp(d->build_id, id, id_size)) &&
		    !strcmp(d->path, path))
			return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->path = strdup(path);
	d->cache = calloc(ADDR_CACHE_SIZE, sizeof(*d->cache));
	if (!d->path || !d->cache) {
		dso_free(d);
		return NULL;
	}
	if (id_size)
		memcpy(d->build_id, id, id_size);
	d->build_id_size = (uint8_t)id_size;
	load_dso(s, d);
	d->next = s->dsos[bucket];
	s->dsos[bucket] = d;
	return d;
}

static void fill(struct rt_symbol *out, struct rt_symtab *t, int32_t idx, uint64_t addr)
{
	if (idx < 0) {
		out->status = RT_SYMBOL_NO_SYMBOL;
		return;
	}
	out->status = RT_SYMBOL_OK;
	out->name = rt_symtab__name(t, (size_t)idx);
	out->offset = addr - t->syms[idx].start;
}

int rt_symbolizer__resolve_file(struct rt_symbolizer *s, const char *path,
				const uint8_t *build_id, size_t build_id_size,
				uint64_t file_offset, struct rt_symbol *out)
{
	struct dso *d = find_dso(s, path, build_id, build_id ? build_id_size : 0);
	uint64_t vaddr = 0;
	size_t slot, i;
	bool mapped = false;

	memset(out, 0, sizeof(*out));
	if (!d) {
		out->status = RT_SYMBOL_NO_FILE;
		return 0;
	}
	if (d->status != RT_SYMBOL_OK) {
		out->status = d->status;
		return 0;
	}
	for (i = 0; i < d->nr_segments; i++) {
		const struct rt_load_segment *seg = &d->segments[i];

		if (file_offset >= seg->offset && file_offset - seg->offset < seg->size) {
			vaddr = seg->vaddr + (file_offset - seg->offset);
			mapped = true;
			break;
		}
	}
	if (!mapped) {
		out->status = RT_SYMBOL_NO_SYMBOL;
		return 0;
	}
	slot = (vaddr * 0x9E3779B97F4A7C15ULL) >> 52;
	if (d->cache[slot].offset != vaddr + 1) {
		d->cache[slot].offset = vaddr + 1;
		d->cache[slot].sym = rt_symtab__find(&d->symtab, vaddr);
	}
	fill(out, &d->symtab, d->cache[slot].sym, vaddr);
	if (out->status == RT_SYMBOL_OK && d->dwarf) {
		int n = rt_inline_dwarf__chain(d->dwarf, vaddr, &out->chain);

		/* Out of memory: the symbol's name alone, still right. */
		out->chain_len = n > 0 ? (uint32_t)n : 0;
		if (n <= 0)
			out->chain = NULL;
	}
	return 0;
}

/* ---- kernel ---------------------------------------------------------------- */

void rt_symbolizer__load_kernel(struct rt_symbolizer *s)
{
	if (!s->kernel_loaded) {
		char cached[4096], idhex[41];
		const char *path = s->kallsyms_path;
		int err;

		/* perf record keeps a copy of kallsyms in its build-id cache: it is
		 * what the recording saw, and reading it is much cheaper than
		 * having the kernel format /proc/kallsyms. */
		if (!s->opts.kallsyms_path && s->kernel_build_id_size) {
			hex(s->kernel_build_id, s->kernel_build_id_size, idhex);
			snprintf(cached, sizeof(cached), "%s/[kernel.kallsyms]/%s/kallsyms",
				 s->buildid_cache, idhex);
			if (access(cached, R_OK) == 0)
				path = cached;
		}
		err = rt_symtab__load_kallsyms(&s->kernel, path);

		s->kernel_loaded = true;
		s->kernel_status = err ? RT_SYMBOL_NO_FILE :
				   s->kernel.nr ? RT_SYMBOL_OK : RT_SYMBOL_NO_SYMBOLS;
	}
}

int rt_symbolizer__resolve_kernel(struct rt_symbolizer *s, uint64_t address, struct rt_symbol *out)
{
	memset(out, 0, sizeof(*out));
	rt_symbolizer__load_kernel(s);
	if (s->kernel_status != RT_SYMBOL_OK) {
		out->status = s->kernel_status;
		return 0;
	}
	fill(out, &s->kernel, rt_symtab__find(&s->kernel, address), address);
	return 0;
}

void rt_symbolizer__set_kernel_build_id(struct rt_symbolizer *s, const uint8_t *build_id,
					size_t size)
{
	if (size > sizeof(s->kernel_build_id))
		size = sizeof(s->kernel_build_id);
	memcpy(s->kernel_build_id, build_id, size);
	s->kernel_build_id_size = size;
}

/* ---- JIT maps --------------------------------------------------------------- */

/* From /proc/PID/status: the pid in the process's own namespace (the last
 * NSpid field) and its real and effective uids.  False when it is gone. */
static bool live_process(int pid, int *ns_pid, uid_t *ruid, uid_t *euid)
{
	char path[64], line[512];
	unsigned int r = 0, e = 0;
	bool have_uid = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	*ns_pid = pid;
	while (rt_safefile__getline(f, line, sizeof(line)) != -1) {
		if (!strncmp(line, "Uid:", 4) && sscanf(line + 4, "%u %u", &r, &e) == 2)
			have_uid = true;
		if (!strncmp(line, "NSpid:", 6)) {
			const char *last = strrchr(line, '\t');

			*ns_pid = atoi(last ? last + 1 : line + 6);
		}
	}
	fclose(f);
	*ruid = r;
	*euid = e;
	return have_uid;
}

/*
 * Opens process pid's perf map.  A live process's map is read inside its
 * root by its own namespace pid (a container's /tmp/perf-1.map, not the
 * host's /tmp/perf-HOSTPID.map) and must belong to the process's user or
 * root.  Once the process is gone the host's file is read, and must belong
 * to root or the user running rtmerge (the target's user is unknown then).
 * An explicit perf map directory is the user's choice and read as given.
 */
static FILE *open_perf_map(struct rt_symbolizer *s, int pid)
{
	char path[4096];
	struct stat st;
	uid_t ruid, euid;
	int fd, ns_pid;
	FILE *f;

	if (!s->opts.perf_map_dir && !s->root_dir[0] && live_process(pid, &ns_pid, &ruid, &euid)) {
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", ns_pid);
		fd = rt_safefile__open_in_root(pid, path, RT_PERF_MAP_MAX_SIZE, &st);
		if (fd >= 0 && st.st_uid != 0 && st.st_uid != ruid && st.st_uid != euid) {
			fprintf(stderr, "rtmerge: ignoring %s of process %d: owned by uid %u, "
				"not by the process's user\n", path, pid, (unsigned int)st.st_uid);
			close(fd);
			return NULL;
		}
	} else {
		snprintf(path, sizeof(path), "%s%s/perf-%d.map", s->root_dir, s->perf_map_dir, pid);
		fd = rt_safefile__open(AT_FDCWD, path, RT_PERF_MAP_MAX_SIZE, &st);
		if (fd >= 0 && !s->opts.perf_map_dir && !rt_safefile__owner_trusted(&st)) {
			fprintf(stderr, "rtmerge: ignoring %s: owned by uid %u and process %d is "
				"gone, so its user cannot be checked\n", path, (unsigned int)st.st_uid,
				pid);
			close(fd);
			return NULL;
		}
	}
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

int rt_symbolizer__resolve_perf_map(struct rt_symbolizer *s, int pid, uint64_t address,
				    struct rt_symbol *out)
{
	size_t bucket = (unsigned int)pid % (sizeof(s->maps) / sizeof(s->maps[0]));
	struct perf_map *m;

	memset(out, 0, sizeof(*out));
	for (m = s->maps[bucket]; m && m->pid != pid; m = m->next)
		;
	if (!m) {
		FILE *f;

		m = calloc(1, sizeof(*m));
		if (!m) {
			out->status = RT_SYMBOL_NO_FILE;
			return 0;
		}
		m->pid = pid;
		f = open_perf_map(s, pid);
		m->present = f && rt_symtab__load_perf_map(&m->symtab, f) == 0;
		if (f)
			fclose(f);
		m->next = s->maps[bucket];
		s->maps[bucket] = m;
	}
	if (!m->present) {
		out->status = RT_SYMBOL_NO_FILE;
		return 0;
	}
	fill(out, &m->symtab, rt_symtab__find(&m->symtab, address), address);
	return 0;
}

/* ---- build ids ---------------------------------------------------------------- */

static int note_build_id(Elf_Data *data, uint8_t *buf, size_t size)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
			size_t n = nh.n_descsz < size ? nh.n_descsz : size;

			memcpy(buf, (char *)data->d_buf + desc_off, n);
			return (int)n;
		}
	}
	return 0;
}

static int elf_build_id(Elf *elf, uint8_t *buf, size_t size)
{
	Elf_Scn *scn = NULL;
	size_t nr, i;
	int n = 0;

	while (!n && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (data)
			n = note_build_id(data, buf, size);
	}
	if (!n && !elf_getphdrnum(elf, &nr)) {
		for (i = 0; i < nr && !n; i++) {
			GElf_Phdr ph;
			Elf_Data *data;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
						    ELF_T_NHDR);
			if (data)
				n = note_build_id(data, buf, size);
		}
	}
	return n ? n : -ENODATA;
}

int rt_elf__build_id(const char *path, uint8_t *buf, size_t size)
{
	int fd, n;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = open_elf(path, &fd);
	if (!elf)
		return -errno;
	n = elf_build_id(elf, buf, size);
	close_elf(elf, fd);
	return n;
}

int rt_elf__build_id_fd(int fd, uint8_t *buf, size_t size)
{
	Elf *elf;
	int n;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return -ENOEXEC;
	}
	n = elf_build_id(elf, buf, size);
	elf_end(elf);
	return n;
}

int rt_symbolizer__resolve_in_process(struct rt_symbolizer *s, int pid, const char *path,
				      const uint8_t *build_id, size_t build_id_size,
				      uint64_t file_offset, struct rt_symbol *out)
{
	int err;

	s->pid = pid;
	err = rt_symbolizer__resolve_file(s, path, build_id, build_id_size, file_offset, out);
	s->pid = 0;
	return err;
}
