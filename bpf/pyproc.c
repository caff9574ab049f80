/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bpf/pyproc.h"
#include "bpf/record.h"
#include "layouts/pyversion.h"

int rt_pyproc__read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

struct elf_syms {
	uint64_t runtime, version; /* st_value of _PyRuntime and Py_Version; 0 if absent */
	uint64_t interp_head;      /* static interp_head (2.7, 3.6; .symtab only) */
	uint64_t code_type;        /* PyCode_Type */
	uint64_t first_load_vaddr;
	bool have_load;
};

/* Looks for _PyRuntime, Py_Version and PyCode_Type in .symtab and .dynsym
 * (Debian's stripped build keeps them in .dynsym), and interp_head, the
 * anchor of CPython before 3.7, in .symtab. */
static int elf_scan(const char *path, struct elf_syms *out)
{
	Elf_Scn *scn = NULL;
	size_t nphdr;
	Elf *elf;
	int fd, err = -ENOENT;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	if (!elf_getphdrnum(elf, &nphdr)) {
		for (size_t i = 0; i < nphdr; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
				out->first_load_vaddr = ph.p_vaddr;
				out->have_load = true;
				break;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || (name[0] != '_' && name[0] != 'P' && name[0] != 'i'))
				continue;
			if (!strcmp(name, "_PyRuntime"))
				out->runtime = sym.st_value;
			else if (!strcmp(name, "Py_Version"))
				out->version = sym.st_value;
			else if (!strcmp(name, "PyCode_Type"))
				out->code_type = sym.st_value;
			else if (!strcmp(name, "interp_head") && GELF_ST_TYPE(sym.st_info) == STT_OBJECT)
				out->interp_head = sym.st_value;
		}
	}
	if ((out->runtime || (out->interp_head && out->code_type)) && out->have_load)
		err = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* "libpython3.11.so.1.0" or "python3.11" -> 3, 11 */
static bool version_from_name(const char *path, int *major, int *minor)
{
	const char *base = strrchr(path, '/'), *p;

	base = base ? base + 1 : path;
	p = strstr(base, "python");
	return p && sscanf(p, "python%d.%d", major, minor) == 2;
}

int rt_pyproc__inspect(pid_t pid, struct rt_pyproc *out)
{
	char maps_path[64], line[PATH_MAX + 128], exe_link[64];
	FILE *maps;
	ssize_t n;
	int err = -ENOENT;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	n = readlink(exe_link, out->exe, sizeof(out->exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	out->exe[n] = '\0';
	snprintf(maps_path, sizeof(maps_path), "/proc/%d/maps", pid);
	maps = fopen(maps_path, "re");
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	/* _PyRuntime is in the executable (static build) or in a mapped
	 * libpython; the first mapping at file offset 0 gives the load bias. */
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end, offset;
		char path[PATH_MAX], file[PATH_MAX + 64];
		struct elf_syms syms;
		struct rt_pyversion v;
		const char *base;
		uint64_t bias, hex = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &start, &end, &offset, path) != 4 ||
		    offset != 0 || path[0] != '/')
			continue;
		base = strrchr(path, '/') + 1;
		if (strcmp(path, out->exe) && !strstr(base, "libpython"))
			continue;
		/* map_files reaches the mapped file even across mount namespaces */
		snprintf(file, sizeof(file), "/proc/%d/map_files/%lx-%lx", pid, start, end);
		if (elf_scan(file, &syms) && elf_scan(path, &syms))
			continue;
		bias = start - (syms.first_load_vaddr & ~0xfffull);
		out->runtime_addr = bias + (syms.runtime ? syms.runtime : syms.interp_head);
		out->anchor_interp_head = !syms.runtime;
		out->code_type = syms.code_type ? bias + syms.code_type : 0;
		snprintf(out->elf, sizeof(out->elf), "%s", path);
		out->patch = -1;
		/* The file says which version it is (Py_Version or the string
		 * Py_GetVersion formats); the running image's Py_Version and the
		 * file name are fallbacks. */
		if (!rt_pyversion__from_elf(file, &v) || !rt_pyversion__from_elf(path, &v)) {
			out->major = v.major;
			out->minor = v.minor;
			out->patch = v.patch;
		} else if (syms.version && !rt_pyproc__read(pid, bias + syms.version, &hex, sizeof(hex)) && hex) {
			out->major = (hex >> 24) & 0xff;
			out->minor = (hex >> 16) & 0xff;
			out->patch = (hex >> 8) & 0xff;
		} else if (!version_from_name(path, &out->major, &out->minor) &&
			   !version_from_name(out->exe, &out->major, &out->minor)) {
			continue;
		}
		err = 0;
		break;
	}
	fclose(maps);
	return err;
}

