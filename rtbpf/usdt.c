/* SPDX-License-Identifier: GPL-2.0-only */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "rtbpf/usdt.h"

#define NT_STAPSDT 3

/* Whether stapsdt note descriptor @desc (@size bytes) names the probe
 * asked for: after its pc, base and semaphore addresses come
 * provider\0name\0arguments\0. */
static bool note_matches(const char *desc, size_t size, const char *provider, size_t provider_len,
			 const char *name)
{
	const char *end = desc + size, *prov = desc + 24, *probe, *probe_end;

	if (size < 24 + 2)
		return false;
	probe = memchr(prov, 0, (size_t)(end - prov));
	if (!probe++ || probe >= end || !(probe_end = memchr(probe, 0, (size_t)(end - probe))))
		return false;
	if ((size_t)(probe - 1 - prov) != provider_len || memcmp(prov, provider, provider_len))
		return false;
	return !name || !strcmp(probe, name);
}

bool rt_usdt__has_probe(int fd, const char *provider, size_t provider_len, const char *name)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		size_t off = 0, name_off, desc_off;
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while (!found && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0)
			found = nh.n_type == NT_STAPSDT && nh.n_namesz == 8 &&
				!memcmp((const char *)d->d_buf + name_off, "stapsdt", 8) &&
				note_matches((const char *)d->d_buf + desc_off, nh.n_descsz, provider,
					     provider_len, name);
	}
	if (elf)
		elf_end(elf);
	return found;
}

int rt_usdt__each_needed(int fd, int (*fn)(void *ctx, const char *lib), void *ctx)
{
	Elf_Scn *scn = NULL;
	int ret = 0;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !ret && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; !ret && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *lib;

			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag != DT_NEEDED)
				continue;
			lib = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (lib)
				ret = fn(ctx, lib);
		}
	}
	if (elf)
		elf_end(elf);
	return ret;
}

/* The value of symbol @name of type @type in @elf (.symtab first: a
 * stripped build keeps only .dynsym); with @local_suffix, also a compiler's
 * name for a function-local static, "name.N".  0 when there is none. */
static uint64_t symbol_value(Elf *elf, const char *name, int type, bool local_suffix)
{
	size_t len = strlen(name);

	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize ||
			    sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) || !(d = elf_getdata(scn, NULL)))
				continue;
			for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym sym;
				const char *sn;

				if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != type ||
				    !sym.st_value || sym.st_shndx == SHN_UNDEF ||
				    !(sn = elf_strptr(elf, sh.sh_link, sym.st_name)))
					continue;
				if (!strcmp(sn, name) ||
				    (local_suffix && !strncmp(sn, name, len) && sn[len] == '.'))
					return sym.st_value;
			}
		}
	}
	return 0;
}

/* The file offset of @vaddr in a loadable segment of @elf, executable
 * (@exec) or not.  0 or -ENOENT. */
static int segment_offset(Elf *elf, uint64_t vaddr, bool exec, uint64_t *offset)
{
	size_t n;

	if (!vaddr || elf_getphdrnum(elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    !(ph.p_flags & PF_X) == !exec && ph.p_vaddr <= vaddr &&
		    vaddr < ph.p_vaddr + ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int rt_usdt__function_offset(int fd, const char *name, uint64_t *offset)
{
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	err = segment_offset(elf, symbol_value(elf, name, STT_FUNC, false), true, offset);
	elf_end(elf);
	return err;
}

int rt_usdt__code_table_offset(int fd, const char *table, uint32_t index, uint64_t *offset)
{
	uint64_t at = 0, target = 0;
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	err = segment_offset(elf, symbol_value(elf, table, STT_OBJECT, true) + (uint64_t)index * 8,
			     false, &at);
	if (!err && pread(fd, &target, sizeof(target), (off_t)at) != (ssize_t)sizeof(target))
		err = -EIO;
	if (!err)
		err = segment_offset(elf, target, true, offset);
	elf_end(elf);
	return err;
}
