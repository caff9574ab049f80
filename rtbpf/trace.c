/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace -o DIR (-p PID | -- CMD ARGS...)`: attaches bpf/trace.bpf.c
 * to the target's USDT probes (CPython: line, function__entry,
 * function__return; CRuby: method__entry/return, cmethod__entry/return),
 * or for a CPython without them to uprobes on its eval loop (entry and
 * return, the frame clear, 3.12+ YIELD_VALUE's code: calls and returns
 * without lines), and its writes to fds 1 and 2, and turns the records into CodeTracer's
 * trace directory (rtbpf/codetracer.h).  Python calls and returns come
 * from the frame chains (runtimes/python/frames.h).  docs/trace.md has the whole
 * mapping.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/trace.h"
#include "bpf/trace.skel.h"
#include "layouts/layout.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"
#include "rtbpf/codetracer.h"
#include "rtbpf/rtbpf.h"
#include "rtbpf/usdt.h"
#include "runtimes/python/decode.h"
#include "runtimes/python/frames.h"
#include "runtimes/python/inspect.h"
#include "runtimes/python/value.h"

#define RING_MB_DEFAULT 64
#define POLL_MS 100

enum runtime {
	RUNTIME_NONE,
	RUNTIME_PYTHON,
	RUNTIME_RUBY,
};

/* What is known of a code object from its RT_TRACE_PY_CODE record. */
struct code_info {
	uint64_t code;
	int64_t path_id, function_id;
	uint32_t nr_args;
	int64_t arg_vars[RT_TRACE_MAX_ARGS];
	uint32_t firstlineno, firsttraceable;
	/* its first instruction after RESUME is on the def line, where the
	 * line probe (unlike sys.settrace) does not fire: see py_call */
	bool starts_on_def_line;
	bool generator;       /* generator, coroutine or async generator code */
};

/* A type object's name (RT_TRACE_PY_TYPE). */
struct type_info {
	uint64_t type;
	char name[RT_TRACE_TYPE_NAME_MAX];
};

/* Arguments read for a thread's next event; the value its eval loop
 * returned, for its next EVAL_EXIT event. */
struct pending_args {
	uint32_t tid;
	bool valid;
	struct rt_trace_py_args rec;
	bool ret_valid;
	struct rt_trace_py_arg ret;
};

/* A Ruby method on a thread's shadow stack (for the return's check). */
struct rb_thread {
	uint32_t tid;
	size_t depth;
};

struct tracer {
	struct trace_bpf *skel;
	struct ring_buffer *ring;
	struct rt_ctrace *out;
	struct rt_pyframes *frames;
	enum runtime runtime;
	pid_t pid;
	bool child;           /* pid is our child (-- CMD) */
	int root_fd;          /* the target's root directory, kept past its exit */
	char cwd[PATH_MAX];   /* the target's working directory, as it sees it */
	const struct rt_layout *layout;
	struct rt_layout py_layout;
	/* code and type objects by address: open addressing, power-of-two sizes */
	struct code_info *codes;
	size_t codes_cap, nr_codes;
	struct type_info *types;
	size_t types_cap, nr_types;
	struct pending_args *pending;
	size_t nr_pending;
	struct rb_thread *rb_threads;
	size_t nr_rb_threads;
	uint32_t last_tid;
	/* CPython without USDT probes: uprobes on the eval loop (docs/trace.md) */
	bool py_fallback;
	bool py_old_frames;   /* <= 3.10: PyFrameObjects, one eval call per frame */
	int py_major, py_minor;
	/* at an EVAL_EXIT event: the value, for the frame returning to ret_caller */
	const struct rt_trace_py_arg *ret;
	uint64_t ret_caller;
	int py_yields;        /* uprobes on YIELD_VALUE's code (3.12+) */
	uint32_t probe;       /* the Python event being applied */
	int32_t line;
	int64_t unknown_type, noreturn_type;
	/* counts */
	uint64_t py_events, rb_events, writes, lost_marked, calls, returns, rb_unmatched;
	uint64_t rb_method_entries, rb_cmethod_entries;
	bool verbose;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* ---- the target's files ---- */

/* Whether ELF file @path (a /proc link or a path in this root) has USDT
 * probe @provider:@name. */
static bool elf_has_probe(const char *path, const char *provider, const char *name)
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
static int find_library(pid_t pid, const char *exe, const char *prefix, char *out, size_t size)
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

/* ---- tables of code and type objects ---- */

static struct code_info *code_find(struct tracer *t, uint64_t code, bool add)
{
	size_t i;

	if (add && (t->nr_codes + 1) * 2 > t->codes_cap) {
		size_t cap = t->codes_cap ? t->codes_cap * 2 : 256;
		struct code_info *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < t->codes_cap; j++) {
			if (!t->codes[j].code)
				continue;
			for (i = rt_hash64(t->codes[j].code) & (cap - 1); n[i].code; i = (i + 1) & (cap - 1))
				;
			n[i] = t->codes[j];
		}
		free(t->codes);
		t->codes = n;
		t->codes_cap = cap;
	}
	if (!t->codes_cap)
		return NULL;
	for (i = rt_hash64(code) & (t->codes_cap - 1); t->codes[i].code; i = (i + 1) & (t->codes_cap - 1))
		if (t->codes[i].code == code)
			return &t->codes[i];
	if (!add)
		return NULL;
	t->nr_codes++;
	t->codes[i].code = code;
	return &t->codes[i];
}

static struct type_info *type_find(struct tracer *t, uint64_t type, bool add)
{
	size_t i;

	if (add && (t->nr_types + 1) * 2 > t->types_cap) {
		size_t cap = t->types_cap ? t->types_cap * 2 : 64;
		struct type_info *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < t->types_cap; j++) {
			if (!t->types[j].type)
				continue;
			for (i = rt_hash64(t->types[j].type) & (cap - 1); n[i].type; i = (i + 1) & (cap - 1))
				;
			n[i] = t->types[j];
		}
		free(t->types);
		t->types = n;
		t->types_cap = cap;
	}
	if (!t->types_cap)
		return NULL;
	for (i = rt_hash64(type) & (t->types_cap - 1); t->types[i].type; i = (i + 1) & (t->types_cap - 1))
		if (t->types[i].type == type)
			return &t->types[i];
	if (!add)
		return NULL;
	t->nr_types++;
	t->types[i].type = type;
	return &t->types[i];
}

/* ---- paths and source files ---- */

/* The path id of source @name as the target named it: relative names are
 * taken from the target's working directory; a file that exists in the
 * target's root is copied into files/ the first time. */
static int64_t source_path(struct tracer *t, const char *name)
{
	char path[PATH_MAX * 2];
	int64_t id;
	int fd = -1;

	if (name[0] && name[0] != '/' && name[0] != '<' && t->cwd[0])
		snprintf(path, sizeof(path), "%s/%s", t->cwd, name);
	else
		snprintf(path, sizeof(path), "%s", name[0] ? name : "<unknown>");
	if (rt_ctrace__has_path(t->out, path))
		return rt_ctrace__path(t->out, path, -1);
	if (path[0] == '/' && t->root_fd >= 0)
		fd = rt_safefile__open_at_root(t->root_fd, path, 64u << 20, NULL);
	id = rt_ctrace__path(t->out, path, fd);
	if (fd >= 0)
		close(fd);
	return id;
}

/* ---- Python records ---- */

/* A str as the BPF program read it (kind 1, 2 or 4 bytes per character),
 * as UTF-8 into @out. */
static void str_utf8(const struct rt_trace_str_info *info, const __u8 *bytes, char *out, size_t size)
{
	size_t o = 0, kind = info->kind;

	out[0] = 0;
	if (kind != 1 && kind != 2 && kind != 4)
		return;
	for (size_t i = 0; i + kind <= info->nbytes; i += kind) {
		uint32_t c = bytes[i];
		char enc[4];
		size_t n;

		if (kind == 2)
			c |= (uint32_t)bytes[i + 1] << 8;
		else if (kind == 4)
			c |= (uint32_t)bytes[i + 1] << 8 | (uint32_t)bytes[i + 2] << 16 |
			     (uint32_t)bytes[i + 3] << 24;
		if (c < 0x80) {
			enc[0] = (char)c;
			n = 1;
		} else if (c < 0x800) {
			enc[0] = (char)(0xc0 | c >> 6);
			enc[1] = (char)(0x80 | (c & 0x3f));
			n = 2;
		} else if (c < 0x10000) {
			enc[0] = (char)(0xe0 | c >> 12);
			enc[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			enc[2] = (char)(0x80 | (c & 0x3f));
			n = 3;
		} else {
			enc[0] = (char)(0xf0 | (c >> 18 & 7));
			enc[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			enc[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			enc[3] = (char)(0x80 | (c & 0x3f));
			n = 4;
		}
		if (o + n + 1 > size)
			break;
		memcpy(out + o, enc, n);
		o += n;
	}
	out[o] = 0;
}

static void py_code(struct tracer *t, const struct rt_trace_py_code *rec)
{
	struct code_info *ci = code_find(t, rec->code, true);
	char name[RT_TRACE_NAME_MAX * 4], file[RT_TRACE_PATH_MAX * 4];
	int64_t path_id;

	if (!ci)
		return;
	str_utf8(&rec->qualname_info, rec->qualname, name, sizeof(name));
	if (!name[0])
		str_utf8(&rec->name_info, rec->name, name, sizeof(name));
	str_utf8(&rec->filename_info, rec->filename, file, sizeof(file));
	path_id = source_path(t, file);
	ci->path_id = path_id;
	ci->function_id = path_id >= 0 ?
			  rt_ctrace__function(t->out, (uint32_t)path_id, rec->firstlineno,
					      name[0] ? name : "<unknown>") : -1;
	ci->firstlineno = rec->firstlineno;
	ci->firsttraceable = rec->firsttraceable;
	/* CO_GENERATOR, CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR */
	ci->generator = (rec->co_flags & (0x20 | 0x80 | 0x100 | 0x200)) != 0;
	ci->starts_on_def_line =
		rec->linetable_nbytes && rec->linetable_nbytes <= RT_TRACE_LINETABLE_HEAD &&
		rt_interp_linetable311__line(rec->linetable, rec->linetable_nbytes,
					     (int)rec->firstlineno, rec->firsttraceable + 1) ==
			(int)rec->firstlineno;
	ci->nr_args = rec->argcount < RT_TRACE_MAX_ARGS ? rec->argcount : RT_TRACE_MAX_ARGS;
	for (uint32_t i = 0; i < ci->nr_args; i++) {
		char arg[RT_TRACE_ARGNAME_MAX * 4];

		str_utf8(&rec->argname_info[i], rec->argnames[i], arg, sizeof(arg));
		if (!arg[0])
			snprintf(arg, sizeof(arg), "arg%u", i);
		ci->arg_vars[i] = rt_ctrace__variable(t->out, arg);
	}
}

static struct pending_args *pending_for(struct tracer *t, uint32_t tid)
{
	struct pending_args *p;

	for (size_t i = 0; i < t->nr_pending; i++)
		if (t->pending[i].tid == tid)
			return &t->pending[i];
	p = realloc(t->pending, (t->nr_pending + 1) * sizeof(*p));
	if (!p)
		return NULL;
	t->pending = p;
	p = &t->pending[t->nr_pending++];
	memset(p, 0, sizeof(*p));
	p->tid = tid;
	return p;
}

/* The value of argument or return value @a (runtimes/python/value.h):
 * int, bool, float, None and short compact ASCII str as themselves;
 * anything else is Raw with its type's name, NULL (an exception) Error. */
static void py_value(struct tracer *t, const struct rt_trace_py_arg *a, struct rt_ctrace_value *v,
		     char *text, size_t text_size)
{
	const struct type_info *ti = a->type ? type_find(t, a->type, false) : NULL;
	const char *tn = ti && ti->name[0] ? ti->name : "object";
	struct rt_pyvalue pv;

	memset(v, 0, sizeof(*v));
	if (!a->object) {
		v->kind = RT_CTRACE_VALUE_RAW;
		v->text = "<unset>";
		v->len = 7;
		v->type_id = (uint32_t)t->unknown_type;
		return;
	}
	switch (rt_pyvalue__decode(&t->py_layout.cpython, t->py_major, t->py_minor, tn, a->data,
				   sizeof(a->data), &pv)) {
	case RT_PYVALUE_NONE:
		v->kind = RT_CTRACE_VALUE_NONE;
		v->type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_NONE, "NoneType");
		return;
	case RT_PYVALUE_INT:
		v->kind = RT_CTRACE_VALUE_INT;
		v->i = pv.i;
		v->type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_INT, "int");
		return;
	case RT_PYVALUE_BOOL:
		v->kind = RT_CTRACE_VALUE_BOOL;
		v->b = pv.i != 0;
		v->type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_BOOL, "bool");
		return;
	case RT_PYVALUE_FLOAT:
		v->kind = RT_CTRACE_VALUE_FLOAT;
		v->f = pv.f;
		v->type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_FLOAT, "float");
		return;
	case RT_PYVALUE_STR:
		if (pv.len < text_size) {
			memcpy(text, pv.text, pv.len);
			v->kind = RT_CTRACE_VALUE_STRING;
			v->text = text;
			v->len = pv.len;
			v->type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_STRING, "str");
			return;
		}
		break;
	case RT_PYVALUE_OTHER:
		break;
	}
	v->kind = RT_CTRACE_VALUE_RAW;
	snprintf(text, text_size, "<%s>", tn);
	v->text = text;
	v->len = strlen(text);
	v->type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_RAW, tn);
}

/* Marks thread @tid in the trace when it is not the last one written. */
static void thread_mark(struct tracer *t, uint32_t tid)
{
	char text[32];

	if (tid == t->last_tid)
		return;
	t->last_tid = tid;
	snprintf(text, sizeof(text), "%u", tid);
	rt_ctrace__event(t->out, RT_CTRACE_EVENT_TRACE_LOG, "thread", text, strlen(text));
}

/*
 * Whether the call of @e (code @ci) starts on its def line without a line
 * probe there: sys.settrace reports the first line a fresh frame executes,
 * the line probe only a line that differs from the previous instruction's
 * (RESUME's, on the def line), so `def f(x): return x` never fires it.  The
 * Step is added when the frame is fresh: called through function__entry
 * before its first instruction, pushed by a line event on a later line, or
 * found already calling further (a caller in the chain).
 */
static bool def_line_missing(const struct tracer *t, const struct code_info *ci,
			     const struct rt_pyframes_entry *e, int newest)
{
	if (!ci->starts_on_def_line || t->py_fallback)
		return false;
	if (!newest)
		return !(e->flags & RT_TRACE_FRAME_GENERATOR);
	if (t->probe == RT_TRACE_PROBE_PY_ENTRY) {
		int64_t index = ((int64_t)e->instr - (int64_t)(e->code + t->py_layout.cpython.code_code_adaptive)) / 2;

		return index <= (int64_t)ci->firsttraceable; /* at or before RESUME */
	}
	return t->probe == RT_TRACE_PROBE_LINE && t->line != (int32_t)ci->firstlineno &&
	       !(e->flags & RT_TRACE_FRAME_GENERATOR);
}

/*
 * Whether shadow entry @e is no call sys.settrace reports: an entry shim,
 * or a generator function's own frame, which runs no further than
 * RETURN_GENERATOR (before RESUME) and hands its state to the generator's
 * frame; the fallback sees it when C called the generator function
 * (map(genfunc, ...)): the eval loop is entered for it.
 */
static bool not_a_call(struct tracer *t, const struct rt_pyframes_entry *e)
{
	const struct code_info *ci;

	if (e->flags & RT_TRACE_FRAME_SHIM)
		return true;
	if (t->py_old_frames)
		return false; /* a generator function's call runs no frame there */
	ci = code_find(t, e->code, false);
	return ci && ci->generator && !(e->flags & RT_TRACE_FRAME_GENERATOR);
}

/* A frame was called (rt_pyframes ops). */
static void py_call(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e, int newest)
{
	struct tracer *t = ctx;
	const struct code_info *ci = code_find(t, e->code, false);
	struct pending_args *p = newest ? pending_for(t, tid) : NULL;
	struct rt_ctrace_arg args[RT_TRACE_MAX_ARGS];
	char texts[RT_TRACE_MAX_ARGS][RT_TRACE_ARG_BYTES + 16];
	size_t nr = 0;
	int64_t fid;

	if (not_a_call(t, e))
		return;
	fid = ci ? ci->function_id : -1;
	if (fid < 0) {
		int64_t path = rt_ctrace__path(t->out, "<unknown>", -1);

		fid = path < 0 ? -1 : rt_ctrace__function(t->out, (uint32_t)path, 0, "<unknown>");
		if (fid < 0)
			return;
	}
	if (ci && p && p->valid && p->rec.frame == e->frame && p->rec.code == e->code) {
		for (uint32_t i = 0; i < p->rec.nr_args && i < ci->nr_args; i++) {
			args[nr].variable_id = (uint32_t)ci->arg_vars[i];
			py_value(t, &p->rec.args[i], &args[nr].value, texts[nr], sizeof(texts[nr]));
			nr++;
		}
	}
	t->calls++;
	rt_ctrace__call(t->out, (uint32_t)fid, args, nr);
	/* the fallback has no lines: its one Step per call, on the def line
	 * (the line of the frame's first instruction, RESUME, and of
	 * sys.settrace's call event), gives a reader a place */
	if (ci && ci->path_id >= 0 && (t->py_fallback || def_line_missing(t, ci, e, newest)))
		rt_ctrace__step(t->out, (uint32_t)ci->path_id, ci->firstlineno);
}

/* A frame returned (rt_pyframes ops): with its value when it returned to
 * C at an EVAL_EXIT event (the frame returning to the event's current
 * frame; frames above it returned unseen, beyond the uretprobes' nesting
 * limit), else without. */
static void py_return(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e)
{
	struct tracer *t = ctx;
	struct rt_ctrace_value v = { .kind = RT_CTRACE_VALUE_NONE };
	char text[RT_TRACE_ARG_BYTES + 16];

	if (t->ret && e->caller == t->ret_caller) {
		if (t->ret->object) {
			py_value(t, t->ret, &v, text, sizeof(text));
		} else {
			v.kind = RT_CTRACE_VALUE_ERROR;
			v.text = "<exception>";
			v.len = strlen(v.text);
			v.type_id = (uint32_t)rt_ctrace__type(t->out, RT_CTRACE_TYPE_ERROR, "<exception>");
		}
		t->ret = NULL;
	} else {
		v.type_id = (uint32_t)t->noreturn_type;
	}
	if (not_a_call(t, e))
		return;
	t->returns++;
	rt_ctrace__return(t->out, &v);
}

static void lost_mark(struct tracer *t, const struct rt_trace_header *hdr)
{
	char text[128];

	if (!hdr->lost)
		return;
	snprintf(text, sizeof(text), "%u records of thread %u lost here: the ring buffer was full",
		 hdr->lost, hdr->tid);
	rt_ctrace__event(t->out, RT_CTRACE_EVENT_ERROR, "lost", text, strlen(text));
	t->lost_marked += hdr->lost;
}

static void py_event(struct tracer *t, const struct rt_trace_py_event *ev, size_t size)
{
	uint32_t n = ev->nr_frames;
	struct pending_args *p;

	if (n > RT_TRACE_MAX_CHAIN || size < sizeof(*ev) - sizeof(ev->frames) + n * sizeof(ev->frames[0]))
		return;
	t->py_events++;
	thread_mark(t, ev->hdr.tid);
	lost_mark(t, &ev->hdr);
	t->probe = ev->probe;
	t->line = ev->line;
	p = pending_for(t, ev->hdr.tid);
	/* records lost just before: the value may be another return's */
	if (p && p->ret_valid && ev->probe == RT_TRACE_PROBE_PY_EVAL_EXIT && !ev->hdr.lost) {
		t->ret = &p->ret;
		t->ret_caller = n ? ev->frames[0].frame : 0;
	}
	rt_pyframes__event(t->frames, ev->hdr.tid, ev->probe, ev->frames, n, ev->flags);
	t->ret = NULL;
	if (p) {
		p->valid = false;
		p->ret_valid = false;
	}
	if (ev->probe == RT_TRACE_PROBE_LINE && n) {
		const struct code_info *ci = code_find(t, ev->frames[0].code, false);

		if (ci && ci->path_id >= 0)
			rt_ctrace__step(t->out, (uint32_t)ci->path_id, ev->line);
	}
}

/* ---- Ruby records ---- */

static struct rb_thread *rb_thread(struct tracer *t, uint32_t tid)
{
	struct rb_thread *r;

	for (size_t i = 0; i < t->nr_rb_threads; i++)
		if (t->rb_threads[i].tid == tid)
			return &t->rb_threads[i];
	r = realloc(t->rb_threads, (t->nr_rb_threads + 1) * sizeof(*r));
	if (!r)
		return NULL;
	t->rb_threads = r;
	r = &t->rb_threads[t->nr_rb_threads++];
	r->tid = tid;
	r->depth = 0;
	return r;
}

static void cstr(char *dst, const __u8 *src, size_t max)
{
	memcpy(dst, src, max);
	dst[max - 1] = 0;
}

/* method__entry and cmethod__entry become a Call of "Class#method" (the
 * probe's file and line: the Ruby method's own for a Ruby method, the
 * caller's for a C method) and a Step there; the returns a Return. */
static void rb_event(struct tracer *t, const struct rt_trace_rb_event *ev)
{
	char klass[RT_TRACE_RB_CLASS_MAX], method[RT_TRACE_RB_METHOD_MAX], file[RT_TRACE_RB_FILE_MAX];
	char name[RT_TRACE_RB_CLASS_MAX + RT_TRACE_RB_METHOD_MAX + 2];
	struct rb_thread *th = rb_thread(t, ev->hdr.tid);
	int64_t path, fid;

	if (!th)
		return;
	t->rb_events++;
	thread_mark(t, ev->hdr.tid);
	lost_mark(t, &ev->hdr);
	if (ev->probe == RT_TRACE_PROBE_RB_RETURN || ev->probe == RT_TRACE_PROBE_RB_CRETURN) {
		struct rt_ctrace_value v = { .kind = RT_CTRACE_VALUE_NONE };

		if (!th->depth) {
			t->rb_unmatched++; /* a method that was running before the probes */
			return;
		}
		th->depth--;
		v.type_id = (uint32_t)t->noreturn_type;
		t->returns++;
		rt_ctrace__return(t->out, &v);
		return;
	}
	if (ev->probe == RT_TRACE_PROBE_RB_ENTRY)
		t->rb_method_entries++;
	else
		t->rb_cmethod_entries++;
	cstr(klass, ev->klass, sizeof(klass));
	cstr(method, ev->method, sizeof(method));
	cstr(file, ev->file, sizeof(file));
	snprintf(name, sizeof(name), "%s#%s", klass, method);
	path = source_path(t, file);
	if (path < 0)
		return;
	fid = rt_ctrace__function(t->out, (uint32_t)path, ev->line, name);
	if (fid < 0)
		return;
	th->depth++;
	t->calls++;
	rt_ctrace__call(t->out, (uint32_t)fid, NULL, 0);
	rt_ctrace__step(t->out, (uint32_t)path, ev->line);
}

static void write_event(struct tracer *t, const struct rt_trace_write *w, size_t size)
{
	char meta[96];
	size_t n = w->nbytes;

	if (n > RT_TRACE_WRITE_MAX || size < sizeof(*w) - RT_TRACE_WRITE_MAX + n)
		return;
	t->writes++;
	thread_mark(t, w->hdr.tid);
	lost_mark(t, &w->hdr);
	if ((uint64_t)n < w->count)
		snprintf(meta, sizeof(meta), "fd %u, %" PRIu64 " bytes, the first %zu recorded", w->fd,
			 (uint64_t)w->count, n);
	else
		snprintf(meta, sizeof(meta), "fd %u", w->fd);
	rt_ctrace__event(t->out, RT_CTRACE_EVENT_WRITE, meta, w->data, n);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct rt_trace_header *hdr = data;

	if (size < sizeof(*hdr) || hdr->size > size)
		return 0;
	switch (hdr->type) {
	case RT_TRACE_PY_EVENT:
		py_event(t, data, size);
		break;
	case RT_TRACE_PY_CODE:
		if (size >= sizeof(struct rt_trace_py_code)) {
			lost_mark(t, hdr);
			py_code(t, data);
		}
		break;
	case RT_TRACE_PY_TYPE:
		if (size >= sizeof(struct rt_trace_py_type)) {
			const struct rt_trace_py_type *ty = data;
			struct type_info *ti = type_find(t, ty->type, true);

			lost_mark(t, hdr);
			if (ti)
				cstr(ti->name, ty->name, sizeof(ti->name));
		}
		break;
	case RT_TRACE_PY_ARGS:
		if (size >= sizeof(struct rt_trace_py_args)) {
			struct pending_args *p = pending_for(t, hdr->tid);

			lost_mark(t, hdr);
			if (p) {
				memcpy(&p->rec, data, sizeof(p->rec));
				p->valid = true;
			}
		}
		break;
	case RT_TRACE_PY_RETVAL:
		if (size >= sizeof(struct rt_trace_py_retval)) {
			struct pending_args *p = pending_for(t, hdr->tid);

			lost_mark(t, hdr);
			if (p) {
				memcpy(&p->ret, &((const struct rt_trace_py_retval *)data)->value, sizeof(p->ret));
				p->ret_valid = true;
			}
		}
		break;
	case RT_TRACE_RB_EVENT:
		if (size >= sizeof(struct rt_trace_rb_event))
			rb_event(t, data);
		break;
	case RT_TRACE_WRITE:
		write_event(t, data, size);
		break;
	}
	return 0;
}

/* ---- the target ---- */

/* Starts @argv stopped right after its exec (ptrace), so that the probes
 * are attached before its first instruction.  Returns the pid or -errno. */
static pid_t start_stopped(char **argv)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (!pid) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
			execvp(argv[0], argv);
		fprintf(stderr, "rt-bpf: cannot run %s: %s\n", argv[0], strerror(errno));
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
static enum runtime find_runtime(pid_t pid, char *probes, size_t size)
{
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (elf_has_probe(exe, "python", "line")) {
		snprintf(probes, size, "%s", exe);
		return RUNTIME_PYTHON;
	}
	if (!find_library(pid, exe, "libpython", probes, size) &&
	    elf_has_probe(probes, "python", "line"))
		return RUNTIME_PYTHON;
	if (elf_has_probe(exe, "ruby", "method__entry")) {
		snprintf(probes, size, "%s", exe);
		return RUNTIME_RUBY;
	}
	if (!find_library(pid, exe, "libruby", probes, size) &&
	    elf_has_probe(probes, "ruby", "method__entry"))
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
static int find_eval_loop(pid_t pid, char *path, size_t size)
{
	char exe[64];
	uint64_t off;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (elf_function(exe, "_PyEval_EvalFrameDefault", &off) ||
	    elf_function(exe, "PyEval_EvalFrameEx", &off)) {
		snprintf(path, size, "%s", exe);
		return 0;
	}
	if (!find_library(pid, exe, "libpython", path, size) &&
	    (elf_function(path, "_PyEval_EvalFrameDefault", &off) ||
	     elf_function(path, "PyEval_EvalFrameEx", &off)))
		return 0;
	return -ENOENT;
}

/* Lets child @pid, stopped at its exec, run to its executable's entry
 * point (AT_ENTRY): the dynamic loader has then mapped its libraries (a
 * libpython whose _PyRuntime the configuration needs) and no code of the
 * program has run.  A breakpoint there, removed again. */
static int run_to_entry(pid_t pid)
{
	char path[64];
	uint64_t auxv[2], entry = 0;
	struct user_regs_struct regs;
	long word;
	int fd, status;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, auxv, sizeof(auxv)) == sizeof(auxv) && auxv[0] != AT_NULL)
		if (auxv[0] == AT_ENTRY)
			entry = auxv[1];
	close(fd);
	if (!entry)
		return -ENOEXEC;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc)) ||
	    ptrace(PTRACE_CONT, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
		return -ECHILD;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)word) ||
	    ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return -errno;
	regs.rip = entry;
	return ptrace(PTRACE_SETREGS, pid, NULL, &regs) ? -errno : 0;
}

static int configure_python_map(struct tracer *t, const struct rt_trace_py_config *cfg,
				const struct rt_pyproc *proc);
static int configure_python_frames(struct tracer *t, struct rt_trace_py_config *cfg,
				   const struct rt_pyproc *proc);

/* Configures the Python programs for the target: its _PyRuntime and the
 * layout of its version, plus the argument offsets (2.7, 3.6-3.11). */
static int configure_python(struct tracer *t)
{
	struct rt_trace_py_config cfg = {};
	const struct rt_layout *table;
	struct rt_pyproc proc;
	char msg[256] = "";
	int err;

	err = rt_runtime__inspect(&rt_runtime_cpython, NULL, t->pid, &proc.base);
	if (err) {
		fprintf(stderr, "rt-bpf: pid %d: cannot find CPython's _PyRuntime in it (%s)\n", t->pid,
			strerror(-err));
		return err;
	}
	table = rt_layout__find(RT_RUNTIME_CPYTHON, proc.base.major, proc.base.minor, proc.base.patch);
	err = rt_pyproc__layout(&proc, table, &t->py_layout, msg, sizeof(msg));
	if (err || rt_pyproc__walker_config(&proc, &t->py_layout, 1, &cfg.walker)) {
		fprintf(stderr, "rt-bpf: pid %d runs CPython %d.%d.%d, which rt-bpf has no layout for%s%s\n",
			t->pid, proc.base.major, proc.base.minor, proc.base.patch, msg[0] ? ": " : "", msg);
		return err ? err : -ENOTSUP;
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
		if (find_eval_loop(t->pid, path, sizeof(path))) {
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

/* Attaches @prog to probe @spec of @path in the target. */
static int attach_probe(struct tracer *t, struct bpf_program *prog, const char *path,
			const struct probe_spec *spec)
{
	struct bpf_link *link;

	if (!elf_has_probe(path, spec->provider, spec->name)) {
		if (spec->required) {
			fprintf(stderr, "rt-bpf: %s has no USDT probe %s:%s\n", path, spec->provider,
				spec->name);
			return -ENOENT;
		}
		fprintf(stderr, "rt-bpf: %s has no USDT probe %s:%s; going on without it\n", path,
			spec->provider, spec->name);
		return 0;
	}
	link = bpf_program__attach_usdt(prog, t->pid, path, spec->provider, spec->name, NULL);
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
static int attach_function(struct tracer *t, struct bpf_program *prog, const char *path,
			   const char *fn, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link;
	uint64_t off;

	if (!elf_function(path, fn, &off)) {
		fprintf(stderr, "rt-bpf: %s has no function %s\n", path, fn);
		return -ENOENT;
	}
	link = bpf_program__attach_uprobe_opts(prog, t->pid, path, off, &opts);
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
		if (!bpf_program__attach_uprobe_opts(t->skel->progs.py_yield, t->pid, path, off, &opts)) {
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

	err = attach_function(t, s->progs.py_eval_exit, path, "_PyEval_EvalFrameDefault", true);
	if (!err && elf_function(path, clear, &off))
		err = attach_function(t, s->progs.py_frame_clear, path, clear, false);
	else if (!err && elf_function(path, "_PyEval_FrameClearAndPop", &off))
		err = attach_function(t, s->progs.py_frame_pop, path, clear = "_PyEval_FrameClearAndPop",
				      false);
	else if (!err)
		err = attach_function(t, s->progs.py_frame_pop, path, clear = "_PyThreadState_PopFrame",
				      false);
	if (!err)
		err = attach_function(t, s->progs.py_eval_enter, path, "_PyEval_EvalFrameDefault", false);
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

	err = find_eval_loop(t->pid, path, sizeof(path));
	if (!err)
		err = attach_function(t, t->skel->progs.py_eval_exit, path, fn, true);
	if (!err)
		err = attach_function(t, enter, path, fn, false);
	if (!err)
		fprintf(stderr, "rt-bpf: fallback: uprobes on %s (entry and return) in %s: the trace "
			"has the calls and returns of Python functions with their arguments and "
			"return values; no lines (docs/trace.md)\n", fn, path);
	return err;
}

static int attach(struct tracer *t, const char *path)
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
	if (!err && !bpf_program__attach(s->progs.trace_write)) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot attach to the write tracepoint: %s\n", strerror(errno));
	}
	return err;
}

/* The target's working directory as it sees it (its root's path cut off). */
static void target_cwd(struct tracer *t)
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

static uint64_t stat_sum(struct tracer *t, __u32 stat)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	__u64 *v;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stats), &stat, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* Runs until the target exits (or Ctrl-C), consuming the ring.  Returns
 * the target's exit status for a child, else 0. */
static int run(struct tracer *t)
{
	int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0), status = 0;
	bool forwarded = false;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ring_buffer__epoll_fd(t->ring), .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};

		poll(pfd, pidfd >= 0 ? 2 : 1, POLL_MS);
		ring_buffer__consume(t->ring);
		rt_ctrace__flush(t->out);
		if (interrupted && (!t->child || !forwarded)) {
			if (!t->child)
				break;
			kill(t->pid, interrupted);
			forwarded = true;
		}
		if (pidfd >= 0 ? (pfd[1].revents & (POLLIN | POLLHUP)) != 0 :
				 kill(t->pid, 0) && errno == ESRCH)
			break;
	}
	/* what the target sent before it ended */
	ring_buffer__consume(t->ring);
	if (t->child && waitpid(t->pid, &status, 0) == t->pid)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	ring_buffer__consume(t->ring);
	if (pidfd >= 0)
		close(pidfd);
	return t->child ? status : 0;
}

static void tracer_report(struct tracer *t)
{
	uint64_t sent = stat_sum(t, RT_TRACE_STAT_EVENTS), lost = stat_sum(t, RT_TRACE_STAT_LOST);

	/* losses no later record of the same thread reported */
	if (lost > t->lost_marked) {
		char text[128];

		snprintf(text, sizeof(text), "%" PRIu64 " records lost at the end: the ring buffer was full",
			 lost - t->lost_marked);
		rt_ctrace__event(t->out, RT_CTRACE_EVENT_ERROR, "lost", text, strlen(text));
	}
	fprintf(stderr, "rt-bpf: trace: %" PRIu64 " records (%" PRIu64 " Python events, %" PRIu64
		" Ruby events, %" PRIu64 " writes), %" PRIu64 " calls, %" PRIu64 " returns, %" PRIu64
		" trace.json entries\n", sent, t->py_events, t->rb_events, t->writes, t->calls,
		t->returns, rt_ctrace__records(t->out));
	if (lost)
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " records lost (the ring buffer was full; "
			"raise -b): marked in the trace as Error events\n", lost);
	if (stat_sum(t, RT_TRACE_STAT_NO_CONFIG))
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " Python events before the process was "
			"configured\n", stat_sum(t, RT_TRACE_STAT_NO_CONFIG));
	if (stat_sum(t, RT_TRACE_STAT_NO_TSTATE) || stat_sum(t, RT_TRACE_STAT_READ_FAULT))
		fprintf(stderr, "rt-bpf: warning: %" PRIu64 " Python events without a thread state, %"
			PRIu64 " frame walks cut by a read fault\n", stat_sum(t, RT_TRACE_STAT_NO_TSTATE),
			stat_sum(t, RT_TRACE_STAT_READ_FAULT));
	if (t->runtime == RUNTIME_RUBY && !t->rb_method_entries && t->rb_cmethod_entries)
		fprintf(stderr, "rt-bpf: warning: ruby:method__entry never fired: CRuby 2.5 and later "
			"fire it only while the VM's call events are on (a TracePoint enabled in the "
			"process); this trace has C methods only (docs/trace.md)\n");
	if (t->rb_unmatched)
		fprintf(stderr, "rt-bpf: %" PRIu64 " Ruby returns of methods entered before tracing "
			"began\n", t->rb_unmatched);
}

struct trace_opts {
	const char *dir;
	unsigned long ring_mb;
};

static const struct option trace_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "buffer", required_argument, NULL, 'b' },
	{ 0 },
};

static void trace_init(void *opts)
{
	struct trace_opts *o = opts;

	o->ring_mb = RING_MB_DEFAULT;
}

static int trace_option(void *opts, int c, const char *arg)
{
	struct trace_opts *o = opts;

	switch (c) {
	case 'o':
		o->dir = arg;
		return 0;
	case 'b':
		o->ring_mb = strtoul(arg, NULL, 10);
		if (o->ring_mb < 1 || o->ring_mb > 4096 || (o->ring_mb & (o->ring_mb - 1))) {
			fprintf(stderr, "rt-bpf trace: -b takes a power of two from 1 to 4096 (MB)\n");
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static int trace_check(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct trace_opts *o = opts;

	if (!o->dir || (argc > 0) + (app->nr_pids > 0) != 1 || app->nr_pids > 1) {
		fprintf(stderr, "rt-bpf trace: give -o DIR and exactly one of -p PID, -- CMD ARGS\n");
		return -EINVAL;
	}
	return 0;
}

static int trace_run(struct rt_bpf_app *app, void *opts, int argc, char **argv)
{
	const struct trace_opts *o = opts;
	struct tracer t = { .root_fd = -1, .verbose = app->verbose };
	struct rt_pyframes_ops ops = { .call = py_call, .ret = py_return, .ctx = &t };
	const char *dir = o->dir;
	char probes[PATH_MAX], workdir[PATH_MAX] = "", program[PATH_MAX] = "";
	unsigned long ring_mb = o->ring_mb;
	char **cmd = argc > 0 ? argv : NULL;
	int err = 0, status = 0, cmd_argc = argc;

	t.pid = app->nr_pids ? app->pids[0] : 0;
	err = rt_bpf__preflight(false);
	if (err)
		return err;
	if (t.pid && kill(t.pid, 0) && errno == ESRCH) {
		fprintf(stderr, "rt-bpf trace: no process %d\n", t.pid);
		return -ESRCH;
	}
	if (cmd) {
		t.pid = start_stopped(cmd);
		if (t.pid < 0)
			return t.pid;
		t.child = true;
		/* its libraries mapped (the libpython or libruby whose probes and
		 * symbols count, found where the loader found it), none of its
		 * code run */
		err = run_to_entry(t.pid);
		if (err) {
			fprintf(stderr, "rt-bpf: cannot run pid %d to its entry point: %s\n", t.pid,
				strerror(-err));
			goto out;
		}
	}
	t.runtime = find_runtime(t.pid, probes, sizeof(probes));
	if (t.runtime == RUNTIME_NONE) {
		char exe[64];
		bool partial;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)t.pid);
		partial = elf_has_probe(exe, "python", "audit") || elf_has_probe(exe, "python", "gc__start");
		if (!find_eval_loop(t.pid, probes, sizeof(probes))) {
			t.runtime = RUNTIME_PYTHON;
			t.py_fallback = true;
			fprintf(stderr, "rt-bpf: pid %d runs a CPython %s: falling back to uprobes on its "
				"eval loop\n", t.pid, partial ? "whose USDT probes lack python:line and the "
				"function probes (3.12 and later keep only audit, gc and import probes)" :
				"without USDT probes (built without --with-dtrace)");
		} else {
			fprintf(stderr, "rt-bpf: pid %d is neither CPython nor CRuby with USDT probes (no "
				"python:line or ruby:method__entry probe in its executable or its "
				"libpython/libruby), nor a CPython whose eval loop is a symbol "
				"(_PyEval_EvalFrameDefault): a build without --enable-dtrace (Ruby), or a "
				"wrapper (CMD must be the interpreter itself), cannot be traced; rt-bpf "
				"record samples it instead\n", t.pid);
			err = -ENOTSUP;
		}
		if (err)
			goto out;
	}
	target_cwd(&t);
	t.root_fd = rt_safefile__open_root(t.pid);
	t.skel = trace_bpf__open();
	if (!t.skel) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot open the trace program: %s\n", strerror(errno));
		goto out;
	}
	t.skel->rodata->target_pid = (__u32)t.pid;
	bpf_map__set_max_entries(t.skel->maps.events, (__u32)(ring_mb << 20));
	err = trace_bpf__load(t.skel);
	if (err) {
		fprintf(stderr, "rt-bpf: cannot load the trace program: %s (needs root, BTF, Linux "
			"5.17+)\n", strerror(-err));
		goto out;
	}
	if (t.runtime == RUNTIME_PYTHON) {
		err = configure_python(&t);
		if (err)
			goto out;
	}
	err = attach(&t, probes);
	if (err)
		goto out;
	t.frames = rt_pyframes__new(&ops);
	t.ring = ring_buffer__new(bpf_map__fd(t.skel->maps.events), on_record, &t, NULL);
	{
		char exe[64];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)t.pid);
		n = readlink(exe, program, sizeof(program) - 1);
		program[n > 0 ? n : 0] = 0;
		snprintf(workdir, sizeof(workdir), "%s", t.cwd);
	}
	t.out = rt_ctrace__new(dir, cmd ? cmd[0] : program, cmd ? cmd_argc - 1 : 0,
			       cmd ? cmd + 1 : NULL, workdir);
	if (!t.frames || !t.ring || !t.out) {
		err = -errno;
		fprintf(stderr, "rt-bpf: cannot start the trace in %s: %s\n", dir, strerror(errno));
		goto out;
	}
	t.unknown_type = rt_ctrace__type(t.out, RT_CTRACE_TYPE_RAW, "<unknown>");
	t.noreturn_type = rt_ctrace__type(t.out, RT_CTRACE_TYPE_NONE, "<return value not recorded>");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "rt-bpf: tracing pid %d (%s) into %s\n", t.pid,
		t.runtime == RUNTIME_PYTHON ? "CPython" : "CRuby", dir);
	if (t.child) {
		ptrace(PTRACE_DETACH, t.pid, NULL, NULL);
		t.child = true;
	}
	status = run(&t);
	rt_pyframes__finish(t.frames);
	tracer_report(&t);
out:
	if (err && t.child && t.pid > 0) {
		/* still stopped at its exec: it never ran */
		kill(t.pid, SIGKILL);
		waitpid(t.pid, NULL, 0);
	}
	if (t.out && rt_ctrace__close(t.out) && !err) {
		fprintf(stderr, "rt-bpf: cannot write the trace into %s\n", dir);
		err = -EIO;
	}
	ring_buffer__free(t.ring);
	trace_bpf__destroy(t.skel);
	rt_pyframes__free(t.frames);
	free(t.codes);
	free(t.types);
	free(t.pending);
	free(t.rb_threads);
	if (t.root_fd >= 0)
		close(t.root_fd);
	if (!err && t.child && status)
		fprintf(stderr, "rt-bpf: the traced command exited with status %d\n", status);
	return err;
}

const struct rt_bpf_cmd rt_bpf_cmd_trace = {
	.name = "trace",
	.synopsis = "trace -o DIR [-b MB] (-p PID | -- CMD ARGS...)\n",
	.help =
	"trace   records every call, return and line of a CPython (3.11+) or CRuby process\n"
	"        from its USDT probes, and its writes to stdout and stderr, into DIR in\n"
	"        CodeTracer's trace format (docs/trace.md); a CPython without probes (pyenv,\n"
	"        3.12+) and CPython 2.7, 3.6-3.10 by uprobes on its eval loop: calls and\n"
	"        returns, no lines.\n"
	"        -p: a running process, whose running frames are called at its first\n"
	"        event; -- CMD: CMD must be the interpreter itself.  -b: ring buffer MB\n"
	"        (default 64); losses are counted and marked in the trace.\n",
	.shortopts = "o:b:",
	.longopts = trace_longopts,
	.opts_size = sizeof(struct trace_opts),
	.init = trace_init,
	.option = trace_option,
	.check = trace_check,
	.run = trace_run,
};
