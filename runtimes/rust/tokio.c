/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <libiberty/demangle.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/process.h"
#include "perfglue/safefile.h"
#include "runtimes/rust/tokio.h"

#define POLL_FN "tokio::runtime::task::raw::poll"
#define CLOSURE "::{closure#0}"

int rt_tokio__future_name(const char *demangled, char *buf, size_t size)
{
	size_t n = strlen(POLL_FN), depth = 0, len;
	const char *p, *arg;

	if (!size || strncmp(demangled, POLL_FN, n))
		return 0;
	buf[0] = '\0';
	if (!demangled[n])
		return 1; /* legacy mangling: no generic arguments */
	if (strncmp(demangled + n, "::<", 3))
		return 0;
	if (strstr(demangled, "tokio::runtime::blocking::task::BlockingTask<"))
		return 0;
	arg = demangled + n + 3;
	/* the first generic argument ends at a comma outside any brackets */
	for (p = arg; *p; p++) {
		if (*p == '<' || *p == '(' || *p == '[' || *p == '{')
			depth++;
		else if ((*p == '>' || *p == ')' || *p == ']' || *p == '}') && depth)
			depth--;
		else if (*p == ',' && !depth)
			break;
	}
	len = (size_t)(p - arg);
	while (len > strlen(CLOSURE) && !strncmp(arg + len - strlen(CLOSURE), CLOSURE, strlen(CLOSURE)))
		len -= strlen(CLOSURE);
	if (len >= size)
		len = size - 1;
	memcpy(buf, arg, len);
	buf[len] = '\0';
	return 1;
}

void rt_tokio_probes__exit(struct rt_tokio_probes *p)
{
	free(p->polls);
	p->polls = NULL;
	p->nr_polls = 0;
}

/* The demangled name of @sym, without the ".llvm.N" suffix LLVM adds to
 * local symbols it renames; NULL when it is not a Rust name.  Free it. */
static char *demangle(const char *sym)
{
	char tmp[4096];
	const char *dot = strstr(sym, ".llvm.");
	size_t n = dot ? (size_t)(dot - sym) : strlen(sym);

	if (n >= sizeof(tmp) || (strncmp(sym, "_R", 2) && strncmp(sym, "_ZN", 3)))
		return NULL;
	memcpy(tmp, sym, n);
	tmp[n] = '\0';
	return cplus_demangle(tmp, DMGL_PARAMS | DMGL_RUST);
}

static int file_offset(Elf *elf, uint64_t vaddr, uint64_t *offset)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    ph.p_vaddr <= vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int add_poll(struct rt_tokio_probes *out, uint64_t offset, const char *future)
{
	struct rt_tokio_poll_fn *grown;

	for (size_t i = 0; i < out->nr_polls; i++)
		if (out->polls[i].offset == offset)
			return 0; /* .symtab and .dynsym */
	if (!(out->nr_polls & 15)) {
		grown = realloc(out->polls, (out->nr_polls + 16) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		out->polls = grown;
	}
	out->polls[out->nr_polls].offset = offset;
	if (future[0])
		snprintf(out->polls[out->nr_polls].future, RT_TOKIO_NAME_MAX, "%s", future);
	else
		snprintf(out->polls[out->nr_polls].future, RT_TOKIO_NAME_MAX, "future #%zu",
			 out->nr_polls + 1);
	out->nr_polls++;
	return 0;
}

/* Looks at one symbol of the file. */
static int take_symbol(Elf *elf, const GElf_Sym *sym, const char *name, struct rt_tokio_probes *out)
{
	char future[RT_TOKIO_NAME_MAX], *d;
	uint64_t offset;
	int err = 0;

	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value || !strstr(name, "tokio"))
		return 0;
	d = demangle(name);
	if (!d)
		return 0;
	if (!file_offset(elf, sym->st_value, &offset)) {
		if (rt_tokio__future_name(d, future, sizeof(future)))
			err = add_poll(out, offset, future);
		else if (!strcmp(d, "tokio::runtime::task::waker::wake_by_val"))
			out->wake_by_val = offset;
		else if (!strcmp(d, "tokio::runtime::task::waker::wake_by_ref"))
			out->wake_by_ref = offset;
		else if (!strcmp(d, "<tokio::runtime::time::wheel::Wheel>::poll") ||
			 !strcmp(d, "tokio::runtime::time::wheel::Wheel::poll"))
			out->wheel_poll = offset;
	}
	free(d);
	return err;
}

static int elf_probes(int fd, struct rt_tokio_probes *out)
{
	Elf_Scn *scn = NULL;
	Elf *elf;
	int err = 0;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return -ENOEXEC;
	}
	while (!err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; !err && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (gelf_getsym(data, (int)i, &sym) &&
			    (name = elf_strptr(elf, sh.sh_link, sym.st_name)))
				err = take_symbol(elf, &sym, name, out);
		}
	}
	elf_end(elf);
	return err;
}

static bool any_image(const uint64_t *values)
{
	return true;
}

static int take_image(void *ctx, const struct rt_process_image *img)
{
	struct rt_tokio_probes *out = ctx;
	struct stat st;
	int fd = rt_safefile__open_proc_link(img->file, 0, &st);

	if (fd < 0)
		return 1;
	rt_tokio_probes__exit(out);
	if (elf_probes(fd, out))
		rt_tokio_probes__exit(out);
	close(fd);
	if (!out->nr_polls)
		return 1;
	snprintf(out->path, sizeof(out->path), "%s", img->file);
	return 0;
}

int rt_tokio__find_probes(pid_t pid, struct rt_tokio_probes *out)
{
	/* the executable only: a name no library's base name contains */
	struct rt_process_image_opts opts = {
		.lib_name = "/", .has_symbols = any_image, .take = take_image, .ctx = out,
	};

	memset(out, 0, sizeof(*out));
	return rt_process__find_image(pid, &opts);
}
