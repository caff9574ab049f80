/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CUnit suite for unwind/: CFI tables checked row by row against readelf,
 * the PLT expression, prologue analysis of hand-written code, and unwinding a
 * real stack snapshot of a -O2 -fomit-frame-pointer program (through a
 * shared library and two assembly functions without CFI) offline, checked
 * by symbol name.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbolize/symbolize.h"
#include "unwind/cfi.h"
#include "unwind/prologue.h"
#include "unwind/unwind.h"

static char dir[64];
static char src[PATH_MAX + 32];
static bool have_progs;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int setup(void)
{
	const char *top = getenv("RT_TOP");
	char cwd[PATH_MAX];

	/* the commands below run in a scratch directory: an absolute path */
	if (!top)
		top = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	snprintf(src, sizeof(src), "%s/tests/e2e/unwind", top);
	strcpy(dir, "/tmp/rt-test-unwind.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	if (sh("command -v cc >/dev/null && command -v readelf >/dev/null")) {
		printf("\nskipped: cc or readelf missing: program-based tests do nothing\n");
		return 0;
	}
	/* eh_frame build; a .debug_frame-only build split into a debug root by build id. */
	if (sh("cd %s && cc -O2 -fomit-frame-pointer -shared -fPIC -o libuwchain.so %s/chainlib.c && "
	       "cc -O2 -fomit-frame-pointer -o chain %s/chain.c %s/nocfi.s -L. -luwchain "
	       "-Wl,-rpath,%s && ./chain snap snap", dir, src, src, src, dir) ||
	    sh("cd %s && mkdir dbg && cc -O2 -g -fomit-frame-pointer -fno-asynchronous-unwind-tables "
	       "-fno-unwind-tables -o dbg/chain %s/chain.c %s/nocfi.s -L. -luwchain -Wl,-rpath,%s && "
	       "id=$(readelf -n dbg/chain | sed -n 's/.*Build ID: //p') && "
	       "mkdir -p root/.build-id/${id%%${id#??}} && "
	       "objcopy --only-keep-debug --compress-debug-sections=zlib dbg/chain root/.build-id/${id%%${id#??}}/${id#??}.debug && "
	       "cp dbg/chain dbg/full && strip --strip-debug dbg/chain && ./dbg/chain snap dbgsnap",
	       dir, src, src, dir))
		return 1;
	have_progs = true;
	return 0;
}

static int teardown(void)
{
	return sh("rm -rf %s", dir);
}

/* ---- CFI tables against readelf ---- */

/* With lazy_bytes, t indexes the section and compiles FDEs on lookup, from a
 * copy of the section the caller frees after the table (*lazy_bytes). */
static int load_table_mode(const char *path, const char *section, struct rt_cfi_table *t,
			   void **lazy_bytes)
{
	int fd = open(path, O_RDONLY), err = -ENOENT;
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr shdr;

	elf_version(EV_CURRENT);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && !elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn))) {
			const char *name;
			Elf_Data *d;
			if (!gelf_getshdr(scn, &shdr) ||
			    !(name = elf_strptr(elf, shstrndx, shdr.sh_name)) || strcmp(name, section))
				continue;
			d = elf_getdata(scn, NULL);
			if (d && d->d_buf && lazy_bytes) {
				void *copy = malloc(d->d_size);

				err = copy && !rt_cfi_table__set_lazy(t) ? 0 : -ENOMEM;
				if (!err) {
					memcpy(copy, d->d_buf, d->d_size);
					*lazy_bytes = copy;
					err = rt_cfi_table__add_section(t, copy, d->d_size, shdr.sh_addr,
									!strcmp(section, ".eh_frame"));
				} else {
					free(copy);
				}
			} else if (d && d->d_buf) {
				err = rt_cfi_table__add_section(t, d->d_buf, d->d_size, shdr.sh_addr,
								!strcmp(section, ".eh_frame"));
			}
			break;
		}
	}
	elf_end(elf);
	close(fd);
	rt_cfi_table__finish(t);
	return err;
}

static int load_table(const char *path, const char *section, struct rt_cfi_table *t)
{
	return load_table_mode(path, section, t, NULL);
}

