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
#include <unistd.h>

#include "perfglue/grow.h"
#include "perfglue/safefile.h"
#include "rtbpf/nativestack.h"
#include "runtimes/process.h"
#include "symbolize/symbolize.h"
#include "unwind/unwind.h"

#define MAX_FRAMES 256
#define MAX_PATCHES 8

struct mapping {
	uint64_t start, end, pgoff;
	char *path;
	/* the mapped file's build id, read through /proc/PID/map_files (the
	 * file itself, also in another mount namespace) when first needed:
	 * the unwinder and the symbolizer take a file at the path only when its
	 * id is this one, else the process's own through its root */
	uint8_t build_id[20];
	int build_id_size;    /* 0: not read yet; < 0: none */
};

struct rt_native_stack {
	pid_t pid;
	struct rt_unwinder *unwinder;
	struct rt_symbolizer *symbolizer;
	struct mapping *maps; /* sorted by start (the kernel lists them so) */
	size_t nr_maps, cap_maps;
	struct rt_unwind_frame frames[MAX_FRAMES];
};

struct rt_native_stack *rt_native_stack__new(pid_t pid)
{
	struct rt_native_stack *ns = calloc(1, sizeof(*ns));
	char root[64];

	if (!ns)
		return NULL;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	ns->pid = pid;
	/* the process's own files, also inside a container */
	ns->unwinder = rt_unwinder__new(&(struct rt_unwinder_opts){
		.sz = sizeof(struct rt_unwinder_opts), .root_dir = root });
	ns->symbolizer = rt_symbolizer__new(NULL);
	if (!ns->unwinder || !ns->symbolizer) {
		rt_native_stack__free(ns);
		errno = ENOMEM;
		return NULL;
	}
	return ns;
}

static void clear_maps(struct rt_native_stack *ns)
{
	for (size_t i = 0; i < ns->nr_maps; i++)
		free(ns->maps[i].path);
	ns->nr_maps = 0;
}

void rt_native_stack__free(struct rt_native_stack *ns)
{
	if (!ns)
		return;
	clear_maps(ns);
	free(ns->maps);
	rt_unwinder__free(ns->unwinder);
	rt_symbolizer__free(ns->symbolizer);
	free(ns);
}

/* The process's file mappings (and its vDSO) as they are now. */
static int read_maps(struct rt_native_stack *ns)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;

	clear_maps(ns);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)ns->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, pgoff;
		char *file;

		if (!rt_process__parse_maps_line(line, &start, &end, &pgoff, &file) ||
		    (file[0] != '/' && strcmp(file, "[vdso]")))
			continue;
		if (RT_ARRAY_GROW(ns->maps, ns->cap_maps, ns->nr_maps + 1, 64))
			break;
		ns->maps[ns->nr_maps] = (struct mapping){ .start = start, .end = end, .pgoff = pgoff,
							   .path = strdup(file) };
		if (ns->maps[ns->nr_maps].path)
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
	return 0;
}

/* A name from the target's files, printable: control characters become '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
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
		rt_symbolizer__resolve_in_process(ns->symbolizer, ns->pid, m->path, id, id_size,
						  ip - m->start + m->pgoff, &sym);
		if (sym.status == RT_SYMBOL_OK)
			n = asprintf(&s, "%s (%s)", sym.name, base);
		else
			n = asprintf(&s, "[unknown] (%s+0x%" PRIx64 ")", base, ip - m->start + m->pgoff);
	}
	if (n < 0)
		return NULL;
	printable(s);
	return s;
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
	for (size_t i = 0; i < copy->nr_returns && i < MAX_PATCHES; i++)
		patches[in.nr_patches++] = (struct rt_unwind_patch){ .addr = copy->ret_stack[i],
								     .value = copy->ret_addr[i] };
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
