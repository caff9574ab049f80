/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/process.h"
#include "perfglue/safefile.h"
#include "runtimes/python/asyncio.h"

/* PyTypeObject on x86_64 (every CPython 3): tp_name after the var header,
 * tp_call after twelve more pointers. */
#define TYPE_TP_NAME 24
#define TYPE_TP_CALL 128
/* Py_tp_call in a PyType_Slot (typeslots.h) */
#define SLOT_TP_CALL 50

int rt_asyncio__layout(int major, int minor, struct rt_asyncio_layout *out)
{
	/* Read from DWARF (gdb ptype /o TaskObj, PyCoroObject) of the 3.11.7,
	 * 3.12.1 and 3.13.0 builds, and checked on Debian's 3.11.2 with
	 * ctypes (tests/e2e/async_asyncio.sh runs both).  TimerHandle's
	 * _when is a __slots__ member: the slots are laid out sorted after
	 * Handle's, and 3.12 dropped Handle's __weakref__ slot. */
	memset(out, 0, sizeof(*out));
	if (major != 3 || minor < 11 || minor > 13)
		return -ENOTSUP;
	out->bpf.step_wrapper_task = 16;
	out->bpf.handle_args = 16;
	out->bpf.tuple_item0 = 24;
	out->bpf.var_size = 16;
	out->bpf.future_callback0 = 24;
	out->bpf.cfunction_self = 24;
	out->bpf.type_name = TYPE_TP_NAME;
	out->bpf.float_value = 16;
	out->bpf.timer_when = minor == 11 ? 88 : 80;
	out->bpf.task_coro = minor == 13 ? 120 : 136;
	out->bpf.task_name = minor == 13 ? 128 : 144;
	out->bpf.task_state = minor == 13 ? 96 : 88;
	out->bpf.coro_qualname = minor == 11 ? 40 : 32;
	out->bpf.long_digit = 24; /* after ob_size (3.11) or lv_tag (3.12+) */
	return 0;
}

/* An ELF file opened for the table search. */
struct elf_image {
	Elf *elf;
	GElf_Rela *relative; /* R_X86_64_RELATIVE relocations */
	size_t nr_relative;
};

static int elf_image_open(struct elf_image *im, int fd)
{
	Elf_Scn *scn = NULL;

	memset(im, 0, sizeof(*im));
	elf_version(EV_CURRENT);
	im->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!im->elf || elf_kind(im->elf) != ELF_K_ELF)
		return -ENOEXEC;
	while ((scn = elf_nextscn(im->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;
			GElf_Rela *grown;

			if (!gelf_getrela(data, (int)i, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
				continue;
			if (!(im->nr_relative & 1023)) {
				grown = realloc(im->relative, (im->nr_relative + 1024) * sizeof(*grown));
				if (!grown)
					return -ENOMEM;
				im->relative = grown;
			}
			im->relative[im->nr_relative++] = r;
		}
	}
	return 0;
}

static void elf_image_close(struct elf_image *im)
{
	free(im->relative);
	if (im->elf)
		elf_end(im->elf);
}

/* The section holding @vaddr, with its header. */
static Elf_Scn *section_at(struct elf_image *im, uint64_t vaddr, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(im->elf, scn))) {
		if (gelf_getshdr(scn, sh) && (sh->sh_flags & SHF_ALLOC) && sh->sh_addr <= vaddr &&
		    vaddr < sh->sh_addr + sh->sh_size)
			return scn;
	}
	return NULL;
}

static bool is_code(struct elf_image *im, uint64_t vaddr)
{
	GElf_Shdr sh;

	return vaddr && section_at(im, vaddr, &sh) && (sh.sh_flags & SHF_EXECINSTR);
}

/* Copies @len bytes of the file's data at @vaddr; false when not there. */
static bool data_at(struct elf_image *im, uint64_t vaddr, void *buf, size_t len)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_at(im, vaddr, &sh);
	Elf_Data *data;

	if (!scn || sh.sh_type != SHT_PROGBITS || vaddr + len > sh.sh_addr + sh.sh_size)
		return false;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || vaddr - sh.sh_addr + len > data->d_size)
		return false;
	memcpy(buf, (const char *)data->d_buf + (vaddr - sh.sh_addr), len);
	return true;
}

