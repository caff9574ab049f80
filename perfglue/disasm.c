/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * capstone through dlopen: see disasm.h.  The other calls are only made
 * with a handle rt_cs_open gave, so after the library was loaded.
 */
#include "perfglue/disasm.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define STR_(x) #x
#define STR(x) STR_(x)
/* the library the headers belong to, by its soname */
#define CAPSTONE_SONAME "libcapstone.so." STR(CS_API_MAJOR)

static struct {
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_err (*close)(csh *);
	cs_insn *(*malloc)(csh);
	void (*free)(cs_insn *, size_t);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	size_t (*disasm)(csh, const uint8_t *, size_t, uint64_t, size_t, cs_insn **);
	bool loaded;
} cs;
static pthread_once_t cs_once = PTHREAD_ONCE_INIT;

static void cs_load(void)
{
	void *lib = dlopen(CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		fprintf(stderr, "warning: cannot load %s: %s (no disassembly: prologues "
			"are not unwound, Ruby's VM is not inspected)\n", CAPSTONE_SONAME,
			dlerror());
		return;
	}
	*(void **)&cs.open = dlsym(lib, "cs_open");
	*(void **)&cs.option = dlsym(lib, "cs_option");
	*(void **)&cs.close = dlsym(lib, "cs_close");
	*(void **)&cs.malloc = dlsym(lib, "cs_malloc");
	*(void **)&cs.free = dlsym(lib, "cs_free");
	*(void **)&cs.disasm_iter = dlsym(lib, "cs_disasm_iter");
	*(void **)&cs.disasm = dlsym(lib, "cs_disasm");
	cs.loaded = cs.open && cs.option && cs.close && cs.malloc && cs.free &&
		    cs.disasm_iter && cs.disasm;
	if (!cs.loaded)
		fprintf(stderr, "warning: %s lacks capstone's calls: no disassembly\n",
			CAPSTONE_SONAME);
}

cs_err rt_cs_open(cs_arch arch, cs_mode mode, csh *handle)
{
	pthread_once(&cs_once, cs_load);
	if (!cs.loaded)
		return CS_ERR_MEM;
	return cs.open(arch, mode, handle);
}

cs_err rt_cs_option(csh handle, cs_opt_type type, size_t value)
{
	return cs.option(handle, type, value);
}

cs_err rt_cs_close(csh *handle)
{
	return cs.close(handle);
}

cs_insn *rt_cs_malloc(csh handle)
{
	return cs.malloc(handle);
}

void rt_cs_free(cs_insn *insn, size_t count)
{
	if (insn)
		cs.free(insn, count);
}

bool rt_cs_disasm_iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
		       cs_insn *insn)
{
	return cs.disasm_iter(handle, code, size, address, insn);
}

size_t rt_cs_disasm(csh handle, const uint8_t *code, size_t size, uint64_t address,
		    size_t count, cs_insn **insn)
{
	return cs.disasm(handle, code, size, address, count, insn);
}
