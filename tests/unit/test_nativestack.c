/* SPDX-License-Identifier: GPL-2.0-only */
/* rtbpf/nativestack.c on this test program's own stack: registers and a
 * copy of the stack taken inside a known chain of calls (as the BPF program
 * takes them in a blocking poll) come back as that chain, named and in
 * order; a gone process and a copy of garbage are refused or cut short,
 * never a crash. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtbpf/nativestack.h"
#include "tests/e2e/unwind/regs_here.h"

#define COPY_MAX 16384


static uint64_t snap_regs[RT_REGS_HERE_NR];
static uint8_t snap_stack[COPY_MAX];
static size_t snap_size;
static volatile int sink;
/* where level_c's return address is on the stack, and its value */
static uint64_t ret_slot, ret_value;

/* The end of the mapping that holds @addr (this thread's stack). */
static uint64_t mapping_end(uint64_t addr)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "re");
	uint64_t end = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && addr >= s && addr < e)
			end = e;
	}
	fclose(f);
	return end;
}

/* Copies raw stack memory, redzones of the sanitizer's build included, as
 * the kernel would: not through the checked memcpy. */
__attribute__((no_sanitize_address)) static void copy_raw(uint8_t *dst, const uint8_t *src,
							 size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile uint8_t *)dst)[i] = src[i];
}

/* Takes the registers here and a copy of the stack above them. */
__attribute__((noinline)) static int take_snapshot(void)
{
	uint64_t top, sp;

	rt_regs_here(snap_regs);
	sp = snap_regs[RT_REGS_HERE_SP];
	top = mapping_end(sp);
	snap_size = top > sp ? top - sp : 0;
	if (snap_size > COPY_MAX)
		snap_size = COPY_MAX;
	copy_raw(snap_stack, (const uint8_t *)(uintptr_t)sp, snap_size);
	return sink + 1;
}

__attribute__((noinline)) static int level_c(int x)
{
	int r = take_snapshot() + x;

	/* built with frame pointers: the return address is above the saved rbp */
	ret_slot = (uint64_t)(uintptr_t)__builtin_frame_address(0) + 8;
	ret_value = (uint64_t)(uintptr_t)__builtin_return_address(0);
	sink = r;
	return r + 1;
}

__attribute__((noinline)) static int level_b(int x)
{
	int r = level_c(x + 1);

	sink = r;
	return r + 2;
}

__attribute__((noinline)) static int level_a(int x)
{
	int r = level_b(x + 2);

	sink = r;
	return r + 3;
}

/* The first frame of @function, also under a name the compiler gave a
 * specialised copy of it (level_b.constprop.0). */
static size_t index_of(char **frames, size_t nr, const char *function)
{
	size_t len = strlen(function);

	for (size_t i = 0; i < nr; i++)
		if (!strncmp(frames[i], function, len) && (frames[i][len] == ' ' || frames[i][len] == '.'))
			return i;
	return SIZE_MAX;
}

static void free_frames(char **frames, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(frames[i]);
	free(frames);
}

static void test_own_chain(void)
{
	struct rt_native_stack *ns = rt_native_stack__new(getpid());
	struct rt_native_stack_copy copy;
	char **frames = NULL;
	size_t nr = 0, a, b, c, snap;

	CU_ASSERT_FATAL(ns != NULL);
	level_a(1);
	CU_ASSERT_FATAL(snap_size > 256);
	copy = (struct rt_native_stack_copy){ .regs = snap_regs, .regs_mask = RT_REGS_HERE_MASK,
					      .stack = snap_stack, .size = snap_size };
	CU_ASSERT_EQUAL_FATAL(rt_native_stack__frames(ns, &copy, &frames, &nr), 0);
	snap = index_of(frames, nr, "take_snapshot");
	c = index_of(frames, nr, "level_c");
	b = index_of(frames, nr, "level_b");
	a = index_of(frames, nr, "level_a");
	CU_ASSERT_EQUAL(snap, 0);
	CU_ASSERT_EQUAL(c, 1);
	CU_ASSERT_EQUAL(b, 2);
	CU_ASSERT_EQUAL(a, 3);
	CU_ASSERT(a < nr && strstr(frames[a], "(test_nativestack)") != NULL);
	CU_ASSERT(index_of(frames, nr, "main") < nr);
	if (snap != 0 || a != 3)
		for (size_t i = 0; i < nr; i++)
			fprintf(stderr, "  frame %zu: %s\n", i, frames[i]);
	free_frames(frames, nr);
	rt_native_stack__free(ns);
}

/* A return address replaced in the copy (as a uretprobe's trampoline
 * replaces it) cuts the unwind; given back as a patch, the chain is whole. */