/* The pointer stored at @vaddr once loaded: a relocation's addend (PIC) or
 * the word in the file (a fixed-address executable).  0 when none. */
static uint64_t pointer_at(struct elf_image *im, uint64_t vaddr)
{
	uint64_t v = 0;

	for (size_t i = 0; i < im->nr_relative; i++)
		if (im->relative[i].r_offset == vaddr)
			return (uint64_t)im->relative[i].r_addend;
	return data_at(im, vaddr, &v, sizeof(v)) ? v : 0;
}

/* Calls @fn for each place that holds a pointer to @target; stops when it
 * returns nonzero and returns that. */
static uint64_t pointers_to(struct elf_image *im, uint64_t target,
			    uint64_t (*fn)(struct elf_image *im, uint64_t where))
{
	Elf_Scn *scn = NULL;
	uint64_t r;

	for (size_t i = 0; i < im->nr_relative; i++)
		if ((uint64_t)im->relative[i].r_addend == target &&
		    (r = fn(im, im->relative[i].r_offset)))
			return r;
	while ((scn = elf_nextscn(im->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    (sh.sh_flags & (SHF_ALLOC | SHF_WRITE)) != (SHF_ALLOC | SHF_WRITE))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		for (size_t off = (8 - sh.sh_addr % 8) % 8; off + 8 <= data->d_size; off += 8) {
			uint64_t v;

			memcpy(&v, (const char *)data->d_buf + off, 8);
			if (v == target && (r = fn(im, sh.sh_addr + off)))
				return r;
		}
	}
	return 0;
}

/* Calls @fn for the places pointing at each copy of the string @s (with its
 * NUL) in read-only data, and at the longer strings ending with it (a
 * qualified name "module.s", or a string the linker merged it into). */
static uint64_t find_via_string(struct elf_image *im, const char *s,
				uint64_t (*fn)(struct elf_image *im, uint64_t where))
{
	size_t len = strlen(s) + 1;
	Elf_Scn *scn = NULL;
	uint64_t r;

	while ((scn = elf_nextscn(im->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *base, *p, *end, *start;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    (sh.sh_flags & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR)) != SHF_ALLOC)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		base = p = data->d_buf;
		end = p + data->d_size;
		while (p < end && (p = memmem(p, (size_t)(end - p), s, len))) {
			if ((r = pointers_to(im, sh.sh_addr + (uint64_t)(p - base), fn)))
				return r;
			for (start = p; start > base && start[-1] && p - start < 256; start--)
				;
			if (start != p && (r = pointers_to(im, sh.sh_addr + (uint64_t)(start - base), fn)))
				return r;
			p++;
		}
	}
	return 0;
}

/* @where names a type: its tp_call.  Up to 3.11 @where is a static
 * PyTypeObject's tp_name, followed (after the sizes) by tp_dealloc, code;
 * from 3.12 it is a PyType_Spec's name, followed by the sizes, the flags
 * and its slots, data: {int slot; void *pfunc} pairs ending with slot 0. */
static uint64_t type_call(struct elf_image *im, uint64_t where)
{
	uint64_t next = pointer_at(im, where + 24), f = 0;

	if (is_code(im, next)) {
		f = pointer_at(im, where - TYPE_TP_NAME + TYPE_TP_CALL);
		return is_code(im, f) ? f : 0;
	}
	for (uint64_t slot = next; slot && slot - next < 64 * 16; slot += 16) {
		int32_t id;

		if (!data_at(im, slot, &id, sizeof(id)) || !id)
			return 0;
		if (id == SLOT_TP_CALL) {
			f = pointer_at(im, slot + 8);
			return is_code(im, f) ? f : 0;
		}
	}
	return 0;
}

/* @where is a PyMethodDef's ml_name: its ml_meth. */
static uint64_t method_function(struct elf_image *im, uint64_t where)
{
	uint64_t f = pointer_at(im, where + 8);

	return is_code(im, f) ? f : 0;
}

static void symbols(struct elf_image *im, struct rt_asyncio_functions *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(im->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value || !(name = elf_strptr(im->elf, sh.sh_link, sym.st_name)))
				continue;
			if (!strcmp(name, "TaskStepMethWrapper_call"))
				out->step_wrapper = sym.st_value;
			else if (!strcmp(name, "task_wakeup"))
				out->task_wakeup = sym.st_value;
			else if (!strcmp(name, "_heapq_heappop"))
				out->heappop = sym.st_value;
		}
	}
}

