/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace`'s target side: which runtime the target runs and where its
 * probes are, starting a command stopped before its first instruction,
 * configuring the Python programs for it, and attaching the programs to
 * its USDT probes or, for a CPython without them, to its eval loop.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf/trace.skel.h"
#include "perfglue/safefile.h"
#include "rtbpf/trace_internal.h"
#include "rtbpf/usdt.h"
#include "runtimes/python/inspect.h"

/* ---- the target's files ---- */

/* Whether ELF file @path (a /proc link or a path in this root) has USDT
 * probe @provider:@name. */
bool rt_trace__elf_has_probe(const char *path, const char *provider, const char *name)
{
	int fd = rt_safefile__open_proc_link(path, 0, NULL);
	bool found;

	if (fd < 0)
		return false;
	found = rt_usdt__has_probe(fd, provider, strlen(provider), name);
	close(fd);
	return found;
}

struct needed {
	const char *prefix;
	char *out;
	size_t size;
};

static int match_needed(void *ctx, const char *lib)
{
	struct needed *n = ctx;

	if (strncmp(lib, n->prefix, strlen(n->prefix)))
		return 0;
	snprintf(n->out, n->size, "%s", lib);
	return 1;
}

/* The DT_NEEDED entry of ELF file @path that starts with @prefix. */
static int needed_library(const char *path, const char *prefix, char *out, size_t size)
{
	int fd = rt_safefile__open_proc_link(path, 0, NULL);
	struct needed n = { .prefix = prefix, .out = out, .size = size };
	int found;

	if (fd < 0)
		return fd;
	found = rt_usdt__each_needed(fd, match_needed, &n);
	close(fd);
	return found ? 0 : -ENOENT;
}

/* The shared library whose name starts with @prefix as process @pid maps
 * it (-p), or, stopped at exec before the dynamic loader ran (-- CMD), the
 * one its executable needs, in the usual directories of its root. */
int rt_trace__find_library(pid_t pid, const char *exe, const char *prefix, char *out, size_t size)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
					    "/usr/local/lib", "/usr/lib", "/lib" };
	char maps[64], line[PATH_MAX + 128], soname[256];
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/'), *base;
		unsigned long long start, end, off;

		if (!path || sscanf(line, "%llx-%llx %*s %llx", &start, &end, &off) != 3 || off)
			continue;
		path[strcspn(path, "\n")] = 0;
		base = strrchr(path, '/') + 1;
		if (!strncmp(base, prefix, strlen(prefix)) && strstr(base, ".so")) {
			snprintf(out, size, "/proc/%d/map_files/%llx-%llx", (int)pid, start, end);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	if (needed_library(exe, prefix, soname, sizeof(soname)))
		return -ENOENT;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;

		snprintf(out, size, "/proc/%d/root%s/%s", (int)pid, dirs[i], soname);
		if (!stat(out, &st) && S_ISREG(st.st_mode))
			return 0;
	}
	return -ENOENT;
}

/* ---- the target ---- */

/* Starts @argv stopped right after its exec (ptrace), so that the probes
 * are attached before its first instruction.  Returns the pid or -errno. */
pid_t rt_trace__start_stopped(char **argv)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (!pid) {
		int err = ptrace(PTRACE_TRACEME, 0, NULL, NULL) ? errno : -rt_bpf__execvp(argv);

		fprintf(stderr, "rt-bpf: cannot run %s: %s\n", argv[0], strerror(err));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!WIFSTOPPED(status)) {
		errno = ECHILD;
		return -ENOEXEC; /* the exec failed: the child said why */
	}
	return pid;
}

/* Which runtime the target runs and the ELF file with its probes. */
enum runtime rt_trace__find_runtime(pid_t pid, char *probes, size_t size)
{
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (rt_trace__elf_has_probe(exe, "python", "line")) {
		snprintf(probes, size, "%s", exe);
		return RUNTIME_PYTHON;
	}
	if (!rt_trace__find_library(pid, exe, "libpython", probes, size) &&
	    rt_trace__elf_has_probe(probes, "python", "line"))
		return RUNTIME_PYTHON;
	if (rt_trace__elf_has_probe(exe, "ruby", "method__entry")) {
		snprintf(probes, size, "%s", exe);
		return RUNTIME_RUBY;
	}
	if (!rt_trace__find_library(pid, exe, "libruby", probes, size) &&
	    rt_trace__elf_has_probe(probes, "ruby", "method__entry"))
		return RUNTIME_RUBY;
	return RUNTIME_NONE;
}

/* Whether ELF file @path has function @name; its offset into @offset. */
static bool elf_function(const char *path, const char *name, uint64_t *offset)
{
	int fd = rt_safefile__open_proc_link(path, 0, NULL);
	bool found;

	if (fd < 0)
		return false;
	found = !rt_usdt__function_offset(fd, name, offset);
	close(fd);
	return found;
}

/* The ELF file of the target's CPython eval loop (its executable or its
 * libpython, as mapped) for the fallback: 0 or -ENOENT.  2.7's is
 * PyEval_EvalFrameEx. */
int rt_trace__find_eval_loop(pid_t pid, char *path, size_t size)
{
	char exe[64];
	uint64_t off;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (elf_function(exe, "_PyEval_EvalFrameDefault", &off) ||
	    elf_function(exe, "PyEval_EvalFrameEx", &off)) {
		snprintf(path, size, "%s", exe);
		return 0;
	}
	if (!rt_trace__find_library(pid, exe, "libpython", path, size) &&
	    (elf_function(path, "_PyEval_EvalFrameDefault", &off) ||
	     elf_function(path, "PyEval_EvalFrameEx", &off)))
		return 0;
	return -ENOENT;
}

/* Whether process @pid (stopped at its entry point) runs a CPython or a
 * CRuby: its probes, its eval loop, or ruby_run_node in its executable or
 * in the libruby it mapped. */
static bool runs_interpreter(pid_t pid)
{
	char exe[64], path[PATH_MAX];
	uint64_t off;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (rt_trace__find_runtime(pid, path, sizeof(path)) != RUNTIME_NONE ||
	    !rt_trace__find_eval_loop(pid, path, sizeof(path)) || elf_function(exe, "ruby_run_node", &off))
		return true;
	return !rt_trace__find_library(pid, exe, "libruby", path, sizeof(path)) &&
	       elf_function(path, "ruby_run_node", &off);
}

/* A wrapper that runs the interpreter by exec in the same process (chroot,
 * env, unshare without --fork, pyenv's shim) is followed through this many
 * execs. */
#define EXECS_MAX 16

int rt_trace__run_to_interpreter(pid_t pid)
{
	int status, sig = 0, err;

	/* at the entry point the loader has mapped the libraries (a libpython
	 * found by RUNPATH), and only the loader has run */
	err = rt_trace__run_to_entry(pid);
	if (err || runs_interpreter(pid))
		return err;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)))
		return -errno;
	for (int execs = 0; execs < EXECS_MAX;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) || waitpid(pid, &status, 0) != pid)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH; /* it ended without running an interpreter */
		sig = 0;
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			err = rt_trace__run_to_entry(pid);
			if (err || runs_interpreter(pid))
				return err;
			execs++;
		} else if (WSTOPSIG(status) != SIGTRAP) {
			sig = WSTOPSIG(status); /* its own signal, passed on */
		}
	}
	return -ELOOP;
}

/* Lets child @pid, stopped under ptrace, run until it reaches @addr: a
 * breakpoint there, removed again, and @pid left stopped with its pc at
 * @addr. */
int rt_trace__run_to(pid_t pid, uint64_t addr)
{
	struct user_regs_struct regs;
	long word;
	int status;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)((word & ~0xffL) | 0xcc)))
		return -errno;
	/* the code on the way (ruby_options loading libraries) may get
	 * signals of its own: each is passed on; ptrace's event stops are not
	 * signals */
	for (int sig = 0;; sig = status >> 16 ? 0 : WSTOPSIG(status)) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) || waitpid(pid, &status, 0) != pid)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ECHILD; /* it ended on the way */
		if (WSTOPSIG(status) != SIGTRAP || status >> 16)
			continue;
		if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
			return -errno;
		if (regs.rip == addr + 1)
			break; /* past the breakpoint */
	}
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word))
		return -errno;
	regs.rip = addr;
	return ptrace(PTRACE_SETREGS, pid, NULL, &regs) ? -errno : 0;
}

/* Lets child @pid, stopped at its exec, run to its executable's entry
 * point (AT_ENTRY): the dynamic loader has then mapped its libraries (a
 * libpython whose _PyRuntime the configuration needs) and no code of the
 * program has run. */
int rt_trace__run_to_entry(pid_t pid)
{
	char path[64];
	uint64_t auxv[2], entry = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, auxv, sizeof(auxv)) == sizeof(auxv) && auxv[0] != AT_NULL)
		if (auxv[0] == AT_ENTRY)
			entry = auxv[1];
	close(fd);
	return entry ? rt_trace__run_to(pid, entry) : -ENOEXEC;
}

static int configure_python_map(struct tracer *t, const struct rt_trace_py_config *cfg,
				const struct rt_pyproc *proc);
static int configure_python_frames(struct tracer *t, struct rt_trace_py_config *cfg,
				   const struct rt_pyproc *proc);

/* Configures the Python programs for the target: its _PyRuntime and the
 * layout of its version, plus the argument offsets (2.7, 3.6-3.11). */
int rt_tracer__configure_python(struct tracer *t)
{
	struct rt_trace_py_config cfg = {};
	struct rt_pyproc proc;
	char msg[256] = "";
	int err;

	err = rt_runtime__inspect(&rt_runtime_cpython, NULL, t->pid, &proc.base);
	if (err) {
		fprintf(stderr, "rt-bpf: pid %d: cannot find CPython's _PyRuntime in it (%s)\n", t->pid,
			strerror(-err));
		return err;
	}
	/* --layout's table for its version, else layouts/', as record's */
	err = rt_runtime_cpython.select_layout(&proc.base, t->layout, &t->py_layout, msg, sizeof(msg));
	if (!err && msg[0])
		fprintf(stderr, "rt-bpf: pid %d (CPython %d.%d.%d): %s\n", t->pid, proc.base.major,
			proc.base.minor, proc.base.patch, msg);
	if (err) {
		fprintf(stderr, "rt-bpf: pid %d runs CPython %d.%d.%d, which rt-bpf has no layout for%s%s\n",
			t->pid, proc.base.major, proc.base.minor, proc.base.patch, msg[0] ? ": " : "", msg);
		return err;
	}
	if (rt_pyproc__walker_config(&proc, &t->py_layout, 1, &cfg.walker)) {
		fprintf(stderr, "rt-bpf: pid %d runs CPython %d.%d.%d: its layout%s lacks what the trace "
			"needs (docs/layouts.md)\n", t->pid, proc.base.major, proc.base.minor,
			proc.base.patch, t->layout && t->layout->runtime == RT_RUNTIME_CPYTHON &&
			t->layout->major == proc.base.major && t->layout->minor == proc.base.minor ?
			" (--layout's)" : "");
		return -ENOTSUP;
	}
	t->py_major = proc.base.major;
	t->py_minor = proc.base.minor;
	if (proc.base.major == 2 || proc.base.minor <= 10)
		return configure_python_frames(t, &cfg, &proc);
	/* PyCodeObject 3.11: co_argcount, co_posonlyargcount, co_kwonlyargcount,
	 * co_stacksize, then co_firstlineno; co_localsplusnames at 96; the
	 * frame's localsplus after its 72 bytes.  Other versions: no arguments. */
	if (proc.base.minor == 11) {
		cfg.code_argcount = t->py_layout.cpython.code_firstlineno - 16;
		cfg.code_kwonlyargcount = t->py_layout.cpython.code_firstlineno - 8;
		cfg.code_localsplusnames = 96;
		cfg.frame_localsplus = 72;
	} else {
		cfg.code_argcount = RT_WALKER_NONE;
	}
	cfg.tuple_items = 24;
	cfg.type_name = 24;
	/* after PyVarObject's 24 bytes, co_consts, co_names and
	 * co_exceptiontable (3.11 to 3.14) */
	cfg.code_flags = 48;
	return configure_python_map(t, &cfg, &proc);
}

/* Puts configuration @cfg of the target into the Python programs' map. */
static int configure_python_map(struct tracer *t, const struct rt_trace_py_config *cfg,
				const struct rt_pyproc *proc)
{
	__u32 key = (__u32)t->pid;
	int err;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.py_procs), &key, cfg, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot configure pid %d: %s\n", t->pid, strerror(errno));
		return err;
	}
	if (t->verbose)
		fprintf(stderr, "rt-bpf: pid %d: CPython %d.%d.%d, _PyRuntime at 0x%llx\n", t->pid,
			proc->base.major, proc->base.minor, proc->base.patch,
			(unsigned long long)proc->runtime_addr);
	return 0;
}

/*
 * CPython 2.7 and 3.6-3.10: frames are PyFrameObjects, and every frame
 * evaluation (each call, each generator resumption) is one call of the
 * eval loop, so its entry and return are the trace's calls and returns
 * (docs/trace.md).  A build with USDT probes gets the same uprobes: the
 * chains follow PyFrameObjects only that way.  Arguments: the first of
 * f_localsplus, named by co_varnames, at each entry.
 */
static int configure_python_frames(struct tracer *t, struct rt_trace_py_config *cfg,
				   const struct rt_pyproc *proc)
{
	const struct rt_layout_cpython *c = &t->py_layout.cpython;
	char path[PATH_MAX];

	if (proc->base.major == 3 && proc->base.minor < 6) {
		fprintf(stderr, "rt-bpf: pid %d runs CPython 3.%d: trace follows 2.7 and 3.6 on\n",
			t->pid, proc->base.minor);
		return -ENOTSUP;
	}
	if (!t->py_fallback) {
		if (rt_trace__find_eval_loop(t->pid, path, sizeof(path))) {
			fprintf(stderr, "rt-bpf: pid %d: no eval loop symbol in its CPython %d.%d\n",
				t->pid, proc->base.major, proc->base.minor);
			return -ENOTSUP;
		}
		fprintf(stderr, "rt-bpf: pid %d runs CPython %d.%d, whose USDT probes rt-bpf does not "
			"follow (before 3.11): falling back to uprobes on its eval loop\n", t->pid,
			proc->base.major, proc->base.minor);
		t->py_fallback = true;
	}
	t->py_old_frames = true;
	/* PyCodeObject: co_argcount at 16, then (3.x) co_kwonlyargcount, after
	 * co_posonlyargcount from 3.8; co_varnames 32 bytes before co_filename
	 * (24 on 2.7, without co_cell2arg); co_flags just before
	 * co_firstlineno (2.7: at 28). */
	cfg->code_argcount = 16;
	if (proc->base.major == 2) {
		cfg->code_kwonlyargcount = RT_WALKER_NONE;
		cfg->code_localsplusnames = c->code_filename - 24;
		cfg->code_flags = 28;
	} else {
		cfg->code_kwonlyargcount = proc->base.minor >= 8 ? 24 : 20;
		cfg->code_localsplusnames = c->code_filename - 32;
		cfg->code_flags = c->code_firstlineno - 4;
	}
	/* f_localsplus, the frame's last member, one slot in its size */
	cfg->frame_localsplus = c->frame_size - 8;
	cfg->tuple_items = 24;
	cfg->type_name = 24;
	return configure_python_map(t, cfg, proc);
}

struct probe_spec {
	const char *provider, *name;
	bool required;
};

struct bpf_link *rt_tracer__keep_link(struct tracer *t, struct bpf_link *link)
{
	struct bpf_link **links;
	int err = errno;

	if (!link)
		return NULL;
	links = realloc(t->links, (t->nr_links + 1) * sizeof(*links));
	if (links) {
		t->links = links;
		t->links[t->nr_links++] = link;
	}
	errno = err;
	return link;
}

/* Attaches @prog to probe @spec of @path in the target. */
static int attach_probe(struct tracer *t, struct bpf_program *prog, const char *path,
			const struct probe_spec *spec)
{
	struct bpf_link *link;

	if (!rt_trace__elf_has_probe(path, spec->provider, spec->name)) {
		if (spec->required) {
			fprintf(stderr, "rt-bpf: %s has no USDT probe %s:%s\n", path, spec->provider,
				spec->name);
			return -ENOENT;
		}
		fprintf(stderr, "rt-bpf: %s has no USDT probe %s:%s; going on without it\n", path,
			spec->provider, spec->name);
		return 0;
	}
	link = rt_tracer__keep_link(t, bpf_program__attach_usdt(prog, t->pid, path, spec->provider,
								spec->name, NULL));
	if (!link) {
		fprintf(stderr, "rt-bpf: cannot attach to %s:%s in %s: %s\n", spec->provider, spec->name,
			path, strerror(errno));
		return -errno;
	}
	if (t->verbose)
		fprintf(stderr, "rt-bpf: attached %s:%s in %s\n", spec->provider, spec->name, path);
	return 0;
}

/* Attaches @prog as a uprobe (or a uretprobe: @ret) to function @fn of
 * @path in the target. */
int rt_tracer__attach_function(struct tracer *t, struct bpf_program *prog, const char *path,
			   const char *fn, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link;
	uint64_t off;

	if (!elf_function(path, fn, &off)) {
		fprintf(stderr, "rt-bpf: %s has no function %s\n", path, fn);
		return -ENOENT;
	}
	link = rt_tracer__keep_link(t, bpf_program__attach_uprobe_opts(prog, t->pid, path, off, &opts));
	if (!link) {
		fprintf(stderr, "rt-bpf: cannot attach to %s in %s: %s\n", fn, path, strerror(errno));
		return -errno;
	}
	if (t->verbose)
		fprintf(stderr, "rt-bpf: attached %s%s in %s (offset 0x%" PRIx64 ")\n", fn,
			ret ? " (return)" : "", path, off);
	return 0;
}

/* 3.12+ resume generators from a for loop or `yield from` inline, and
 * YIELD_VALUE suspends them inline: uprobes on the code of YIELD_VALUE and
 * its instrumented twin (used while sys.monitoring or sys.settrace is on),
 * found through the eval loop's computed-goto table opcode_targets (a
 * local symbol: unstripped builds only).  A build without it: no yields. */
static int attach_yields(struct tracer *t, const char *path)
{
	/* opcode numbers of YIELD_VALUE and INSTRUMENTED_YIELD_VALUE
	 * (opcode.opmap of each version) */
	static const uint32_t ops[][2] = { [12] = { 150, 243 }, [13] = { 118, 241 } };
	int fd;

	if (t->py_minor >= (int)(sizeof(ops) / sizeof(ops[0])) || !ops[t->py_minor][0])
		return 0;
	fd = rt_safefile__open_proc_link(path, 0, NULL);
	if (fd < 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		uint64_t off;

		if (rt_usdt__code_table_offset(fd, "opcode_targets", ops[t->py_minor][i], &off))
			break;
		if (!rt_tracer__keep_link(t, bpf_program__attach_uprobe_opts(t->skel->progs.py_yield, t->pid,
									     path, off, &opts))) {
			int err = -errno;

			fprintf(stderr, "rt-bpf: cannot attach to YIELD_VALUE's code in %s: %s\n", path,
				strerror(errno));
			close(fd);
			return err;
		}
		t->py_yields++;
		if (t->verbose)
			fprintf(stderr, "rt-bpf: attached opcode %u's code in %s (offset 0x%" PRIx64 ")\n",
				ops[t->py_minor][i], path, off);
	}
	close(fd);
	return 0;
}

/* The fallback for a CPython without USDT probes: the eval loop's entry
 * and return, and the function that clears each returning frame: by its
 * symbol (3.11: _PyFrame_Clear, 3.12+: _PyFrame_ClearExceptCode, local
 * symbols that only an unstripped build names), else the exported
 * _PyEval_FrameClearAndPop (3.13+; an LTO build such as Debian's calls it
 * from the eval loop where it inlined the clear), else the exported
 * _PyThreadState_PopFrame (which sees no generator frame finish). */
static int attach_fallback(struct tracer *t, const char *path)
{
	const char *clear = t->py_minor >= 12 ? "_PyFrame_ClearExceptCode" : "_PyFrame_Clear";
	struct trace_bpf *s = t->skel;
	uint64_t off;
	int err;

	err = rt_tracer__attach_function(t, s->progs.py_eval_exit, path, "_PyEval_EvalFrameDefault",
					 true);
	if (!err && elf_function(path, clear, &off))
		err = rt_tracer__attach_function(t, s->progs.py_frame_clear, path, clear, false);
	else if (!err && elf_function(path, "_PyEval_FrameClearAndPop", &off))
		err = rt_tracer__attach_function(t, s->progs.py_frame_pop, path,
						 clear = "_PyEval_FrameClearAndPop", false);
	else if (!err)
		err = rt_tracer__attach_function(t, s->progs.py_frame_pop, path,
						 clear = "_PyThreadState_PopFrame", false);
	if (!err)
		err = rt_tracer__attach_function(t, s->progs.py_eval_enter, path,
						 "_PyEval_EvalFrameDefault", false);
	if (!err && t->py_minor >= 12)
		err = attach_yields(t, path);
	if (!err)
		fprintf(stderr, "rt-bpf: fallback: uprobes on _PyEval_EvalFrameDefault (entry and "
			"return) and %s in %s: the trace has the calls and returns of Python "
			"functions; no lines, return values and arguments only of frames returning "
			"to and entered from C%s (docs/trace.md)\n", clear, path,
			t->py_minor >= 12 && !t->py_yields ? "; a generator resumed and suspended by "
			"Python code without a call returning in between is one call (no opcode_targets "
			"symbol to find YIELD_VALUE's code by)" : "");
	return err;
}

/* The fallback on 2.7 and 3.6-3.10: the eval loop's entry and return
 * alone (configure_python_frames). */
static int attach_fallback_frames(struct tracer *t)
{
	/* 3.9+: (tstate, frame, throwflag); before: (frame, throwflag) */
	const char *fn = t->py_major == 2 ? "PyEval_EvalFrameEx" : "_PyEval_EvalFrameDefault";
	struct bpf_program *enter = t->py_major == 3 && t->py_minor >= 9 ? t->skel->progs.py_eval_enter :
					   t->skel->progs.py_eval_enter_f1;
	char path[PATH_MAX];
	int err;

	err = rt_trace__find_eval_loop(t->pid, path, sizeof(path));
	if (!err)
		err = rt_tracer__attach_function(t, t->skel->progs.py_eval_exit, path, fn, true);
	if (!err)
		err = rt_tracer__attach_function(t, enter, path, fn, false);
	if (!err)
		fprintf(stderr, "rt-bpf: fallback: uprobes on %s (entry and return) in %s: the trace "
			"has the calls and returns of Python functions with their arguments and "
			"return values; no lines (docs/trace.md)\n", fn, path);
	return err;
}

int rt_tracer__attach(struct tracer *t, const char *path)
{
	static const struct probe_spec py[] = {
		{ "python", "line", true },
		{ "python", "function__entry", false },
		{ "python", "function__return", false },
	};
	static const struct probe_spec rb[] = {
		{ "ruby", "method__entry", true },
		{ "ruby", "method__return", true },
		{ "ruby", "cmethod__entry", false },
		{ "ruby", "cmethod__return", false },
	};
	struct trace_bpf *s = t->skel;
	int err = 0;

	if (t->runtime == RUNTIME_PYTHON && t->py_old_frames) {
		err = attach_fallback_frames(t);
	} else if (t->runtime == RUNTIME_PYTHON && t->py_fallback) {
		err = attach_fallback(t, path);
	} else if (t->runtime == RUNTIME_PYTHON) {
		struct bpf_program *progs[] = { s->progs.py_line, s->progs.py_entry, s->progs.py_return };

		for (size_t i = 0; i < 3 && !err; i++)
			err = attach_probe(t, progs[i], path, &py[i]);
	} else {
		struct bpf_program *progs[] = { s->progs.rb_entry, s->progs.rb_return,
						s->progs.rb_centry, s->progs.rb_creturn };

		for (size_t i = 0; i < 4 && !err; i++)
			err = attach_probe(t, progs[i], path, &rb[i]);
	}
	return err ? err : rt_tracer__attach_writes(t);
}

int rt_tracer__attach_writes(struct tracer *t)
{
	struct bpf_program *progs[] = { t->skel->progs.trace_write, t->skel->progs.trace_writev };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		if (!rt_tracer__keep_link(t, bpf_program__attach(progs[i]))) {
			int err = -errno;

			fprintf(stderr, "rt-bpf: cannot attach to the %s tracepoint: %s\n",
				bpf_program__name(progs[i]), strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The target's working directory as it sees it (its root's path cut off). */
void rt_tracer__target_cwd(struct tracer *t)
{
	char link[64], root[PATH_MAX] = "", cwd[PATH_MAX] = "";
	ssize_t n;
	size_t rl;

	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)t->pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return;
	cwd[n] = 0;
	snprintf(link, sizeof(link), "/proc/%d/root", (int)t->pid);
	n = readlink(link, root, sizeof(root) - 1);
	root[n > 0 ? n : 0] = 0;
	rl = strlen(root);
	if (rl > 1 && !strncmp(cwd, root, rl) && (cwd[rl] == '/' || !cwd[rl]))
		snprintf(t->cwd, sizeof(t->cwd), "%s", cwd[rl] ? cwd + rl : "/");
	else
		snprintf(t->cwd, sizeof(t->cwd), "%s", cwd);
}