static void test_replaced_return(void)
{
	struct rt_native_stack *ns = rt_native_stack__new(getpid());
	uint64_t junk = 0x10, sp, at;
	struct rt_native_stack_copy copy;
	char **frames = NULL;
	size_t nr = 0;

	CU_ASSERT_FATAL(ns != NULL);
	level_a(1);
	sp = snap_regs[RT_REGS_HERE_SP];
	CU_ASSERT_FATAL(ret_slot > sp && ret_slot - sp <= snap_size - 8);
	at = ret_slot - sp;
	CU_ASSERT_FATAL(!memcmp(snap_stack + at, &ret_value, 8));
	memcpy(snap_stack + at, &junk, 8);
	copy = (struct rt_native_stack_copy){ .regs = snap_regs, .regs_mask = RT_REGS_HERE_MASK,
					      .stack = snap_stack, .size = snap_size };
	CU_ASSERT_EQUAL_FATAL(rt_native_stack__frames(ns, &copy, &frames, &nr), 0);
	CU_ASSERT_EQUAL(index_of(frames, nr, "level_c"), 1);
	CU_ASSERT_EQUAL(index_of(frames, nr, "level_b"), SIZE_MAX);
	CU_ASSERT(nr >= 1 && !strncmp(frames[nr - 1], "[stack ends: ", 13));
	free_frames(frames, nr);
	/* a stale entry (below the stack pointer) and the right one */
	copy.ret_stack = (const uint64_t[]){ sp - 64, ret_slot };
	copy.ret_addr = (const uint64_t[]){ 0x20, ret_value };
	copy.nr_returns = 2;
	CU_ASSERT_EQUAL_FATAL(rt_native_stack__frames(ns, &copy, &frames, &nr), 0);
	CU_ASSERT_EQUAL(index_of(frames, nr, "level_b"), 2);
	CU_ASSERT_EQUAL(index_of(frames, nr, "level_a"), 3);
	CU_ASSERT(index_of(frames, nr, "main") < nr);
	CU_ASSERT(nr >= 1 && strncmp(frames[nr - 1], "[stack ends: ", 13));
	free_frames(frames, nr);
	rt_native_stack__free(ns);
}

static void test_gone_process(void)
{
	struct rt_native_stack *ns;
	struct rt_native_stack_copy copy = { .regs = snap_regs, .regs_mask = RT_REGS_HERE_MASK,
					     .stack = snap_stack, .size = snap_size };
	char **frames = (char **)&copy;
	size_t nr = 7;
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	ns = rt_native_stack__new(pid);
	CU_ASSERT_FATAL(ns != NULL);
	CU_ASSERT_EQUAL(rt_native_stack__frames(ns, &copy, &frames, &nr), -ESRCH);
	CU_ASSERT_PTR_NULL(frames);
	CU_ASSERT_EQUAL(nr, 0);
	rt_native_stack__free(ns);
}

/* Registers and bytes of no meaning: cut short with a reason, never a
 * crash; an address outside every file is named by its value. */
static void test_garbage(void)
{
	struct rt_native_stack *ns = rt_native_stack__new(getpid());
	uint64_t regs[8];
	uint8_t stack[512];
	struct rt_native_stack_copy copy = { .regs = regs, .regs_mask = RT_REGS_HERE_MASK, .stack = stack,
					     .size = sizeof(stack) };
	char **frames;
	size_t nr;

	CU_ASSERT_FATAL(ns != NULL);
	srand(7);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(stack); i++)
			stack[i] = (uint8_t)rand();
		for (int i = 0; i < 8; i++)
			regs[i] = (uint64_t)rand() << 24 ^ (uint64_t)rand();
		if (round & 1)
			regs[3] = (uint64_t)(uintptr_t)level_c + 4; /* a real IP, a wrong stack */
		CU_ASSERT_EQUAL_FATAL(rt_native_stack__frames(ns, &copy, &frames, &nr), 0);
		CU_ASSERT(nr >= 1);
		CU_ASSERT(nr >= 1 && !strncmp(frames[nr - 1], "[stack ends: ", 13));
		if (!(round & 1) && nr >= 1) {
			char want[32];

			snprintf(want, sizeof(want), "[unknown] 0x%" PRIx64, regs[3]);
			CU_ASSERT(!strcmp(frames[0], want) || strstr(frames[0], " (") != NULL);
		}
		free_frames(frames, nr);
	}
	rt_native_stack__free(ns);
}

int main(void)
{
	unsigned int failures;
	CU_pSuite suite;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	suite = CU_add_suite("nativestack", NULL, NULL);
	CU_add_test(suite, "own call chain, named in order", test_own_chain);
	CU_add_test(suite, "replaced return address given back", test_replaced_return);
	CU_add_test(suite, "gone process", test_gone_process);
	CU_add_test(suite, "garbage registers and stack", test_garbage);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
