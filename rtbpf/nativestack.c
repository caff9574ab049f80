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

#include "perfglue/grow.h"
#include "rtbpf/nativestack.h"
#include "runtimes/process.h"
#include "symbolize/symbolize.h"
#include "unwind/unwind.h"

#define MAX_FRAMES 256

struct mapping {
	uint64_t start, end, pgoff;
	char *path;
};

struct rt_native_stack {
	pid_t pid;
	struct rt_unwinder *unwinder;
	struct rt_symbolizer *symbolizer;
	struct mapping *maps; /* sorted by start (the kernel lists them so) */
	size_t nr_maps, cap_maps;
	uint8_t *stack;       /* the copy with the real return addresses */
	size_t cap_stack;
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
	free(ns->stack);
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

static int find_map(void *ctx, uint64_t addr, struct rt_unwind_map *out)
{
	const struct mapping *m = map_of(ctx, addr);

	if (!m)
		return -ENOENT;
	*out = (struct rt_unwind_map){ .path = m->path, .start = m->start, .end = m->end,
				       .pgoff = m->pgoff };
	return 0;
}

/* The name of the code at @ip (a caller's return address already moved
 * back into its call). */
static char *frame_name(struct rt_native_stack *ns, uint64_t ip)
{
	const struct mapping *m = map_of(ns, ip);
	const char *base;
	struct rt_symbol sym;
	char *s = NULL;
	int n;

	if (!m)
		n = asprintf(&s, "[unknown] 0x%" PRIx64, ip);
	else {
		base = strrchr(m->path, '/');
		base = base ? base + 1 : m->path;
		rt_symbolizer__resolve_in_process(ns->symbolizer, ns->pid, m->path, NULL, 0,
						  ip - m->start + m->pgoff, &sym);
		if (sym.status == RT_SYMBOL_OK)
			n = asprintf(&s, "%s (%s)", sym.name, base);
		else
			n = asprintf(&s, "[unknown] (%s+0x%" PRIx64 ")", base, ip - m->start + m->pgoff);
	}
	return n < 0 ? NULL : s;
}

/* The stack pointer of @copy, 0 when its registers lack it. */
static uint64_t copy_sp(const struct rt_native_stack_copy *copy)
{
	int at = 0;

	if (!(copy->regs_mask & (1ull << 7)))
		return 0;
	for (int bit = 0; bit < 7; bit++)
		at += (copy->regs_mask >> bit) & 1;
	return copy->regs[at];
}

/* @copy's stack with the return addresses that uretprobes replaced put
 * back; NULL without memory. */
static const uint8_t *real_stack(struct rt_native_stack *ns, const struct rt_native_stack_copy *copy)
{
	uint64_t sp = copy_sp(copy);

	if (!copy->nr_returns || !sp)
		return copy->stack;
	if (RT_ARRAY_GROW(ns->stack, ns->cap_stack, copy->size, 16384))
		return NULL;
	memcpy(ns->stack, copy->stack, copy->size);
	for (size_t i = 0; i < copy->nr_returns; i++) {
		uint64_t at = copy->ret_stack[i] - sp;

		/* a return already taken (a stale entry) is below the stack */
		if (copy->ret_stack[i] >= sp && at <= copy->size - 8 && copy->size >= 8)
			memcpy(ns->stack + at, &copy->ret_addr[i], 8);
	}
	return ns->stack;
}

int rt_native_stack__frames(struct rt_native_stack *ns, const struct rt_native_stack_copy *copy,
			    char ***out, size_t *nr)
{
	struct rt_unwind_input in = {
		.regs = copy->regs,
		.regs_mask = copy->regs_mask,
		.stack_size = copy->size,
		.find_map = find_map,
		.ctx = ns,
	};
	enum rt_unwind_stop stop = RT_UNWIND_STOP_BAD;
	char **names;
	int n, err;

	*out = NULL;
	*nr = 0;
	err = read_maps(ns);
	if (err)
		return err;
	in.stack = real_stack(ns, copy);
	if (!in.stack)
		return -ENOMEM;
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
