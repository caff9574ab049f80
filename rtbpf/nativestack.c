/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A live process's native stack from a BPF copy: unwound and named (see
 * nativestack.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfglue/grow.h"
#include "perfglue/safefile.h"
#include "rtbpf/nativestack.h"
#include "rtmerge/utf8.h"
#include "runtimes/process.h"
#include "symbolize/symbolize.h"
#include "unwind/unwind.h"

#define MAX_FRAMES 256
#define MAX_PATCHES 8

struct mapping {
	uint64_t start, end, pgoff;
	char *path;
	/* the mapped file's build id, read through /proc/PID/map_files (the
	 * file itself, also in another mount namespace) when first needed and
	 * kept while the mapping stays: the unwinder and the symbolizer take a
	 * file only when its id is this one */
	uint8_t build_id[20];
	int build_id_size;    /* 0: not read yet; < 0: none */
};

struct rt_native_stack {
	pid_t pid;
	struct rt_unwinder *unwinder;
	struct rt_symbolizer *symbolizer;
	struct mapping *maps; /* sorted by start (the kernel lists them so) */
	size_t nr_maps, cap_maps;
	struct mapping *old;  /* the previous reading's, for their build ids */
	size_t nr_old, cap_old;
	uint64_t uprobes_start, uprobes_end; /* the kernel's uretprobe trampoline page */
	/* the process has this program's root: a file without a build id is
	 * still the one at its path; in another root it is not looked at */
	bool own_root;
	char link[64];        /* the map_files link of the last mapping looked up */
	struct rt_unwind_frame frames[MAX_FRAMES];
};

/* Whether process @pid's root directory is this program's. */
static bool same_root(pid_t pid)
{
	struct stat theirs, ours;
	char root[64];

	snprintf(root, sizeof(root), "/proc/%d/root/", (int)pid);
	return !stat(root, &theirs) && !stat("/", &ours) && theirs.st_dev == ours.st_dev &&
	       theirs.st_ino == ours.st_ino;
}

struct rt_native_stack *rt_native_stack__new(pid_t pid)
{
	struct rt_native_stack *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	ns->pid = pid;
	ns->own_root = same_root(pid);
	/* each file read through its map_files link: the process's own */
	ns->unwinder = rt_unwinder__new(NULL);
	ns->symbolizer = rt_symbolizer__new(NULL);
	if (!ns->unwinder || !ns->symbolizer) {
		rt_native_stack__free(ns);
		errno = ENOMEM;
		return NULL;
	}
	return ns;
}

static void clear_maps(struct mapping *maps, size_t *nr)
{
	for (size_t i = 0; i < *nr; i++)
		free(maps[i].path);
	*nr = 0;
}

void rt_native_stack__free(struct rt_native_stack *ns)
{
	if (!ns)
		return;
	clear_maps(ns->maps, &ns->nr_maps);
	clear_maps(ns->old, &ns->nr_old);
	free(ns->maps);
	free(ns->old);
	rt_unwinder__free(ns->unwinder);
	rt_symbolizer__free(ns->symbolizer);
	free(ns);
}

/* The build id of the previous reading's same mapping, if it had read one. */
static void keep_build_id(struct rt_native_stack *ns, struct mapping *m)
{
	for (size_t i = 0; i < ns->nr_old; i++) {
		const struct mapping *o = &ns->old[i];

		if (o->start == m->start && o->end == m->end && o->pgoff == m->pgoff &&
		    !strcmp(o->path, m->path)) {
			memcpy(m->build_id, o->build_id, sizeof(m->build_id));
			m->build_id_size = o->build_id_size;
			return;
		}
	}
}

/* The process's file mappings (and its vDSO) as they are now, and where
 * the kernel's uretprobe trampoline is. */
static int read_maps(struct rt_native_stack *ns)
{
	char path[64], line[PATH_MAX + 128];
	struct mapping *swap = ns->old;
	size_t cap = ns->cap_old;
	FILE *f;

	clear_maps(ns->old, &ns->nr_old);
	ns->old = ns->maps;
	ns->nr_old = ns->nr_maps;
	ns->cap_old = ns->cap_maps;
	ns->maps = swap;
	ns->cap_maps = cap;
	ns->nr_maps = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)ns->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, pgoff;
		struct mapping *m;
		char *file;

		if (!rt_process__parse_maps_line(line, &start, &end, &pgoff, &file))
			continue;
		if (!strcmp(file, "[uprobes]")) {
			ns->uprobes_start = start;
			ns->uprobes_end = end;
		}
		if (file[0] != '/' && strcmp(file, "[vdso]"))
			continue;
		if (RT_ARRAY_GROW(ns->maps, ns->cap_maps, ns->nr_maps + 1, 64))
			break;
		m = &ns->maps[ns->nr_maps];
		*m = (struct mapping){ .start = start, .end = end, .pgoff = pgoff, .path = strdup(file) };
		if (!m->path)
			continue;
		keep_build_id(ns, m);
		ns->nr_maps++;
	}
	fclose(f);
	return 0;
}

static const struct mapping *map_of(const struct rt_native_stack *ns, uint64_t addr)
{
	size_t lo = 0, hi = ns->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < ns->maps[mid].start)
			hi = mid;
		else if (addr >= ns->maps[mid].end)
			lo = mid + 1;
		else
			return &ns->maps[mid];
	}
	return NULL;
}