static bool frame_field_ok(uint32_t off, uint32_t size, uint32_t *read)
{
	if (off == RT_LAYOUT_NONE)
		return true;
	if (off + size > RT_WALKER_FRAME_READ)
		return false;
	if (off + size > *read)
		*read = off + size;
	return true;
}

int rt_pyproc__walker_config(const struct rt_pyproc *proc, const struct rt_layout *layout,
			     uint32_t generation, struct rt_walker_config *cfg)
{
	const struct rt_layout_cpython *c = &layout->cpython;
	bool new_frames = c->frame_instr_ptr != RT_LAYOUT_NONE;
	uint32_t read = 0;

	if (layout->runtime != RT_RUNTIME_CPYTHON ||
	    proc->anchor_interp_head != (c->anchor == RT_LAYOUT_ANCHOR_INTERP_HEAD))
		return -EINVAL;
	if ((new_frames && c->code_code_adaptive == RT_LAYOUT_NONE) ||
	    (!new_frames && c->frame_lasti == RT_LAYOUT_NONE) ||
	    (c->tstate_native_thread_id == RT_LAYOUT_NONE && c->tstate_thread_id == RT_LAYOUT_NONE) ||
	    (c->cframe_current_frame != RT_LAYOUT_NONE ? c->tstate_cframe : c->tstate_frame) == RT_LAYOUT_NONE ||
	    (c->unicode_length == RT_LAYOUT_NONE && proc->major >= 3))
		return -EINVAL;
	/* the walker reads each frame in one piece */
	if (!frame_field_ok(c->frame_code, 8, &read) || !frame_field_ok(c->frame_previous, 8, &read) ||
	    !frame_field_ok(c->frame_instr_ptr, 8, &read) ||
	    !frame_field_ok(new_frames ? RT_LAYOUT_NONE : c->frame_lasti, 4, &read) ||
	    !frame_field_ok(c->frame_is_entry, 1, &read) || !frame_field_ok(c->frame_owner, 1, &read))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->runtime_addr = proc->runtime_addr;
	cfg->runtime = RT_REC_RUNTIME_CPYTHON;
	cfg->version = (uint32_t)proc->major << 16 | (uint32_t)proc->minor << 8 |
		       (uint32_t)(proc->patch < 0 ? 0 : proc->patch);
	cfg->generation = generation;
	cfg->off = (struct rt_walker_offsets){
		.runtime_interpreters_head = c->runtime_interpreters_head,
		.interp_threads_head = c->interp_threads_head,
		.tstate_next = c->tstate_next,
		.tstate_id = c->tstate_native_thread_id != RT_LAYOUT_NONE ? c->tstate_native_thread_id :
									   c->tstate_thread_id,
		.tstate_id_pthread = c->tstate_native_thread_id == RT_LAYOUT_NONE,
		.tstate_frame = c->cframe_current_frame != RT_LAYOUT_NONE ? c->tstate_cframe : c->tstate_frame,
		.cframe_current_frame = c->cframe_current_frame,
		.frame_read = read,
		.frame_code = c->frame_code,
		.frame_previous = c->frame_previous,
		.frame_instr_ptr = c->frame_instr_ptr,
		.frame_lasti = new_frames ? RT_WALKER_NONE : c->frame_lasti,
		.frame_is_entry = c->frame_is_entry,
		.frame_owner = c->frame_owner,
		.frame_owner_generator = c->frame_owner_generator,
		.frame_owner_cstack = c->frame_owner_cstack,
		.code_firstlineno = c->code_firstlineno,
		.code_name = c->code_name,
		.code_qualname = c->code_qualname,
		.code_filename = c->code_filename,
		.code_linetable = c->code_linetable,
		.code_firsttraceable = c->code_firsttraceable,
		.code_code_adaptive = new_frames ? c->code_code_adaptive : 0,
		.code_unit_size = 2,
		.object_type = c->object_type,
		.unicode_length = c->unicode_length,
		.unicode_state = c->unicode_state,
		.unicode_ascii_data = c->unicode_ascii_data,
		.unicode_compact_data = c->unicode_compact_data,
		.bytes_size = c->bytes_size,
		.bytes_data = c->bytes_data,
		/* only where f_executable may be something else (3.13+) */
		.code_type = (c->frame_owner_cstack != RT_LAYOUT_NONE &&
			      c->cframe_current_frame == RT_LAYOUT_NONE) ? proc->code_type : 0,
	};
	return 0;
}

