/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What rt-bpf knows about CPython's asyncio: where a task step begins in
 * the C accelerator (_asyncio) and where the event loop takes its due
 * timers (_heapq.heappop), found by symbol or, in a stripped build, through
 * the type and method tables that point at them; the layout of tasks,
 * coroutines and timer handles per CPython version; and reading a task's
 * name and a code object's names from a live process.
 */
#ifndef RT_RUNTIMES_PYTHON_ASYNCIO_H
#define RT_RUNTIMES_PYTHON_ASYNCIO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/async.h"
#include "bpf/record.h"
#include "bpf/walker.h"

/* Layout of asyncio's objects in one CPython minor version. */
struct rt_asyncio_layout {
	struct rt_async_offsets bpf; /* what the BPF program reads (also task names,
				      * for rt-bpf record --tasks) */
};

/*
 * The layout for CPython @major.@minor into @out.  Returns 0, or -ENOTSUP
 * for a version whose asyncio layout is not known (3.11 to 3.13 are).
 */
int rt_asyncio__layout(int major, int minor, struct rt_asyncio_layout *out);

/* A function to attach a uprobe to: the file, as a path the kernel can
 * open, and the function's offset in it. */
struct rt_asyncio_probe {
	char path[PATH_MAX];
	uint64_t offset;   /* file offset of the function's first instruction */
	int by_symbol;     /* 1: from .symtab/.dynsym, 0: through the tables pointing at it */
};

struct rt_asyncio_probes {
	struct rt_asyncio_probe step_wrapper; /* TaskStepMethWrapper's tp_call */
	struct rt_asyncio_probe task_wakeup;  /* _asyncio's task_wakeup */
	struct rt_asyncio_probe heappop;      /* _heapq.heappop; offset 0: not found */
};

/*
 * Finds the probe points in process @pid (the _asyncio module must be
 * loaded: `import asyncio` loads it).  Returns 0, -ENOENT when the process
 * has no _asyncio mapped (yet) or its tables cannot be read, -ESRCH when
 * it is gone.  A missing heappop is not an error (its offset stays 0).
 */
int rt_asyncio__find_probes(pid_t pid, struct rt_asyncio_probes *out);

/* The functions of an ELF file rt_asyncio__find_probes() looks for, as
 * virtual addresses (0: not found). */
struct rt_asyncio_functions {
	uint64_t step_wrapper;
	uint64_t task_wakeup;
	uint64_t heappop;
	int by_symbol;
};

/*
 * Looks for the functions in the ELF file @fd: by symbol name unless
 * @tables_only, else (or when the symbols are missing) through the
 * TaskStepMethWrapper type's tp_call and the "task_wakeup" and "heappop"
 * method definitions, whose pointers are relocations (PIC) or plain data.
 * Fills @out; returns 0 or -errno when the file cannot be read as ELF.
 */
int rt_asyncio__elf_functions(int fd, int tables_only, struct rt_asyncio_functions *out);

/*
 * Reads the str object at @obj of process @pid as UTF-8 into @buf
 * (NUL-terminated, cut at @size).  Returns the bytes written, or -errno.
 */
int rt_asyncio__read_str(pid_t pid, const struct rt_walker_offsets *off, uint64_t obj, char *buf,
			 size_t size);

/*
 * The name of task @task in process @pid as rt-bpf reports it: the task's
 * name and its coroutine's qualified name ("Task-3 blocker").  Returns 0 or
 * -errno (the process or the task is gone; -ENOENT: neither a name nor a
 * coroutine there, the memory of a task freed already).
 */
int rt_asyncio__task_name(pid_t pid, const struct rt_walker_offsets *off,
			  const struct rt_asyncio_layout *layout, uint64_t task, char *buf,
			  size_t size);

/*
 * Builds the symbol record the sampling walker would send for code object
 * @code of process @pid (bpf/record.h), so that the decoder names frames
 * walked without one.  @version is major << 16 | minor << 8 | patch.
 * Returns 0 or -errno.
 */
int rt_asyncio__code_record(pid_t pid, const struct rt_walker_offsets *off, uint32_t version,
			    uint64_t code, struct rt_rec_code *rec);

#endif
