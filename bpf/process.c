/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bpf/process.h"
#include "perfglue/safefile.h"

int rt_process__read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Fills @values from .symtab and .dynsym (a stripped library keeps only the
 * latter; a later definition wins) and @first_load_vaddr from the PT_LOAD
 * segment at file offset 0, which gives the load bias. */
static int elf_find_symbols(int fd, const struct stat *st, const struct rt_process_symbol *syms,
			    size_t nr_syms, uint64_t *values, uint64_t *first_load_vaddr)
{
	Elf_Scn *scn = NULL;
	size_t nphdr;
	bool have_load = false;
	Elf *elf;

	memset(values, 0, nr_syms * sizeof(*values));
	*first_load_vaddr = 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, rt_safefile__owner_trusted(st) ? ELF_C_READ_MMAP : ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	if (!elf_getphdrnum(elf, &nphdr)) {
		for (size_t i = 0; i < nphdr; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
				*first_load_vaddr = ph.p_vaddr;
				have_load = true;
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
			if (!name)
				continue;
			for (size_t k = 0; k < nr_syms; k++) {
				if (name[0] != syms[k].name[0] || strcmp(name, syms[k].name) ||
				    (syms[k].type >= 0 && GELF_ST_TYPE(sym.st_info) != syms[k].type))
					continue;
				values[k] = sym.st_value;
				break;
			}
		}
	}
out:
	if (elf)
		elf_end(elf);
	return have_load ? 0 : -ENOENT;
}

/*
 * Looks up the file @pid maps at [@start, @end), named @path in its maps;
 * 0 when it is a candidate.  The file is reached through map_files, or
 * failing that resolved inside the process's root: never by @path on the
 * host, where a container could have planted a FIFO or anything else.
 */
static int image_symbols(pid_t pid, unsigned long start, unsigned long end, const char *path,
			 const struct rt_process_image_opts *opts, uint64_t *values,
			 uint64_t *first_load_vaddr)
{
	struct stat st;
	int fd = rt_safefile__open_mapped(pid, start, end, 0, &st), err;

	if (fd < 0 && fd != -ESRCH && fd != -EINVAL && fd != -ELOOP)
		fd = rt_safefile__open_in_root(pid, path, 0, &st);
	if (fd < 0)
		return fd;
	err = elf_find_symbols(fd, &st, opts->syms, opts->nr_syms, values, first_load_vaddr);
	close(fd);
	if (err)
		return err;
	return opts->has_symbols(values) ? 0 : -ENOENT;
}

/* Parses a /proc/PID/maps line; the path is the rest of the line (it may
 * hold spaces), without its newline.  False for lines without a path. */
static bool parse_maps_line(char *line, unsigned long *start, unsigned long *end,
			    unsigned long *offset, char **path)
{
	int at = -1;
	size_t len;

	if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", start, end, offset, &at) != 3 || at < 0)
		return false;
	*path = line + at;
	len = strlen(*path);
	if (len && (*path)[len - 1] == '\n')
		(*path)[--len] = '\0';
	return len > 0;
}