int rt_pyproc__check_layout(const struct rt_pyproc *proc, const struct rt_layout *layout,
			    char *msg, size_t msg_size)
{
	const struct rt_layout_cpython *c = &layout->cpython;
	const char *what = "";
	uint64_t theirs = 0;
	unsigned char buf[4096];
	int err;

	if (c->runtime_debug_offsets == RT_LAYOUT_NONE || c->debug_offsets_size == RT_LAYOUT_NONE ||
	    proc->anchor_interp_head)
		return 0;
	if (c->debug_offsets_size > sizeof(buf)) {
		snprintf(msg, msg_size, "its _Py_DebugOffsets is larger than expected");
		return -EINVAL;
	}
	err = rt_pyproc__read(proc->pid, proc->runtime_addr + c->runtime_debug_offsets, buf,
			      c->debug_offsets_size);
	if (err) {
		snprintf(msg, msg_size, "cannot read its _Py_DebugOffsets: %s", strerror(-err));
		return err;
	}
	if (memcmp(buf, "xdebugpy", 8)) {
		snprintf(msg, msg_size, "no _Py_DebugOffsets cookie at the start of _PyRuntime");
		return -EINVAL;
	}
	err = rt_layout__check_debug_offsets(layout, buf, c->debug_offsets_size, &what, &theirs);
	if (err) {
		uint32_t mine = RT_LAYOUT_NONE;

		for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++)
			if (!strcmp(rt_layout_cpython_fields[i].name, what))
				mine = rt_layout_cpython__get(c, &rt_layout_cpython_fields[i]);
		snprintf(msg, msg_size, "its _Py_DebugOffsets says %s is %llu, the layout table says %u: "
			 "a build with another struct layout (add its layout, docs/layouts.md)", what,
			 (unsigned long long)theirs, mine);
	}
	return err;
}

/* One process the tracker has looked at. */
struct tracked {
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22: tells reused pids apart */
	char exe[PATH_MAX];
	bool python;
	unsigned int retries;          /* looks left for a python-named exe not yet mapped */
	bool alive;                    /* seen in the current scan */
};

struct rt_pyproc_tracker {
	enum rt_pyproc_scope scope;
	pid_t *roots;
	size_t nr_roots;
	rt_pyproc_found_fn found;
	void *ctx;
	struct tracked *procs;
	size_t nr_procs, cap_procs;
	uint32_t generation;
};

struct rt_pyproc_tracker *rt_pyproc_tracker__new(enum rt_pyproc_scope scope, const pid_t *pids,
						 size_t nr_pids, rt_pyproc_found_fn found,
						 void *ctx)
{
	struct rt_pyproc_tracker *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->scope = scope;
	tr->found = found;
	tr->ctx = ctx;
	if (nr_pids) {
		tr->roots = calloc(nr_pids, sizeof(*pids));
		if (!tr->roots) {
			free(tr);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(tr->roots, pids, nr_pids * sizeof(*pids));
		tr->nr_roots = nr_pids;
	}
	return tr;
}

void rt_pyproc_tracker__free(struct rt_pyproc_tracker *tr)
{
	if (!tr)
		return;
	free(tr->roots);
	free(tr->procs);
	free(tr);
}

static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *start_time)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
	if (!p || sscanf(p + 2, "%*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			 ppid, start_time) != 2)
		return -EIO;
	return 0;
}

static bool is_root(const struct rt_pyproc_tracker *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nr_roots; i++)
		if (tr->roots[i] == pid)
			return true;
	return false;
}

