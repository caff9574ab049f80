/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test program with a known call chain for the unwinder:
 *   main -> a_func -> lib_b (shared library) -> asm_fp (no CFI, frame
 *   pointer) -> asm_nofp (no CFI, fixed frame) -> c_leaf [-> take_snapshot]
 * Built with -O2 -fomit-frame-pointer.
 *
 *   chain burn SECONDS   spin in c_leaf (for perf record --call-graph dwarf)
 *   chain snap FILE      write registers + stack copy to FILE, maps to FILE.maps
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regs_here.h"

int lib_b(int (*fn)(int), int x);
int asm_fp(int x);
int c_leaf(int x);

static const char *snap_path;
static volatile uint64_t sink;

/* Registers in perf's order (BX=1, BP=6, SP=7, IP=8, R12..R15=20..23), a
 * copy of the stack from SP to the top of [stack] (at most 64 KiB), and
 * /proc/self/maps. */
static __attribute__((noinline)) void take_snapshot(void)
{
	uint64_t mask = RT_REGS_HERE_MASK, vals[RT_REGS_HERE_NR], sp, top = 0, size;
	char line[512], path[4096];
	FILE *maps, *out;

	rt_regs_here(vals);
	sp = vals[RT_REGS_HERE_SP];
	maps = fopen("/proc/self/maps", "r");
	snprintf(path, sizeof(path), "%s.maps", snap_path);
	out = fopen(path, "w");
	if (!maps || !out)
		exit(2);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long s, e;
		fputs(line, out);
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &s, &e) == 2)
			top = e;
	}
	fclose(maps);
	fclose(out);
	size = top > sp ? top - sp : 0;
	if (size > 65536)
		size = 65536;
	out = fopen(snap_path, "wb");
	if (!out)
		exit(2);
	fwrite("RTUWSNAP", 1, 8, out);
	fwrite(&mask, 8, 1, out);
	fwrite(vals, 8, RT_REGS_HERE_NR, out);
	fwrite(&size, 8, 1, out);
	fwrite((const void *)(uintptr_t)sp, 1, size, out);
	fclose(out);
}

__attribute__((noinline)) int c_leaf(int x)
{
	if (snap_path) {
		take_snapshot();
		return x + 1;
	}
	for (int i = 0; i < 200000; i++)
		sink += i ^ x;
	return x + (int)(sink & 1);
}

static __attribute__((noinline)) int a_func(int x)
{
	int r = lib_b(asm_fp, x);

	sink += r;
	return r + 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "snap")) {
		snap_path = argv[2];
		return a_func(1) > 0 ? 0 : 1;
	}
	if (argc == 3 && !strcmp(argv[1], "burn")) {
		double end = now() + atof(argv[2]);
		int x = 0;
		while (now() < end)
			x += a_func(x & 7);
		return x == 42;
	}
	fprintf(stderr, "usage: chain burn SECONDS | chain snap FILE\n");
	return 2;
}