static int dwarf_reg_by_name(const char *name, size_t len)
{
	static const char *const names[] = { "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
					     "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
					     "rip" };
	for (int i = 0; i < 17; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return i;
	return -1;
}

static int slot_by_name(const char *name)
{
	static const char *const names[RT_CFI_NSLOTS] = { "rbx", "rbp", "r12", "r13", "r14", "r15",
							  "ra" };
	for (int i = 0; i < RT_CFI_NSLOTS; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

static bool cfa_matches(const struct rt_cfi_row *row, const char *text)
{
	if (!strcmp(text, "exp"))
		return row->cfa_kind != RT_CFI_CFA_REG;
	const char *sign = strpbrk(text, "+-");
	if (!sign)
		return false;
	int reg = dwarf_reg_by_name(text, sign - text);
	long off = strtol(sign, NULL, 10);
	return row->cfa_kind == RT_CFI_CFA_REG && row->cfa_reg == reg && row->cfa_off == off;
}

static bool rule_matches(const struct rt_cfi_row *row, int slot, const char *text)
{
	switch (text[0]) {
	case 'u': /* readelf prints both "never mentioned" and undefined as u */
		return row->kind[slot] == RT_CFI_RULE_SAME || row->kind[slot] == RT_CFI_RULE_UNDEF;
	case 's':
		return row->kind[slot] == RT_CFI_RULE_SAME;
	case 'c':
		return row->kind[slot] == RT_CFI_RULE_OFFSET && row->off[slot] == atoi(text + 1);
	case 'v':
		if (!strcmp(text, "vexp"))
			return row->kind[slot] == RT_CFI_RULE_OTHER;
		return row->kind[slot] == RT_CFI_RULE_VAL_OFFSET && row->off[slot] == atoi(text + 1);
	default: /* exp, or another register */
		return row->kind[slot] == RT_CFI_RULE_OTHER;
	}
}

/* Compare every row readelf prints for section with our table; returns mismatches. */
static int compare_readelf_mode(const char *path, const char *section, int *checked, bool lazy)
{
	struct rt_cfi_table t = { 0 };
	void *bytes = NULL;
	char cmd[1200], line[1024], cols[16][16];
	int ncols = 0, bad = 0;
	bool in_section = false, in_fde = false;
	uint64_t fde_end = 0;
	FILE *p;

	*checked = 0;
	CU_ASSERT_EQUAL_FATAL(load_table_mode(path, section, &t, lazy ? &bytes : NULL), 0);
	CU_ASSERT(lazy ? t.lazy != NULL : t.nr > 0);
	snprintf(cmd, sizeof(cmd), "readelf --wide --debug-dump=frames-interp '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	while (fgets(line, sizeof(line), p)) {
		char *tok, *save;
		uint64_t loc;
		if (strstr(line, "Contents of the ")) {
			in_section = strstr(line, section) != NULL;
			continue;
		}
		if (!in_section)
			continue;
		if (strstr(line, " FDE ")) {
			/* FDEs of discarded code (pc=0) are not in our table. */
			const char *range = strstr(line, "..");
			in_fde = !strstr(line, "pc=0000000000000000..") && range;
			fde_end = range ? strtoull(range + 2, NULL, 16) : 0;
			/* A lazy table also tells the function around an address. */
			const char *pc = strstr(line, "pc=");
			uint64_t fn_start = pc ? strtoull(pc + 3, NULL, 16) : 0, got_start, got_len;
			if (lazy && in_fde && pc && fde_end > fn_start &&
			    (rt_cfi_table__function(&t, fn_start + (fde_end - fn_start) / 2, &got_start,
						    &got_len) || got_start != fn_start ||
			     got_len != fde_end - fn_start) && bad++ < 5)
				printf("\n%s: function at %#" PRIx64 " not found\n", path, fn_start);
			continue;
		}
		if (strstr(line, " CIE ") || strstr(line, "ZERO terminator")) {
			in_fde = false;
			continue;
		}
		if (strstr(line, "   LOC ")) {
			ncols = 0;
			strtok_r(line, " \n", &save);
			strtok_r(NULL, " \n", &save); /* CFA */
			while ((tok = strtok_r(NULL, " \n", &save)) && ncols < 16)
				snprintf(cols[ncols++], sizeof(cols[0]), "%s", tok);
			continue;
		}
		/* A row at the FDE's end covers nothing. */
		if (!in_fde || sscanf(line, "%16" SCNx64, &loc) != 1 || strlen(line) < 20 ||
		    line[16] != ' ' || loc >= fde_end)
			continue;
		/* "r10 (r10)": drop the register's name in parentheses. */
		for (char *o; (o = strstr(line, " (")); ) {
			char *c = strchr(o, ')');
			if (!c)
				break;
			memmove(o, c + 1, strlen(c + 1) + 1);
		}
		const struct rt_cfi_row *row = rt_cfi_table__find(&t, loc);
		strtok_r(line, " \n", &save);
		char *cfa = strtok_r(NULL, " \n", &save);
		bool ok = row && cfa && cfa_matches(row, cfa);
		for (int i = 0; ok && i < ncols && (tok = strtok_r(NULL, " \n", &save)); i++) {
			int slot = slot_by_name(cols[i]);
			if (slot >= 0 && !rule_matches(row, slot, tok))
				ok = false;
		}
		(*checked)++;
		if (!ok && bad++ < 5)
			printf("\n%s: mismatch at %#" PRIx64 " (readelf CFA %s)\n", path, loc,
			       cfa ? cfa : "?");
	}
	pclose(p);
	rt_cfi_table__exit(&t);
	free(bytes);
	return bad;
}

/* Both modes must give readelf's rows: the full table, and the lazy one
 * whose FDEs compile on lookup. */
static int compare_readelf(const char *path, const char *section, int *checked)
{
	int lazy_checked = 0, bad = compare_readelf_mode(path, section, checked, false);

	bad += compare_readelf_mode(path, section, &lazy_checked, true);
	CU_ASSERT_EQUAL(lazy_checked, *checked);
	return bad;
}

static void test_cfi_vs_readelf(void)
{
	char path[256];
	int checked, bad;

	if (!have_progs)
		return;
	snprintf(path, sizeof(path), "%s/chain", dir);
	bad = compare_readelf(path, ".eh_frame", &checked);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(checked >= 20);
	snprintf(path, sizeof(path), "%s/libuwchain.so", dir);
	bad = compare_readelf(path, ".eh_frame", &checked);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(checked >= 3);
	snprintf(path, sizeof(path), "%s/dbg/full", dir);
	bad = compare_readelf(path, ".debug_frame", &checked);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(checked >= 10);
}

/* libc: thousands of FDEs, with remember/restore state and expressions. */
static void test_cfi_vs_readelf_libc(void)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	int checked, bad;

	if (!have_progs || access(libc, R_OK)) {
		printf("skipped: no %s\n", libc);
		return;
	}
	bad = compare_readelf(libc, ".eh_frame", &checked);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(checked > 5000);
	printf("\nFIGURE unwind: %d libc CFI rows agree with readelf, %d differ\n", checked - bad, bad);
}

/* The .plt stubs' DW_CFA_def_cfa_expression becomes the PLT rule. */
static void test_cfi_plt_expression(void)
{
	struct rt_cfi_table t = { 0 };
	char path[256], cmd[512], line[256];
	uint64_t plt = 0;
	FILE *p;

	if (!have_progs)
		return;
	snprintf(path, sizeof(path), "%s/chain", dir);
	snprintf(cmd, sizeof(cmd), "readelf -WS '%s' | awk '$2 == \".plt\" { print $4 }'", path);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	if (fgets(line, sizeof(line), p))
		plt = strtoull(line, NULL, 16);
	pclose(p);
	CU_ASSERT_FATAL(plt != 0);
	CU_ASSERT_EQUAL_FATAL(load_table(path, ".eh_frame", &t), 0);
	const struct rt_cfi_row *row = rt_cfi_table__find(&t, plt + 16 + 6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(row);
	CU_ASSERT_EQUAL(row->cfa_kind, RT_CFI_CFA_PLT);
	CU_ASSERT_EQUAL(row->cfa_off, 8);
	CU_ASSERT(row->cfa_reg == 11 || row->cfa_reg == 10);
	rt_cfi_table__exit(&t);
}

/* Malformed sections: no crash, entries counted as bad, good ones kept. */
static void test_cfi_malformed(void)
{
	/* CIE "zR" (pcrel|sdata4), then one FDE for 0x1000..0x1010 with
	 * "advance 4; def_cfa_offset 16". */
	uint8_t good[] = {
		0x14, 0, 0, 0, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 0x10, 1, 0x1b,
		0x0c, 0x07, 0x08, 0x90, 0x01, 0, 0,
		0x14, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0,
		0x44, 0x0e, 0x10, 0, 0, 0, 0,
		0, 0, 0, 0,
	};
	struct rt_cfi_table t = { 0 };

	/* pc_begin is pc-relative to its own field at offset 32. */
	int32_t rel = 0x1000 - 32;
	memcpy(good + 32, &rel, 4);
	CU_ASSERT_EQUAL(rt_cfi_table__add_section(&t, good, sizeof(good), 0, true), 0);
	rt_cfi_table__finish(&t);
	CU_ASSERT_EQUAL(t.nr_fdes, 1);
	const struct rt_cfi_row *r0 = rt_cfi_table__find(&t, 0x1000);
	const struct rt_cfi_row *r1 = rt_cfi_table__find(&t, 0x100f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
	CU_ASSERT_EQUAL(r0->cfa_off, 8);
	CU_ASSERT_EQUAL(r1->cfa_off, 16);
	CU_ASSERT_EQUAL(r1->kind[RT_CFI_RA], RT_CFI_RULE_OFFSET);
	CU_ASSERT_EQUAL(r1->off[RT_CFI_RA], -8);
	CU_ASSERT_PTR_NULL(rt_cfi_table__find(&t, 0x1010));
	CU_ASSERT_PTR_NULL(rt_cfi_table__find(&t, 0xfff));
	rt_cfi_table__exit(&t);

	/* Every truncation and many single-byte corruptions. */
	for (size_t cut = 0; cut < sizeof(good); cut++) {
		CU_ASSERT_EQUAL(rt_cfi_table__add_section(&t, good, cut, 0, true), 0);
		rt_cfi_table__finish(&t);
		rt_cfi_table__exit(&t);
	}
	srand(7);
	for (int i = 0; i < 20000; i++) {
		uint8_t b[sizeof(good)];
		memcpy(b, good, sizeof(b));
		b[rand() % sizeof(b)] = rand();
		b[rand() % sizeof(b)] = rand();
		CU_ASSERT_EQUAL(rt_cfi_table__add_section(&t, b, sizeof(b), 0, i & 1), 0);
		rt_cfi_table__finish(&t);
		rt_cfi_table__exit(&t);
	}
}

/* ---- prologue analysis ---- */

static void test_prologue(void)
{
	/* f: push rbp; mov rbp,rsp; push rbx; sub rsp,0x18; nop; add rsp,0x18; pop rbx; pop rbp; ret */
	static const uint8_t fp[] = { 0x55, 0x48, 0x89, 0xe5, 0x53, 0x48, 0x83, 0xec, 0x18, 0x90,
				      0x48, 0x83, 0xc4, 0x18, 0x5b, 0x5d, 0xc3 };
	/* g: push r12; sub rsp,0x20; nop; nop; add rsp,0x20; pop r12; ret */
	static const uint8_t nofp[] = { 0x41, 0x54, 0x48, 0x83, 0xec, 0x20, 0x90, 0x90,
					0x48, 0x83, 0xc4, 0x20, 0x41, 0x5c, 0xc3 };
	struct rt_prologue *p = rt_prologue__new();
	struct rt_cfi_row row;
	enum rt_unwind_how how;
	const uint64_t f = 0x4000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* At entry and after push rbp: from rsp. */
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, fp, sizeof(fp), f, f, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RSP && row.cfa_off == 8 && how == RT_UNWIND_PROLOGUE);
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, fp, sizeof(fp), f, f + 1, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RSP && row.cfa_off == 16);
	CU_ASSERT(row.kind[RT_CFI_RBP] == RT_CFI_RULE_OFFSET && row.off[RT_CFI_RBP] == -16);
	/* After mov rbp,rsp: frame pointer, also in the body. */
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, fp, sizeof(fp), f, f + 4, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RBP && row.cfa_off == 16 && how == RT_UNWIND_FP);
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, fp, sizeof(fp), f, f + 9, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RBP && row.cfa_off == 16 && how == RT_UNWIND_FP);
	CU_ASSERT(row.kind[RT_CFI_RBX] == RT_CFI_RULE_OFFSET && row.off[RT_CFI_RBX] == -24);
	/* Epilogue: at pop rbx, rsp is back at the pushes; at ret only the RA is left. */
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, fp, sizeof(fp), f, f + 14, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RSP && row.cfa_off == 24);
	CU_ASSERT(row.kind[RT_CFI_RBX] == RT_CFI_RULE_OFFSET && row.off[RT_CFI_RBX] == -24);
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, fp, sizeof(fp), f, f + 16, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RSP && row.cfa_off == 8);
	/* Without a frame pointer: the frame size from the pushes and sub. */
	CU_ASSERT_EQUAL(rt_prologue__analyze(p, nofp, sizeof(nofp), f, f + 7, &row, &how), 0);
	CU_ASSERT(row.cfa_reg == RT_DWARF_RSP && row.cfa_off == 48 && how == RT_UNWIND_PROLOGUE);
	CU_ASSERT(row.kind[RT_CFI_R12] == RT_CFI_RULE_OFFSET && row.off[RT_CFI_R12] == -16);
	/* pc outside the code, or between instruction boundaries of the prologue. */
	CU_ASSERT_NOT_EQUAL(rt_prologue__analyze(p, nofp, sizeof(nofp), f, f + 100, &row, &how), 0);
	CU_ASSERT_NOT_EQUAL(rt_prologue__analyze(p, nofp, sizeof(nofp), f, f + 1, &row, &how), 0);
	rt_prologue__free(p);
}