int rt_asyncio__elf_functions(int fd, int tables_only, struct rt_asyncio_functions *out)
{
	struct elf_image im;
	int err = elf_image_open(&im, fd);

	memset(out, 0, sizeof(*out));
	if (!err) {
		if (!tables_only)
			symbols(&im, out);
		out->by_symbol = out->step_wrapper && out->task_wakeup;
		if (!out->by_symbol) {
			out->step_wrapper = find_via_string(&im, "TaskStepMethWrapper", type_call);
			out->task_wakeup = find_via_string(&im, "task_wakeup", method_function);
		}
		if (!out->heappop)
			out->heappop = find_via_string(&im, "heappop", method_function);
	}
	elf_image_close(&im);
	return err;
}

/* File offset of @vaddr in the ELF file @fd: where a uprobe goes. */
static int file_offset(int fd, uint64_t vaddr, uint64_t *offset)
{
	size_t n;
	Elf *elf;
	int err = -ENOENT;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	if (!elf_getphdrnum(elf, &n)) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    (ph.p_flags & PF_X) && ph.p_vaddr <= vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
				*offset = vaddr - ph.p_vaddr + ph.p_offset;
				err = 0;
				break;
			}
		}
	}
	elf_end(elf);
	return err;
}

struct probe_search {
	const char *module; /* base name prefix of the module's file */
	struct rt_asyncio_probes *out;
	bool asyncio;       /* looking for _asyncio's functions, else heappop */
};

static void set_probe(struct rt_asyncio_probe *p, const char *file, int fd, uint64_t vaddr,
		      int by_symbol)
{
	if (!vaddr || file_offset(fd, vaddr, &p->offset))
		return;
	snprintf(p->path, sizeof(p->path), "%s", file);
	p->by_symbol = by_symbol;
}

/* rt_process__find_image's take: looks into the module's file (or, for
 * heappop, the executable that may have _heapq built in). */
static int take_module(void *ctx, const struct rt_process_image *img)
{
	struct probe_search *ps = ctx;
	const char *base = strrchr(img->path, '/');
	struct rt_asyncio_functions fns;
	struct stat st;
	int fd;

	base = base ? base + 1 : img->path;
	if (strncmp(base, ps->module, strlen(ps->module)) && (ps->asyncio || strcmp(img->path, img->exe)))
		return 1;
	fd = rt_safefile__open_proc_link(img->file, 0, &st);
	if (fd < 0)
		return 1;
	if (!rt_asyncio__elf_functions(fd, 0, &fns)) {
		if (ps->asyncio && fns.step_wrapper && fns.task_wakeup) {
			set_probe(&ps->out->step_wrapper, img->file, fd, fns.step_wrapper, fns.by_symbol);
			set_probe(&ps->out->task_wakeup, img->file, fd, fns.task_wakeup, fns.by_symbol);
		} else if (!ps->asyncio && fns.heappop) {
			set_probe(&ps->out->heappop, img->file, fd, fns.heappop, fns.by_symbol);
		}
	}
	close(fd);
	if (ps->asyncio)
		return ps->out->step_wrapper.offset && ps->out->task_wakeup.offset ? 0 : 1;
	return ps->out->heappop.offset ? 0 : 1;
}

static bool any_image(const uint64_t *values)
{
	return true;
}

