/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * symbolize: native addresses to names.
 *
 * Two steps, as perf.data gives them: the caller (rtmerge) turns a sampled
 * address into (file path, build id, file offset) through the process's
 * address space; this module turns that into a symbol, per source: ELF files
 * (.symtab, else .dynsym, with separate debug files found by build id and
 * .gnu_debuglink), the kernel (/proc/kallsyms, modules included), the vDSO,
 * and JIT perf maps (/tmp/perf-PID.map).  Parsed files and resolved addresses
 * are cached; every returned string is borrowed and valid until
 * rt_symbolizer__free().
 */
#ifndef RT_SYMBOLIZE_H
#define RT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rt_symbol_status {
	RT_SYMBOL_OK = 0,
	RT_SYMBOL_NO_FILE,          /* file missing or not readable/not ELF */
	RT_SYMBOL_BUILD_ID_MISMATCH,/* file on disk is not the one perf saw */
	RT_SYMBOL_NO_SYMBOLS,       /* file has neither .symtab nor .dynsym */
	RT_SYMBOL_NO_SYMBOL,        /* no symbol covers the address */
	RT_SYMBOL_NR_STATUS,
};

/* Short, stable names for the summary: "no-file", "build-id-mismatch"... */
const char *rt_symbol_status__name(enum rt_symbol_status status);

struct rt_symbol {
	const char *name;      /* borrowed; NULL unless status == RT_SYMBOL_OK */
	uint64_t offset;       /* address minus symbol start */
	enum rt_symbol_status status;
	/* With inline_frames, when the file's DWARF describes the address: the
	 * functions there, innermost first (inlined callees, then the function
	 * they are inlined into, named as DWARF names it), borrowed like name.
	 * NULL and 0 otherwise. */
	const char *const *chain;
	uint32_t chain_len;
};

struct rt_symbolizer_opts {
	size_t sz;                 /* sizeof(struct rt_symbolizer_opts) */
	const char *kallsyms_path; /* default /proc/kallsyms */
	const char *debug_root;    /* default /usr/lib/debug */
	const char *buildid_cache; /* perf's cache, default $HOME/.debug */
	const char *perf_map_dir;  /* default /tmp */
	const char *root_dir;      /* prefix for every file path, default "" */
	bool inline_frames;        /* fill rt_symbol's chain from DWARF (.debug_info) */
};

struct rt_symbolizer;

/* Returns a new symbolizer, or NULL with errno set.  opts may be NULL. */
struct rt_symbolizer *rt_symbolizer__new(const struct rt_symbolizer_opts *opts);
/* Frees everything, including all strings handed out.  NULL is a no-op. */
void rt_symbolizer__free(struct rt_symbolizer *symbolizer);

/*
 * Resolve an address inside a file-backed mapping.  path is the mapped file
 * as perf recorded it; "[vdso]" is handled from this machine's vDSO.
 * build_id (may be NULL / size 0 when unknown) is the id perf recorded: when
 * the file on disk has another id, the symbolizer looks in the debug root
 * and perf's build-id cache for a file with the right id and otherwise
 * answers RT_SYMBOL_BUILD_ID_MISMATCH (never a wrong name).
 * file_offset = address - map start + map page offset.
 * Always returns 0 and fills *out; status says whether a name was found.
 */
int rt_symbolizer__resolve_file(struct rt_symbolizer *symbolizer, const char *path,
				const uint8_t *build_id, size_t build_id_size,
				uint64_t file_offset, struct rt_symbol *out);

/*
 * The same for a mapping of process @pid (a host pid, as perf records
 * them): when neither the path nor the caches give the file with that build
 * id, and the process still lives, the file is read inside its root
 * directory (/proc/PID/root), which is where a container's files are.  A
 * file once found is kept for (path, build id), whichever process asks.
 */
int rt_symbolizer__resolve_in_process(struct rt_symbolizer *symbolizer, int pid, const char *path,
				      const uint8_t *build_id, size_t build_id_size,
				      uint64_t file_offset, struct rt_symbol *out);

/*
 * The build id perf recorded for the kernel.  When set (before the first
 * kernel lookup) and no kallsyms_path was given, the copy of kallsyms perf
 * saved in its build-id cache under that id is used if present.
 */
void rt_symbolizer__set_kernel_build_id(struct rt_symbolizer *symbolizer,
					const uint8_t *build_id, size_t size);

/*
 * Load the kernel's symbols now (resolve_kernel does it on first use).  It
 * touches only the symbolizer's kernel state, so it may run on another
 * thread while that thread is the only one using the kernel functions.
 */
void rt_symbolizer__load_kernel(struct rt_symbolizer *symbolizer);

/* Resolve a kernel address through kallsyms (module symbols included). */
int rt_symbolizer__resolve_kernel(struct rt_symbolizer *symbolizer, uint64_t address,
				  struct rt_symbol *out);

/*
 * Resolve an address of process pid through its JIT map
 * (perf_map_dir/perf-PID.map, read once and cached).  status is
 * RT_SYMBOL_NO_FILE when the process wrote no map.
 */
int rt_symbolizer__resolve_perf_map(struct rt_symbolizer *symbolizer, int pid,
				    uint64_t address, struct rt_symbol *out);

/*
 * Read the GNU build id of an ELF file into buf (up to size bytes).
 * Returns the id's length, or -errno.
 */
int rt_elf__build_id(const char *path, uint8_t *buf, size_t size);

/* The same for an ELF file already open as @fd (left open). */
int rt_elf__build_id_fd(int fd, uint8_t *buf, size_t size);

#endif
