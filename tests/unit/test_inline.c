/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for symbolize/inline.c (inline chains from DWARF, through the
 * symbolizer) and rtmerge/chains.c (one frame id standing for a chain). */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtmerge/chains.h"
#include "symbolize/inline.h"
#include "symbolize/symbolize.h"

static char dir[64];

/*
 * leaf() inlined into middle() inlined into outer(); the label marks an
 * instruction of leaf's inlined body.  Its symbol is removed from the files
 * under test (a label would be a symbol of its own), and read from "marked".
 */
static const char program[] =
	"static inline __attribute__((always_inline)) int leaf(int x)\n"
	"{ asm volatile(\"inline_mark: nop\"); return x * 7 + 3; }\n"
	"static inline __attribute__((always_inline)) int middle(int x) { return leaf(x) ^ 5; }\n"
	"__attribute__((noinline)) int outer(int x) { return middle(x) + 1; }\n"
	"int main(int c, char **v) { (void)v; return outer(c); }\n";

static int sh(const char *fmt)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd %s && %s", dir, fmt);
	return system(cmd);
}

static int setup(void)
{
	char path[128];
	FILE *f;

	strcpy(dir, "/tmp/rt-test-inline.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/p.c", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs(program, f);
	fclose(f);
	if (sh("cc -O2 -g -fPIE -pie -o marked p.c") ||
	    sh("objcopy --strip-symbol=inline_mark marked prog") ||
	    /* no DWARF at all */
	    sh("cc -O2 -fPIE -pie -o nodwarf p.c && objcopy --strip-symbol=inline_mark nodwarf") ||
	    /* symbols kept, DWARF only in a debug file named by .gnu_debuglink */
	    sh("objcopy --only-keep-debug prog prog.debug && cp prog linked && "
	       "strip --strip-debug linked && objcopy --add-gnu-debuglink=prog.debug linked") ||
	    /* compressed DWARF, as Debian's debug files have it; and a copy whose
	     * .debug_info claims to inflate to 1 TiB */
	    sh("objcopy --compress-debug-sections=zlib prog zprog && cp zprog bomb"))
		return 1;
	return 0;
}

static int teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Link-time address of a symbol of "marked", and its file offset. */
static uint64_t symbol_addr(const char *name, uint64_t *file_offset)
{
	char path[128];
	int fd;
	Elf *elf;
	Elf_Scn *scn = NULL;
	uint64_t vaddr = UINT64_MAX;
	size_t nr;

	snprintf(path, sizeof(path), "%s/marked", dir);
	fd = open(path, O_RDONLY);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *d;

		gelf_getshdr(scn, &shdr);
		if (shdr.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
			GElf_Sym s;

			gelf_getsym(d, (int)i, &s);
			if (!strcmp(elf_strptr(elf, shdr.sh_link, s.st_name), name))
				vaddr = s.st_value;
		}
	}
	elf_getphdrnum(elf, &nr);
	for (size_t i = 0; i < nr; i++) {
		GElf_Phdr ph;

		gelf_getphdr(elf, (int)i, &ph);
		if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
			*file_offset = vaddr - ph.p_vaddr + ph.p_offset;
	}
	elf_end(elf);
	close(fd);
	return vaddr;
}

static struct rt_inline_dwarf *open_file(const char *name)
{
	char path[128];
	struct rt_inline_dwarf *d;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	d = rt_inline_dwarf__open(fd);
	close(fd);  /* the module keeps its own descriptor */
	return d;
}