/* ---- unwinding a real snapshot ---- */

struct snapshot {
	uint64_t mask, regs[24];
	int nr_regs;
	uint8_t *stack;
	uint64_t size;
	struct rt_unwind_map maps[256];
	char paths[256][256];
	int nr_maps;
	int lookups;
};

static int load_snapshot(const char *path, struct snapshot *s)
{
	char line[1024], maps[300];
	FILE *f = fopen(path, "rb");
	char magic[8];

	memset(s, 0, sizeof(*s));
	if (!f)
		return -errno;
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "RTUWSNAP", 8) ||
	    fread(&s->mask, 8, 1, f) != 1)
		goto bad;
	s->nr_regs = __builtin_popcountll(s->mask);
	if (s->nr_regs > 24 || fread(s->regs, 8, s->nr_regs, f) != (size_t)s->nr_regs ||
	    fread(&s->size, 8, 1, f) != 1 || s->size > (1 << 20))
		goto bad;
	s->stack = malloc(s->size + 1);
	if (!s->stack || fread(s->stack, 1, s->size, f) != s->size)
		goto bad;
	fclose(f);
	snprintf(maps, sizeof(maps), "%s.maps", path);
	f = fopen(maps, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && s->nr_maps < 256) {
		unsigned long start, end, off;
		char perms[8], file[256] = "";
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &start, &end, perms, &off, file) < 4 ||
		    !file[0])
			continue;
		struct rt_unwind_map *m = &s->maps[s->nr_maps];
		snprintf(s->paths[s->nr_maps], sizeof(s->paths[0]), "%s", file);
		*m = (struct rt_unwind_map){ .path = s->paths[s->nr_maps], .start = start,
					     .end = end, .pgoff = off };
		s->nr_maps++;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	free(s->stack);
	s->stack = NULL;
	return -EINVAL;
}