int rt_asyncio__find_probes(pid_t pid, struct rt_asyncio_probes *out)
{
	struct probe_search ps = { .module = "_asyncio", .out = out, .asyncio = true };
	struct rt_process_image_opts opts = {
		.lib_name = "_asyncio", .has_symbols = any_image, .take = take_module, .ctx = &ps,
	};
	int err;

	memset(out, 0, sizeof(*out));
	err = rt_process__find_image(pid, &opts);
	if (err)
		return err;
	ps.module = "_heapq";
	ps.asyncio = false;
	opts.lib_name = "_heapq";
	rt_process__find_image(pid, &opts);
	return 0;
}

/* Appends code point @c as UTF-8; returns the new length. */
static size_t put_utf8(char *buf, size_t at, size_t size, uint32_t c)
{
	char tmp[4];
	size_t n;

	if (c < 0x80) {
		tmp[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		tmp[0] = (char)(0xc0 | c >> 6);
		tmp[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		tmp[0] = (char)(0xe0 | c >> 12);
		tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | c >> 18);
		tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	if (at + n >= size)
		return at;
	memcpy(buf + at, tmp, n);
	return at + n;
}

/* The raw characters of str @obj, as the walker's records carry them. */
static int read_rec_string(pid_t pid, const struct rt_walker_offsets *off, uint64_t obj,
			   struct rt_rec_string *s)
{
	uint32_t state = 0, kind;
	int64_t length = 0;
	uint64_t data, n;
	int err;

	memset(s, 0, sizeof(*s));
	if (!obj || off->unicode_length == RT_WALKER_NONE)
		return -EINVAL;
	err = rt_process__read(pid, obj + off->unicode_state, &state, sizeof(state));
	if (!err)
		err = rt_process__read(pid, obj + off->unicode_length, &length, sizeof(length));
	if (err)
		return err;
	kind = (state >> 2) & 7;
	if (!((state >> 5) & 1) || (kind != 1 && kind != 2 && kind != 4) || length < 0 ||
	    length > (1 << 24))
		return -EINVAL;
	data = obj + (((state >> 6) & 1) ? off->unicode_ascii_data : off->unicode_compact_data);
	n = (uint64_t)length * kind;
	if (n > RT_REC_STR_MAX)
		n = RT_REC_STR_MAX;
	if (n && (err = rt_process__read(pid, data, s->data, n)))
		return err;
	s->length = (uint32_t)length;
	s->kind = kind;
	s->nbytes = (uint32_t)n;
	s->ascii = (state >> 6) & 1;
	return 0;
}

int rt_asyncio__read_str(pid_t pid, const struct rt_walker_offsets *off, uint64_t obj, char *buf,
			 size_t size)
{
	struct rt_rec_string s;
	size_t at = 0;
	int err;

	if (!size)
		return -EINVAL;
	buf[0] = '\0';
	err = read_rec_string(pid, off, obj, &s);
	if (err)
		return err;
	for (uint32_t i = 0; i + s.kind <= s.nbytes; i += s.kind) {
		uint32_t c = 0;

		memcpy(&c, s.data + i, s.kind); /* little-endian: the low bytes */
		at = put_utf8(buf, at, size, c);
	}
	buf[at] = '\0';
	return (int)at;
}

/* The name of type of @obj into @buf. */
static int type_name(pid_t pid, uint64_t obj, char *buf, size_t size)
{
	uint64_t type = 0, name = 0;
	int err = rt_process__read(pid, obj + 8, &type, sizeof(type));

	if (!err)
		err = rt_process__read(pid, type + TYPE_TP_NAME, &name, sizeof(name));
	if (!err)
		err = rt_process__read(pid, name, buf, size - 1);
	buf[size - 1] = '\0';
	return err;
}

int rt_asyncio__task_name(pid_t pid, const struct rt_walker_offsets *off,
			  const struct rt_asyncio_layout *layout, uint64_t task, char *buf,
			  size_t size)
{
	uint64_t name = 0, coro = 0, qualname = 0;
	char tname[32], label[128] = "", fn[128] = "";
	int err;

	err = rt_process__read(pid, task + layout->bpf.task_name, &name, sizeof(name));
	if (!err)
		err = rt_process__read(pid, task + layout->bpf.task_coro, &coro, sizeof(coro));
	if (err)
		return err;
	if (name && !type_name(pid, name, tname, sizeof(tname))) {
		if (!strcmp(tname, "str")) {
			rt_asyncio__read_str(pid, off, name, label, sizeof(label));
		} else if (!strcmp(tname, "int")) {
			/* 3.12+ keeps the counter and formats "Task-N" when asked */
			uint32_t digit = 0;

			if (!rt_process__read(pid, name + layout->bpf.long_digit, &digit, sizeof(digit)))
				snprintf(label, sizeof(label), "Task-%u", digit & 0x3fffffff);
		}
	}
	if (coro && !type_name(pid, coro, tname, sizeof(tname)) && !strcmp(tname, "coroutine") &&
	    !rt_process__read(pid, coro + layout->bpf.coro_qualname, &qualname, sizeof(qualname)))
		rt_asyncio__read_str(pid, off, qualname, fn, sizeof(fn));
	/* neither a name nor a coroutine: not a live task's memory (a task
	 * freed before its name was asked, at a program's end) */
	if (!label[0] && !fn[0])
		return -ENOENT;
	snprintf(buf, size, "%s%s%s", label[0] ? label : "Task", fn[0] ? " " : "", fn);
	return 0;
}

int rt_asyncio__code_record(pid_t pid, const struct rt_walker_offsets *off, uint32_t version,
			    uint64_t code, struct rt_rec_code *rec)
{
	uint64_t name = 0, qualname = 0, filename = 0, linetable = 0;
	int32_t firstlineno = 0, firsttraceable = 0;
	int64_t lt_size = 0;
	int err;

	memset(rec, 0, sizeof(*rec));
	err = rt_process__read(pid, code + off->code_firstlineno, &firstlineno, sizeof(firstlineno));
	if (!err)
		err = rt_process__read(pid, code + off->code_name, &name, sizeof(name));
	if (!err)
		err = rt_process__read(pid, code + off->code_filename, &filename, sizeof(filename));
	if (err)
		return err;
	if (off->code_qualname != RT_WALKER_NONE)
		rt_process__read(pid, code + off->code_qualname, &qualname, sizeof(qualname));
	if (off->code_firsttraceable != RT_WALKER_NONE)
		rt_process__read(pid, code + off->code_firsttraceable, &firsttraceable,
				 sizeof(firsttraceable));
	rt_process__read(pid, code + off->code_linetable, &linetable, sizeof(linetable));
	rec->hdr.magic = RT_REC_MAGIC;
	rec->hdr.version = RT_REC_VERSION;
	rec->hdr.type = RT_REC_CODE;
	rec->hdr.size = sizeof(*rec);
	rec->pid = (uint32_t)pid;
	rec->code = code;
	rec->runtime = RT_REC_RUNTIME_CPYTHON;
	rec->version = version;
	rec->firstlineno = (uint32_t)firstlineno;
	rec->firsttraceable = firsttraceable > 0 ? (uint32_t)firsttraceable : 0;
	rec->tag = rt_rec_code_tag(code, (uint32_t)firstlineno, name, filename);
	read_rec_string(pid, off, name, &rec->name);
	read_rec_string(pid, off, qualname, &rec->qualname);
	read_rec_string(pid, off, filename, &rec->filename);
	if (linetable && !rt_process__read(pid, linetable + off->bytes_size, &lt_size, sizeof(lt_size)) &&
	    lt_size > 0 && lt_size < (1 << 24)) {
		size_t n = lt_size > RT_REC_LINETABLE_MAX ? RT_REC_LINETABLE_MAX : (size_t)lt_size;

		if (!rt_process__read(pid, linetable + off->bytes_data, rec->linetable, n)) {
			rec->linetable_length = (uint32_t)lt_size;
			rec->linetable_nbytes = (uint32_t)n;
		}
	}
	return 0;
}
