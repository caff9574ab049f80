/* SPDX-License-Identifier: GPL-2.0-only */
/* The runtime table: every entry complete and told apart from the others
 * (a new runtime is one entry), and a process identified by its runtime:
 * none for this test, a real CPython and CRuby when installed. */
#include <CUnit/Basic.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/decode_common.h"
#include "runtimes/python/inspect.h"
#include "runtimes/runtime.h"

static void test_table(void)
{
	CU_ASSERT_FATAL(rt_nr_runtimes >= 2);
	for (size_t i = 0; i < rt_nr_runtimes; i++) {
		const struct rt_runtime_desc *rt = rt_runtimes[i];
		const struct rt_decoding *d = rt->decoding;

		CU_ASSERT_PTR_NOT_NULL(rt->name);
		CU_ASSERT_PTR_NOT_NULL(rt->absent);
		CU_ASSERT_PTR_NOT_NULL(rt->versions);
		CU_ASSERT_PTR_NOT_NULL(rt->exe_name);
		CU_ASSERT_PTR_NOT_NULL(rt->image.lib_name);
		CU_ASSERT(rt->image.nr_syms > 0 && rt->image.nr_syms <= RT_PROCESS_SYMBOLS_MAX);
		CU_ASSERT_PTR_NOT_NULL(rt->image.has_symbols);
		CU_ASSERT_PTR_NOT_NULL(rt->image.take);
		CU_ASSERT(rt->proc_size >= sizeof(struct rt_runtime_process));
		CU_ASSERT(!rt->state_size || rt->check);
		CU_ASSERT_PTR_NOT_NULL(rt->select_layout);
		CU_ASSERT_PTR_NOT_NULL(rt->walker_config);
		CU_ASSERT(rt->config_size > 0);
		CU_ASSERT_PTR_NOT_NULL(rt->walker_map);
		CU_ASSERT_PTR_NOT_NULL(rt->describe);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT(d->entry_size >= sizeof(struct rt_code_key));
		CU_ASSERT_PTR_NOT_NULL(d->take_code);
		CU_ASSERT_PTR_NOT_NULL(d->take_stack);
		/* records and walker maps go to one runtime only */
		for (size_t k = 0; k < i; k++) {
			CU_ASSERT_NOT_EQUAL(d->code_type, rt_runtimes[k]->decoding->code_type);
			CU_ASSERT_NOT_EQUAL(d->stack_runtime, rt_runtimes[k]->decoding->stack_runtime);
			CU_ASSERT_STRING_NOT_EQUAL(rt->walker_map, rt_runtimes[k]->walker_map);
			CU_ASSERT_STRING_NOT_EQUAL(rt->name, rt_runtimes[k]->name);
		}
	}
}

static void test_identify_none(void)
{
	const struct rt_runtime_desc *rt = NULL;
	struct rt_runtime_process *proc = NULL;
	pid_t gone = fork();

	CU_ASSERT_EQUAL(rt_runtime__identify(NULL, getpid(), &rt, &proc), -ENOENT);
	CU_ASSERT_PTR_NULL(proc);
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	CU_ASSERT_EQUAL(rt_runtime__identify(NULL, gone, &rt, &proc), -ESRCH);
}

/* Starts @argv (an interpreter that sleeps) and identifies it once its
 * runtime is mapped; @want is the entry it must be found as.  Says
 * "not installed" and checks nothing when @argv[0] cannot be run. */
static void identify_child(char *const argv[], const struct rt_runtime_desc *want)
{
	struct rt_image_cache *cache = rt_image_cache__new();
	const struct rt_runtime_desc *rt = NULL;
	struct rt_runtime_process *proc = NULL;
	int err = -ENOENT, status = 0;
	pid_t child;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", argv[0]);
	if (system(cmd)) {
		printf("\n%s not installed: not identified\n", argv[0]);
		rt_image_cache__free(cache);
		return;
	}
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	/* a launcher (pyenv's shim) may exec the interpreter later */
	for (int i = 0; i < 500 && err; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		err = rt_runtime__identify(cache, child, &rt, &proc);
		if (!err && rt == want)
			break;
		if (!err) {
			free(proc);
			proc = NULL;
			err = -ENOENT;
		}
		nanosleep(&ts, NULL);
	}
	CU_ASSERT_EQUAL(err, 0);
	if (!err) {
		CU_ASSERT_PTR_EQUAL(rt, want);
		CU_ASSERT_EQUAL(proc->pid, child);
		CU_ASSERT(proc->major >= 2);
		CU_ASSERT(proc->elf[0] == '/');
	}
	free(proc);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	rt_image_cache__free(cache);
}