static int snapshot_find_map(void *ctx, uint64_t addr, struct rt_unwind_map *out)
{
	struct snapshot *s = ctx;

	s->lookups++;
	for (int i = 0; i < s->nr_maps; i++) {
		if (addr >= s->maps[i].start && addr < s->maps[i].end) {
			*out = s->maps[i];
			return 0;
		}
	}
	return -ENOENT;
}

static const char *frame_name(struct rt_symbolizer *sym, const struct snapshot *s, uint64_t ip,
			      bool caller)
{
	struct rt_symbol out;
	uint64_t addr = caller ? ip - 1 : ip;

	for (int i = 0; i < s->nr_maps; i++) {
		const struct rt_unwind_map *m = &s->maps[i];
		if (addr >= m->start && addr < m->end) {
			rt_symbolizer__resolve_file(sym, m->path, NULL, 0, addr - m->start + m->pgoff,
						    &out);
			return out.status == RT_SYMBOL_OK ? out.name : "?";
		}
	}
	return "?";
}

static struct rt_unwind_input snapshot_input(struct snapshot *s)
{
	return (struct rt_unwind_input){ .regs = s->regs, .regs_mask = s->mask, .stack = s->stack,
					 .stack_size = s->size, .find_map = snapshot_find_map,
					 .ctx = s };
}