/* @m's build id (read once), NULL when it has none or cannot be read. */
static const uint8_t *map_build_id(const struct rt_native_stack *ns, struct mapping *m,
				   size_t *size)
{
	if (!m->build_id_size && m->path[0] == '/') {
		int fd = rt_safefile__open_mapped(ns->pid, m->start, m->end, 0, NULL);

		m->build_id_size = fd < 0 ? -1 : rt_elf__build_id_fd(fd, m->build_id,
								       sizeof(m->build_id));
		if (m->build_id_size == 0)
			m->build_id_size = -1;
		if (fd >= 0)
			close(fd);
	}
	*size = m->build_id_size > 0 ? (size_t)m->build_id_size : 0;
	return *size ? m->build_id : NULL;
}

static int find_map(void *ctx, uint64_t addr, struct rt_unwind_map *out)
{
	struct rt_native_stack *ns = ctx;
	struct mapping *m = (struct mapping *)map_of(ns, addr);

	if (!m)
		return -ENOENT;
	*out = (struct rt_unwind_map){ .path = m->path, .start = m->start, .end = m->end,
				       .pgoff = m->pgoff };
	out->build_id = map_build_id(ns, m, &out->build_id_size);
	/* the mapped file itself, whatever its path means from here */
	if (m->path[0] == '/') {
		snprintf(ns->link, sizeof(ns->link), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
			 (int)ns->pid, m->start, m->end);
		out->link = ns->link;
	}
	return 0;
}

/* A name from the target's files as printable UTF-8 (a new string, @s
 * freed): bytes that are not UTF-8 become U+FFFD, control characters
 * (C0, DEL, C1) '?'. */
static char *printable(char *s)
{
	size_t len = strlen(s), k = 0;
	char *u = malloc(3 * len + 1);

	if (!u) {
		free(s);
		return NULL;
	}
	rt_utf8__repair(s, len, u);
	free(s);
	for (size_t i = 0; u[i]; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c == 0xc2 && (unsigned char)u[i + 1] >= 0x80 && (unsigned char)u[i + 1] <= 0x9f) {
			u[k++] = '?';
			i++;
		} else {
			u[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	u[k] = '\0';
	return u;
}

/* The name of the code at @ip (a caller's return address already moved
 * back into its call). */
static char *frame_name(struct rt_native_stack *ns, uint64_t ip)
{
	struct mapping *m = (struct mapping *)map_of(ns, ip);
	const uint8_t *id;
	const char *base;
	struct rt_symbol sym;
	size_t id_size;
	char *s = NULL;
	int n;

	if (!m)
		n = asprintf(&s, "[unknown] 0x%" PRIx64, ip);
	else {
		base = strrchr(m->path, '/');
		base = base ? base + 1 : m->path;
		id = map_build_id(ns, m, &id_size);
		sym.status = RT_SYMBOL_NO_FILE;
		/* a file in another root is named only when identified */
		if (id || ns->own_root || m->path[0] != '/')
			rt_symbolizer__resolve_in_process(ns->symbolizer, ns->pid, m->path, id,
							  id_size, ip - m->start + m->pgoff, &sym);
		if (sym.status == RT_SYMBOL_OK)
			n = asprintf(&s, "%s (%s)", sym.name, base);
		else
			n = asprintf(&s, "[unknown] (%s+0x%" PRIx64 ")", base, ip - m->start + m->pgoff);
	}
	return n < 0 ? NULL : printable(s);
}

/* Whether @copy holds the uretprobe trampoline at @addr (a stale entry of
 * the kernel's list points at a word the thread has reused); when the
 * trampoline's page is not known, whether @addr is in the copy. */
static bool holds_trampoline(const struct rt_native_stack *ns,
			     const struct rt_native_stack_copy *copy, uint64_t addr)
{
	uint64_t sp = rt_perf_reg(copy->regs, copy->regs_mask, RT_PERF_REG_SP), word;

	if (!sp || addr < sp || copy->size < 8 || addr - sp > copy->size - 8)
		return false;
	if (!ns->uprobes_end)
		return true;
	memcpy(&word, copy->stack + (addr - sp), sizeof(word));
	return word >= ns->uprobes_start && word < ns->uprobes_end;
}

int rt_native_stack__frames(struct rt_native_stack *ns, const struct rt_native_stack_copy *copy,
			    char ***out, size_t *nr)
{
	struct rt_unwind_input in = {
		.regs = copy->regs,
		.regs_mask = copy->regs_mask,
		.stack = copy->stack,
		.stack_size = copy->size,
		.find_map = find_map,
		.ctx = ns,
	};
	struct rt_unwind_patch patches[MAX_PATCHES];
	enum rt_unwind_stop stop = RT_UNWIND_STOP_BAD;
	char **names;
	int n, err;

	*out = NULL;
	*nr = 0;
	err = read_maps(ns);
	if (err)
		return err;
	for (size_t i = 0; i < copy->nr_returns && in.nr_patches < MAX_PATCHES; i++)
		if (holds_trampoline(ns, copy, copy->ret_stack[i]))
			patches[in.nr_patches++] = (struct rt_unwind_patch){
				.addr = copy->ret_stack[i], .value = copy->ret_addr[i] };
	in.patches = patches;
	n = rt_unwinder__unwind(ns->unwinder, &in, ns->frames, MAX_FRAMES, &stop);
	if (n < 0)
		return n;
	names = calloc((size_t)n + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		names[*nr] = frame_name(ns, i ? ns->frames[i].ip - 1 : ns->frames[i].ip);
		if (names[*nr])
			(*nr)++;
	}
	if (stop != RT_UNWIND_STOP_END &&
	    asprintf(&names[*nr], "[stack ends: %s]", rt_unwind_stop__name(stop)) >= 0)
		(*nr)++;
	*out = names;
	return 0;
}
