/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layouts/pyversion.h"
#include "perfglue/safefile.h"

int rt_pyversion__parse(const char *s, struct rt_pyversion *out)
{
	int n = 0;

	if (sscanf(s, "%d.%d.%d%n", &out->major, &out->minor, &out->patch, &n) != 3 ||
	    out->major < 2 || out->major > 9 || out->minor < 0 || out->minor > 99 ||
	    out->patch < 0 || out->patch > 99)
		return -EINVAL;
	/* a release suffix is fine, more digits or dots are not */
	if (s[n] && (isdigit((unsigned char)s[n]) || s[n] == '.'))
		return -EINVAL;
	return 0;
}

/* Copies up to @len bytes at virtual address @addr of the file's allocated
 * sections (what the loader would map). */
static int read_vaddr(Elf *elf, uint64_t addr, void *buf, size_t len)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || sh.sh_type == SHT_NOBITS ||
		    addr < sh.sh_addr || addr >= sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || addr - sh.sh_addr >= d->d_size)
			return -EFAULT;
		if (len > d->d_size - (addr - sh.sh_addr))
			len = d->d_size - (addr - sh.sh_addr);
		memcpy(buf, (const char *)d->d_buf + (addr - sh.sh_addr), len);
		return (int)len;
	}
	return -EFAULT;
}

static bool find_symbols(Elf *elf, GElf_Sym *version, GElf_Sym *getversion)
{
	Elf_Scn *scn = NULL;
	bool found = false;

	memset(version, 0, sizeof(*version));
	memset(getversion, 0, sizeof(*getversion));
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || name[0] != 'P')
				continue;
			if (!strcmp(name, "Py_Version")) {
				*version = s;
				found = true;
			} else if (!strcmp(name, "Py_GetVersion")) {
				*getversion = s;
				found = true;
			}
		}
	}
	return found;
}

/* Py_GetVersion formats PY_VERSION with the build info and compiler name;
 * its rip-relative lea instructions load those strings' addresses.  The
 * literal itself may only exist as the tail of a longer merged string, so
 * following the code is the reliable way to it. */
static int version_from_code(Elf *elf, const GElf_Sym *fn, struct rt_pyversion *out)
{
	unsigned char code[128];
	int n = read_vaddr(elf, fn->st_value, code, sizeof(code));

	if (n < 0)
		return n;
	if (fn->st_size && (size_t)n > fn->st_size)
		n = (int)fn->st_size;
	for (int i = 0; i + 7 <= n; i++) {
		int32_t disp;
		char s[32];
		uint64_t target;
		int len;

		/* REX.W (+R) 8d /r with mod=00 rm=101: lea disp32(%rip), reg */
		if ((code[i] != 0x48 && code[i] != 0x4c) || code[i + 1] != 0x8d ||
		    (code[i + 2] & 0xc7) != 0x05)
			continue;
		memcpy(&disp, &code[i + 3], sizeof(disp));
		target = fn->st_value + (uint64_t)i + 7 + (int64_t)disp;
		len = read_vaddr(elf, target, s, sizeof(s) - 1);
		if (len <= 0)
			continue;
		s[len] = '\0';
		if (strlen(s) < 16 && !rt_pyversion__parse(s, out) && !strchr(s, ' '))
			return 0;
	}
	return -ENOENT;
}

int rt_pyversion__from_elf(const char *path, struct rt_pyversion *out)
{
	GElf_Sym version, getversion;
	Elf *elf = NULL;
	int fd, err = -ENOENT;

	struct stat st;

	/* path is a /proc/PID/map_files link to a target's file: no FIFO or
	 * device, and read rather than mapped when the target's user owns it. */
	fd = rt_safefile__open_proc_link(path, 0, &st);
	if (fd < 0)
		return fd;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, rt_safefile__owner_trusted(&st) ? ELF_C_READ_MMAP : ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	if (!find_symbols(elf, &version, &getversion))
		goto out;
	if (version.st_value) {
		uint32_t hex = 0;

		/* PY_VERSION_HEX: major, minor, micro, level+serial bytes */
		if (read_vaddr(elf, version.st_value, &hex, sizeof(hex)) == sizeof(hex) && hex) {
			out->major = (hex >> 24) & 0xff;
			out->minor = (hex >> 16) & 0xff;
			out->patch = (hex >> 8) & 0xff;
			err = 0;
			goto out;
		}
	}
	if (getversion.st_value)
		err = version_from_code(elf, &getversion, out);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}