/* Unwind snapshot file and check the chain by name (and how frames were found). */
static void check_chain(const char *file, const char *debug_root, bool expect_marked)
{
	static const char *const expect[] = { "take_snapshot", "c_leaf", "asm_nofp", "asm_fp",
					      "lib_b", "a_func", "main" };
	struct rt_unwinder_opts opts = { .sz = sizeof(opts), .debug_root = debug_root };
	struct rt_unwinder *u = rt_unwinder__new(&opts);
	struct rt_symbolizer *sym = rt_symbolizer__new(NULL);
	struct snapshot *s = calloc(1, sizeof(*s));
	struct rt_unwind_frame frames[64];
	enum rt_unwind_stop stop;
	char path[256];
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sym);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	CU_ASSERT_EQUAL_FATAL(load_snapshot(path, s), 0);
	struct rt_unwind_input in = snapshot_input(s);
	n = rt_unwinder__unwind(u, &in, frames, 64, &stop);
	for (int i = 0; i < n; i++)
		printf("\n  #%d %#" PRIx64 " %s how=%d", i, frames[i].ip,
		       frame_name(sym, s, frames[i].ip, i > 0), frames[i].how);
	printf("\n  stop=%s\n", rt_unwind_stop__name(stop));
	CU_ASSERT_FATAL(n >= 7);
	for (int i = 0; i < 7; i++)
		CU_ASSERT_STRING_EQUAL(frame_name(sym, s, frames[i].ip, i > 0), expect[i]);
	if (expect_marked) {
		/* asm_fp's address came from asm_nofp's prologue, lib_b's from asm_fp's rbp. */
		CU_ASSERT_EQUAL(frames[3].how, RT_UNWIND_PROLOGUE);
		CU_ASSERT_EQUAL(frames[4].how, RT_UNWIND_FP);
		CU_ASSERT_EQUAL(frames[5].how, RT_UNWIND_CFI);
	}
	/* Down to _start, whose CFI marks the return address undefined. */
	CU_ASSERT_EQUAL(stop, RT_UNWIND_STOP_END);
	CU_ASSERT_STRING_EQUAL(frame_name(sym, s, frames[n - 1].ip, true), "_start");

	/* A short copy ends with STACK; a small array with MAX_DEPTH. */
	in.stack_size = 64;
	n = rt_unwinder__unwind(u, &in, frames, 64, &stop);
	CU_ASSERT(n >= 1 && n < 7);
	CU_ASSERT_EQUAL(stop, RT_UNWIND_STOP_STACK);
	in.stack_size = s->size;
	n = rt_unwinder__unwind(u, &in, frames, 3, &stop);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(stop, RT_UNWIND_STOP_MAX_DEPTH);

	free(s->stack);
	free(s);
	rt_symbolizer__free(sym);
	rt_unwinder__free(u);
}