static struct tracked *find_tracked(struct rt_pyproc_tracker *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nr_procs; i++)
		if (tr->procs[i].pid == pid)
			return &tr->procs[i];
	return NULL;
}

static void check(struct rt_pyproc_tracker *tr, struct tracked *t)
{
	struct rt_pyproc proc;

	if (rt_pyproc__inspect(t->pid, &proc)) {
		t->python = false;
		return;
	}
	t->python = true;
	t->retries = 0;
	tr->generation++;
	tr->found(tr->ctx, t->pid, &proc, tr->generation);
}

int rt_pyproc_tracker__scan(struct rt_pyproc_tracker *tr)
{
	struct { pid_t pid, ppid; unsigned long long start; } *all = NULL;
	size_t nr_all = 0, cap_all = 0;
	struct dirent *de;
	DIR *dir;
	int count = 0;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10), ppid;
		unsigned long long start;

		if (pid <= 0 || read_stat(pid, &ppid, &start))
			continue;
		if (nr_all == cap_all) {
			size_t ncap = cap_all ? cap_all * 2 : 512;
			void *n = realloc(all, ncap * sizeof(*all));

			if (!n) {
				closedir(dir);
				free(all);
				return -ENOMEM;
			}
			all = n;
			cap_all = ncap;
		}
		all[nr_all].pid = pid;
		all[nr_all].ppid = ppid;
		all[nr_all].start = start;
		nr_all++;
	}
	closedir(dir);

	for (size_t i = 0; i < tr->nr_procs; i++)
		tr->procs[i].alive = false;
	for (size_t i = 0; i < nr_all; i++) {
		pid_t pid = all[i].pid;
		char link[64], exe[PATH_MAX];
		struct tracked *t;
		bool in_scope;
		ssize_t n;

		in_scope = tr->scope == RT_PYPROC_ALL || is_root(tr, pid);
		if (!in_scope && tr->scope == RT_PYPROC_TREE) {
			/* walk up the parent chain (bounded: pid cycles cannot exist,
			 * but a racing reparent could make the walk long) */
			pid_t p = all[i].ppid;

			for (int depth = 0; depth < 64 && p > 1 && !in_scope; depth++) {
				size_t k;

				if (is_root(tr, p)) {
					in_scope = true;
					break;
				}
				for (k = 0; k < nr_all && all[k].pid != p; k++)
					;
				p = k < nr_all ? all[k].ppid : 0;
			}
		}
		if (!in_scope || pid == getpid())
			continue;
		snprintf(link, sizeof(link), "/proc/%d/exe", pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n < 0)
			continue; /* kernel thread or gone */
		exe[n] = '\0';
		t = find_tracked(tr, pid);
		if (t && (t->start_time != all[i].start || strcmp(t->exe, exe))) {
			/* pid reused or exec: forget the old process image */
			if (t->python)
				tr->found(tr->ctx, pid, NULL, 0);
			*t = tr->procs[--tr->nr_procs];
			t = NULL;
		}
		if (!t) {
			const char *base = strrchr(exe, '/');

			if (tr->nr_procs == tr->cap_procs) {
				size_t ncap = tr->cap_procs ? tr->cap_procs * 2 : 64;
				struct tracked *np = realloc(tr->procs, ncap * sizeof(*np));

				if (!np)
					continue;
				tr->procs = np;
				tr->cap_procs = ncap;
			}
			t = &tr->procs[tr->nr_procs++];
			memset(t, 0, sizeof(*t));
			t->pid = pid;
			t->start_time = all[i].start;
			snprintf(t->exe, sizeof(t->exe), "%s", exe);
			/* An executable named python* that does not show
			 * _PyRuntime yet may still be mapping its libpython. */
			t->retries = base && strstr(base, "python") ? 20 : 0;
			check(tr, t);
		} else if (!t->python && t->retries) {
			t->retries--;
			check(tr, t);
		}
		t->alive = true;
	}
	free(all);
	for (size_t i = 0; i < tr->nr_procs;) {
		if (!tr->procs[i].alive) {
			if (tr->procs[i].python)
				tr->found(tr->ctx, tr->procs[i].pid, NULL, 0);
			tr->procs[i] = tr->procs[--tr->nr_procs];
			continue;
		}
		count += tr->procs[i].python;
		i++;
	}
	return count;
}