static void test_identify_python(void)
{
	char *const argv[] = { "python3", "-c", "import time; time.sleep(30)", NULL };

	identify_child(argv, &rt_runtime_cpython);
}

static void test_identify_ruby(void)
{
	char *const argv[] = { "ruby", "-e", "sleep 30", NULL };

	identify_child(argv, &rt_runtime_ruby);
}

/* A child that maps @fd as ld.so does, in two steps: the whole span from
 * file offset 0 (what the first mmap event shows), then, on a byte from
 * @go, the writable segment over it at its own offset.  Writes a byte to
 * @done after each step. */
static void half_loader(int fd, int go, int done)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[32];
	uint64_t span = 0;
	int nph, rw = -1;
	char *base;
	char c = 0;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phnum > 32)
		_exit(2);
	nph = eh.e_phnum;
	if (pread(fd, ph, nph * sizeof(ph[0]), (off_t)eh.e_phoff) != (ssize_t)(nph * sizeof(ph[0])))
		_exit(2);
	for (int i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_vaddr + ph[i].p_memsz > span)
			span = ph[i].p_vaddr + ph[i].p_memsz;
		if (ph[i].p_flags & PF_W)
			rw = i;
	}
	if (rw < 0)
		_exit(2);
	base = mmap(NULL, span, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED || write(done, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(2);
	if (mmap(base + (ph[rw].p_vaddr & ~0xfffull),
		 ph[rw].p_filesz + (ph[rw].p_vaddr & 0xfff), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED, fd, (off_t)(ph[rw].p_offset & ~0xfffull)) == MAP_FAILED ||
	    write(done, &c, 1) != 1)
		_exit(2);
	pause();
	_exit(0);
}

/* A 3.13+ libpython caught half mapped (the span from offset 0, its data
 * not yet in place) is not taken, to be refused for a missing
 * _Py_DebugOffsets; once its data segment is mapped it is, with the cookie
 * readable at _PyRuntime. */
static void test_identify_half_mapped(void)
{
	const char *lib = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0";
	struct rt_pyproc *proc = calloc(1, rt_runtime_cpython.proc_size);
	int fd = open(lib, O_RDONLY | O_CLOEXEC), go[2], done[2], status;
	char cookie[8], c;
	pid_t child;

	CU_ASSERT_PTR_NOT_NULL_FATAL(proc);
	if (fd < 0) {
		printf("\n%s not installed: not checked\n", lib);
		free(proc);
		return;
	}
	CU_ASSERT_FATAL(!pipe(go) && !pipe(done));
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0)
		half_loader(fd, go[0], done[1]);
	CU_ASSERT_FATAL(read(done[0], &c, 1) == 1);
	CU_ASSERT_NOT_EQUAL(rt_runtime__inspect(&rt_runtime_cpython, NULL, child, &proc->base), 0);
	CU_ASSERT_FATAL(write(go[1], &c, 1) == 1 && read(done[0], &c, 1) == 1);
	CU_ASSERT_EQUAL(rt_runtime__inspect(&rt_runtime_cpython, NULL, child, &proc->base), 0);
	CU_ASSERT_EQUAL(proc->base.major, 3);
	CU_ASSERT_EQUAL(proc->base.minor, 13);
	CU_ASSERT_EQUAL(rt_process__read(child, proc->runtime_addr, cookie, sizeof(cookie)), 0);
	CU_ASSERT_EQUAL(memcmp(cookie, "xdebugpy", 8), 0);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	close(fd);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	free(proc);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("runtime", NULL, NULL);
	CU_add_test(suite, "table entries complete and distinct", test_table);
	CU_add_test(suite, "no runtime, no process", test_identify_none);
	CU_add_test(suite, "a CPython process", test_identify_python);
	CU_add_test(suite, "a CRuby process", test_identify_ruby);
	CU_add_test(suite, "a libpython 3.13 half mapped waits", test_identify_half_mapped);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