static void test_unwind_snapshot(void)
{
	if (have_progs)
		check_chain("snap", NULL, true);
}

/* CFI only in .debug_frame of a separate debug file found by build id. */
static void test_unwind_debug_file(void)
{
	char root[128];

	if (!have_progs)
		return;
	snprintf(root, sizeof(root), "%s/root", dir);
	check_chain("dbgsnap", root, true);
}

static void test_unwind_errors(void)
{
	struct rt_unwinder *u = rt_unwinder__new(NULL);
	struct snapshot *s = calloc(1, sizeof(*s));
	struct rt_unwind_frame frames[64];
	enum rt_unwind_stop stop;
	char path[256];
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	if (!have_progs)
		goto out;
	snprintf(path, sizeof(path), "%s/snap", dir);
	CU_ASSERT_EQUAL_FATAL(load_snapshot(path, s), 0);
	struct rt_unwind_input in = snapshot_input(s);

	/* No IP: -EINVAL. */
	in.regs_mask = s->mask & ~(1ull << RT_PERF_REG_IP);
	CU_ASSERT_EQUAL(rt_unwinder__unwind(u, &in, frames, 64, &stop), -EINVAL);
	in.regs_mask = s->mask;
	in.find_map = NULL;
	CU_ASSERT_EQUAL(rt_unwinder__unwind(u, &in, frames, 64, &stop), -EINVAL);
	in.find_map = snapshot_find_map;
	/* No maps at all. */
	int nr = s->nr_maps;
	s->nr_maps = 0;
	n = rt_unwinder__unwind(u, &in, frames, 64, &stop);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(stop, RT_UNWIND_STOP_NO_MAP);
	s->nr_maps = nr;
	/* Garbage stacks and registers: any result, never a crash or a long walk. */
	uint8_t *orig = s->stack;
	uint64_t regs[24];
	memcpy(regs, s->regs, sizeof(regs));
	s->stack = malloc(s->size);
	srand(11);
	for (int round = 0; round < 2000; round++) {
		memcpy(s->stack, orig, s->size);
		for (int k = 0; k < 16; k++)
			s->stack[rand() % s->size] = rand();
		/* Return addresses are worth breaking too: redirect some words to code. */
		if (round & 1)
			for (int k = 0; k < 8; k++) {
				uint64_t v = regs[3] + (rand() % 4096) - 2048;
				memcpy(s->stack + (rand() % (s->size / 8)) * 8, &v, 8);
			}
		in.stack = s->stack;
		n = rt_unwinder__unwind(u, &in, frames, 64, &stop);
		CU_ASSERT(n >= 1 && n <= 64);
	}
	free(s->stack);
	free(orig);
out:
	free(s);
	rt_unwinder__free(u);
}