static void test_chain(void)
{
	struct rt_inline_dwarf *d = open_file("prog");
	const char *const *names, *const *again;
	uint64_t off, mark = symbol_addr("inline_mark", &off);
	uint64_t main_addr = symbol_addr("main", &off);
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* no function there: no chain and no names pointer, also when asked
	 * again (a pointer made from a pool not allocated yet was undefined
	 * behaviour; the merge fuzzer's UBSan build found it on a recording) */
	names = (const char *const *)&n;
	CU_ASSERT_EQUAL(rt_inline_dwarf__chain(d, 0x10, &names), 0);
	CU_ASSERT_PTR_NULL(names);
	names = (const char *const *)&n;
	CU_ASSERT_EQUAL(rt_inline_dwarf__chain(d, 0x10, &names), 0);
	CU_ASSERT_PTR_NULL(names);
	CU_ASSERT_NOT_EQUAL_FATAL(mark, UINT64_MAX);
	n = rt_inline_dwarf__chain(d, mark, &names);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(names[0], "leaf");
	CU_ASSERT_STRING_EQUAL(names[1], "middle");
	CU_ASSERT_STRING_EQUAL(names[2], "outer");
	/* the second answer is the cached one */
	CU_ASSERT_EQUAL(rt_inline_dwarf__chain(d, mark, &again), 3);
	CU_ASSERT_PTR_EQUAL(again, names);
	/* main inlines nothing: its own name alone */
	n = rt_inline_dwarf__chain(d, main_addr, &names);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(names[0], "main");
	/* no function there */
	CU_ASSERT_EQUAL(rt_inline_dwarf__chain(d, 0x10, &names), 0);
	CU_ASSERT_EQUAL(rt_inline_dwarf__chain(d, UINT64_MAX, &names), 0);
	rt_inline_dwarf__free(d);
}

/* Sets the inflated size in the compression header of bomb's .debug_info. */
static int make_bomb(void)
{
	char path[128];
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	int fd, ret = -1;
	Elf *elf;

	snprintf(path, sizeof(path), "%s/bomb", dir);
	fd = open(path, O_RDWR);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		uint64_t huge = 1ull << 40;

		if (gelf_getshdr(scn, &sh) && !strcmp(elf_strptr(elf, shstrndx, sh.sh_name),
						      ".debug_info") && (sh.sh_flags & SHF_COMPRESSED))
			/* Elf64_Chdr: ch_type, ch_reserved, then ch_size */
			ret = pwrite(fd, &huge, 8, (off_t)sh.sh_offset + 8) == 8 ? 0 : -1;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

static void test_compressed(void)
{
	struct rt_inline_dwarf *d = open_file("zprog");
	const char *const *names;
	uint64_t off, mark = symbol_addr("inline_mark", &off);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(rt_inline_dwarf__chain(d, mark, &names), 3);
	rt_inline_dwarf__free(d);
	CU_ASSERT_EQUAL_FATAL(make_bomb(), 0);
	errno = 0;
	CU_ASSERT_PTR_NULL(open_file("bomb"));
	CU_ASSERT_EQUAL(errno, EFBIG);
}

static void test_no_dwarf(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(open_file("nodwarf"));
	CU_ASSERT_EQUAL(errno, ENODATA);
	rt_inline_dwarf__free(NULL);
}

/* Through the symbolizer: the chain only when asked for, and from the
 * debug file when the program has none of its own. */
static void test_symbolizer(void)
{
	struct rt_symbolizer_opts opts = { .sz = sizeof(opts), .inline_frames = true };
	static const char *const files[] = { "prog", "linked" };
	struct rt_symbolizer *s;
	struct rt_symbol sym;
	char path[128];
	uint64_t off = 0;

	symbol_addr("inline_mark", &off);
	for (int plain = 0; plain < 2; plain++) {
		opts.inline_frames = !plain;
		s = rt_symbolizer__new(&opts);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			CU_ASSERT_EQUAL(rt_symbolizer__resolve_file(s, path, NULL, 0, off, &sym), 0);
			CU_ASSERT_EQUAL_FATAL(sym.status, RT_SYMBOL_OK);
			CU_ASSERT_STRING_EQUAL(sym.name, "outer");
			if (plain) {
				CU_ASSERT_PTR_NULL(sym.chain);
				CU_ASSERT_EQUAL(sym.chain_len, 0);
				continue;
			}
			CU_ASSERT_EQUAL_FATAL(sym.chain_len, 3);
			CU_ASSERT_STRING_EQUAL(sym.chain[0], "leaf");
			CU_ASSERT_STRING_EQUAL(sym.chain[2], "outer");
		}
		snprintf(path, sizeof(path), "%s/nodwarf", dir);
		rt_symbolizer__resolve_file(s, path, NULL, 0, off, &sym);
		CU_ASSERT_EQUAL(sym.status, RT_SYMBOL_OK);
		CU_ASSERT_EQUAL(sym.chain_len, 0);
		rt_symbolizer__free(s);
	}
}

static void test_chains(void)
{
	struct rt_chains c = { 0 };
	const uint32_t a[] = { 7, 8, 9 }, b[] = { 4, 5 };
	uint32_t ida, idb, in[4], out[16], n;

	CU_ASSERT_EQUAL_FATAL(rt_chains__add(&c, a, 3, &ida), 0);
	CU_ASSERT_EQUAL_FATAL(rt_chains__add(&c, b, 2, &idb), 0);
	CU_ASSERT_TRUE(rt_chains__is_chain(ida));
	CU_ASSERT_FALSE(rt_chains__is_chain(1));
	in[0] = 1;
	in[1] = ida;
	in[2] = 2;
	in[3] = idb;
	n = rt_chains__expand(&c, in, 4, out, 16);
	CU_ASSERT_EQUAL_FATAL(n, 7);
	CU_ASSERT_TRUE(out[0] == 1 && out[1] == 7 && out[2] == 8 && out[3] == 9 && out[4] == 2 &&
		       out[5] == 4 && out[6] == 5);
	/* the output is bounded */
	CU_ASSERT_EQUAL(rt_chains__expand(&c, in, 4, out, 3), 3);
	CU_ASSERT_EQUAL(out[2], 8);
	rt_chains__exit(&c);
	CU_ASSERT_PTR_NULL(c.ids);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (system("command -v cc >/dev/null && command -v objcopy >/dev/null && "
		   "command -v strip >/dev/null") != 0) {
		printf("skipped: needs cc and binutils to build test programs\n");
		return 77;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("inline", setup, teardown);
	CU_add_test(suite, "inline chain from DWARF, cached", test_chain);
	CU_add_test(suite, "file without DWARF", test_no_dwarf);
	CU_add_test(suite, "compressed DWARF, and one claiming 1 TiB", test_compressed);
	CU_add_test(suite, "symbolizer: chains on request, from debug files", test_symbolizer);
	CU_add_test(suite, "one id for a chain of frames", test_chains);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