int rt_process__find_image(pid_t pid, const struct rt_process_image_opts *opts)
{
	char maps_path[64], line[PATH_MAX + 128], exe_link[64], exe[PATH_MAX];
	uint64_t values[RT_PROCESS_SYMBOLS_MAX];
	FILE *maps;
	ssize_t n;
	int err = -ENOENT;

	if (opts->nr_syms > RT_PROCESS_SYMBOLS_MAX)
		return -EINVAL;
	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	n = readlink(exe_link, exe, sizeof(exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	exe[n] = '\0';
	snprintf(maps_path, sizeof(maps_path), "/proc/%d/maps", pid);
	maps = fopen(maps_path, "re");
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	/* The runtime is in the executable (static build) or in a mapped
	 * library; the first mapping at file offset 0 gives the load bias. */
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end, offset;
		char *path, file[PATH_MAX + 64];
		struct rt_process_image image;
		uint64_t first_load_vaddr;
		const char *base;

		if (!parse_maps_line(line, &start, &end, &offset, &path) || offset != 0 ||
		    path[0] != '/')
			continue;
		base = strrchr(path, '/') + 1;
		if (strcmp(path, exe) && !strstr(base, opts->lib_name))
			continue;
		/* map_files reaches the mapped file even across mount namespaces */
		snprintf(file, sizeof(file), "/proc/%d/map_files/%lx-%lx", pid, start, end);
		if (image_symbols(pid, start, end, path, opts, values, &first_load_vaddr))
			continue;
		image = (struct rt_process_image){
			.pid = pid,
			.exe = exe,
			.path = path,
			.file = file,
			.bias = start - (first_load_vaddr & ~0xfffull),
			.values = values,
		};
		if (!opts->take(opts->ctx, &image)) {
			err = 0;
			break;
		}
	}
	fclose(maps);
	return err;
}

/* One process image the tracker has looked at. */
struct tracked {
	struct rt_tracked_process proc;
	unsigned long long start_time; /* /proc/PID/stat field 22: tells reused pids apart */
	char exe[PATH_MAX];
	bool alive;                    /* seen in the current scan */
};

struct rt_process_tracker {
	enum rt_process_scope scope;
	pid_t *roots;
	size_t nr_roots;
	struct rt_process_tracker_ops ops;
	struct tracked *procs;
	size_t nr_procs, cap_procs;
};

struct rt_process_tracker *rt_process_tracker__new(enum rt_process_scope scope, const pid_t *pids,
						   size_t nr_pids,
						   const struct rt_process_tracker_ops *ops)
{
	struct rt_process_tracker *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->scope = scope;
	tr->ops = *ops;
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

void rt_process_tracker__free(struct rt_process_tracker *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < tr->nr_procs; i++)
		free(tr->procs[i].proc.state);
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

static bool is_root(const struct rt_process_tracker *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nr_roots; i++)
		if (tr->roots[i] == pid)
			return true;
	return false;
}

static struct tracked *find_tracked(struct rt_process_tracker *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nr_procs; i++)
		if (tr->procs[i].proc.pid == pid)
			return &tr->procs[i];
	return NULL;
}

/* Forgets @t (reporting it gone when it was found); the last entry takes
 * its place. */
static void forget(struct rt_process_tracker *tr, struct tracked *t)
{
	if (t->proc.found)
		tr->ops.gone(tr->ops.ctx, t->proc.pid);
	free(t->proc.state);
	*t = tr->procs[--tr->nr_procs];
}

/* Starts tracking the new process image @pid; NULL when out of memory (it
 * is looked at again on the next scan). */
static struct tracked *track(struct rt_process_tracker *tr, pid_t pid, unsigned long long start,
			     const char *exe)
{
	const char *base = strrchr(exe, '/');
	struct tracked *t;

	if (tr->nr_procs == tr->cap_procs) {
		size_t ncap = tr->cap_procs ? tr->cap_procs * 2 : 64;
		struct tracked *np = realloc(tr->procs, ncap * sizeof(*np));

		if (!np)
			return NULL;
		tr->procs = np;
		tr->cap_procs = ncap;
	}
	t = &tr->procs[tr->nr_procs];
	memset(t, 0, sizeof(*t));
	if (tr->ops.state_size) {
		t->proc.state = calloc(1, tr->ops.state_size);
		if (!t->proc.state)
			return NULL;
	}
	tr->nr_procs++;
	t->proc.pid = pid;
	t->start_time = start;
	snprintf(t->exe, sizeof(t->exe), "%s", exe);
	t->proc.retries = base && strstr(base, tr->ops.exe_name) ? tr->ops.retries : 0;
	return t;
}

int rt_process_tracker__scan(struct rt_process_tracker *tr)
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

		in_scope = tr->scope == RT_PROCESS_ALL || is_root(tr, pid);
		if (!in_scope && tr->scope == RT_PROCESS_TREE) {
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
			forget(tr, t);
			t = NULL;
		}
		if (!t) {
			t = track(tr, pid, all[i].start, exe);
			if (!t)
				continue;
			tr->ops.check(tr->ops.ctx, &t->proc);
		} else if (t->proc.retries) {
			t->proc.retries--;
			tr->ops.check(tr->ops.ctx, &t->proc);
		}
		t->alive = true;
	}
	free(all);
	for (size_t i = 0; i < tr->nr_procs;) {
		if (!tr->procs[i].alive) {
			forget(tr, &tr->procs[i]);
			continue;
		}
		count += tr->procs[i].proc.found;
		i++;
	}
	return count;
}