/* With a maps key, frames seen before skip the mapping lookup, give the same
 * chain, and a new key (the mappings changed) is looked up afresh. */
static void test_unwind_maps_key(void)
{
	struct rt_unwinder *u = rt_unwinder__new(NULL);
	struct snapshot *s = calloc(1, sizeof(*s));
	struct rt_unwind_frame plain[64], keyed[64];
	enum rt_unwind_stop stop, stop_keyed;
	int n, n_keyed, lookups_plain, lookups_keyed, nr;
	char path[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	if (!have_progs)
		goto out;
	snprintf(path, sizeof(path), "%s/snap", dir);
	CU_ASSERT_EQUAL_FATAL(load_snapshot(path, s), 0);
	struct rt_unwind_input in = snapshot_input(s);

	n = rt_unwinder__unwind(u, &in, plain, 64, &stop);
	s->lookups = 0;
	n = rt_unwinder__unwind(u, &in, plain, 64, &stop);
	lookups_plain = s->lookups;
	in.maps_key = 7;
	rt_unwinder__unwind(u, &in, keyed, 64, &stop_keyed);
	s->lookups = 0;
	n_keyed = rt_unwinder__unwind(u, &in, keyed, 64, &stop_keyed);
	lookups_keyed = s->lookups;
	printf("\n  %d frames: %d mapping lookups without a key, %d with\n", n, lookups_plain,
	       lookups_keyed);
	CU_ASSERT_EQUAL(n_keyed, n);
	CU_ASSERT_EQUAL(stop_keyed, stop);
	for (int i = 0; i < n && i < n_keyed; i++) {
		CU_ASSERT_EQUAL(keyed[i].ip, plain[i].ip);
		CU_ASSERT_EQUAL(keyed[i].how, plain[i].how);
	}
	CU_ASSERT(lookups_keyed < lookups_plain);
	/* The mappings are gone under a new key: the cached rows do not apply. */
	nr = s->nr_maps;
	s->nr_maps = 0;
	in.maps_key = 8;
	n_keyed = rt_unwinder__unwind(u, &in, keyed, 64, &stop_keyed);
	CU_ASSERT_EQUAL(n_keyed, 1);
	CU_ASSERT_EQUAL(stop_keyed, RT_UNWIND_STOP_NO_MAP);
	s->nr_maps = nr;
	free(s->stack);
out:
	free(s);
	rt_unwinder__free(u);
}

/* Per-sample cost once the files are cached. */
static void test_unwind_speed(void)
{
	struct rt_unwinder *u = rt_unwinder__new(NULL);
	struct snapshot *s = calloc(1, sizeof(*s));
	struct rt_unwind_frame frames[64];
	enum rt_unwind_stop stop;
	struct timespec a, b;
	char path[256];
	long frames_total = 0;
	const int rounds = 200000;

	if (!have_progs || !u || !s)
		goto out;
	snprintf(path, sizeof(path), "%s/snap", dir);
	CU_ASSERT_EQUAL_FATAL(load_snapshot(path, s), 0);
	struct rt_unwind_input in = snapshot_input(s);
	rt_unwinder__unwind(u, &in, frames, 64, &stop);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < rounds; i++)
		frames_total += rt_unwinder__unwind(u, &in, frames, 64, &stop);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds;
	printf("\nFIGURE unwind: %.0f ns per %ld-frame sample (%.0f ns per frame, cached)\n", ns,
	       frames_total / rounds, ns * rounds / frames_total);
	CU_ASSERT(ns < 100000);
	free(s->stack);
out:
	free(s);
	rt_unwinder__free(u);
}

/* A register out of perf's packed user registers: one value per set bit of
 * the mask, in bit order. */
static void test_perf_reg(void)
{
	const uint64_t mask = (1ull << RT_PERF_REG_BP) | (1ull << RT_PERF_REG_SP) |
			      (1ull << RT_PERF_REG_IP);
	const uint64_t regs[] = { 0xb9, 0x5e, 0x1e };

	CU_ASSERT_EQUAL(rt_perf_reg(regs, mask, RT_PERF_REG_BP), 0xb9);
	CU_ASSERT_EQUAL(rt_perf_reg(regs, mask, RT_PERF_REG_SP), 0x5e);
	CU_ASSERT_EQUAL(rt_perf_reg(regs, mask, RT_PERF_REG_IP), 0x1e);
	/* not in the mask, or no registers at all (--call-graph fp) */
	CU_ASSERT_EQUAL(rt_perf_reg(regs, mask, RT_PERF_REG_AX), 0);
	CU_ASSERT_EQUAL(rt_perf_reg(NULL, 0, RT_PERF_REG_SP), 0);
	CU_ASSERT_EQUAL(rt_perf_reg(regs, mask & ~(1ull << RT_PERF_REG_BP), RT_PERF_REG_SP), 0xb9);
}

int main(void)
{
	CU_pSuite suite;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("unwind", setup, teardown);
	if (!suite || !CU_add_test(suite, "CFI rows agree with readelf", test_cfi_vs_readelf) ||
	    !CU_add_test(suite, "libc CFI rows agree with readelf", test_cfi_vs_readelf_libc) ||
	    !CU_add_test(suite, "PLT CFA expression", test_cfi_plt_expression) ||
	    !CU_add_test(suite, "malformed CFI", test_cfi_malformed) ||
	    !CU_add_test(suite, "prologue analysis", test_prologue) ||
	    !CU_add_test(suite, "unwind a stack snapshot", test_unwind_snapshot) ||
	    !CU_add_test(suite, "unwind via a separate debug file", test_unwind_debug_file) ||
	    !CU_add_test(suite, "bad input", test_unwind_errors) ||
	    !CU_add_test(suite, "rows cached by maps key", test_unwind_maps_key) ||
	    !CU_add_test(suite, "a register of perf's packed registers", test_perf_reg) ||
	    !CU_add_test(suite, "speed", test_unwind_speed)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
