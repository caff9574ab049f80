/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace`'s record writer: the BPF program's records (Python code
 * and type objects, arguments, frame chains; Ruby method events; writes to
 * fds 1 and 2; losses) turned into CodeTracer's trace (rtbpf/codetracer.h).
 * docs/trace.md has the mapping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfglue/hash.h"
#include "perfglue/safefile.h"
#include "rtbpf/trace_internal.h"
#include "runtimes/python/decode.h"
#include "runtimes/python/value.h"

/* ---- tables of code and type objects ---- */

/* An open-addressing table of @size-byte entries that begin with their
 * non-zero uint64_t key: the entry of @key in *@slots (@cap slots, @nr
 * used), added when @add (doubled from @first_cap when half full); NULL
 * when absent or out of memory. */
void *rt_tracer__addr_find(void **slots, size_t *cap, size_t *nr, size_t size, size_t first_cap,
			   uint64_t key, bool add)
{
#define KEY_AT(base, i) ((uint64_t *)((char *)(base) + (i) * size))
	size_t i;

	if (add && (*nr + 1) * 2 > *cap) {
		size_t n = *cap ? *cap * 2 : first_cap;
		void *grown = calloc(n, size);

		if (!grown)
			return NULL;
		for (size_t j = 0; j < *cap; j++) {
			uint64_t k = *KEY_AT(*slots, j);

			if (!k)
				continue;
			for (i = rt_hash64(k) & (n - 1); *KEY_AT(grown, i); i = (i + 1) & (n - 1))
				;
			memcpy(KEY_AT(grown, i), KEY_AT(*slots, j), size);
		}
		free(*slots);
		*slots = grown;
		*cap = n;
	}
	if (!*cap)
		return NULL;
	for (i = rt_hash64(key) & (*cap - 1); *KEY_AT(*slots, i); i = (i + 1) & (*cap - 1))
		if (*KEY_AT(*slots, i) == key)
			return KEY_AT(*slots, i);
	if (!add)
		return NULL;
	(*nr)++;
	*KEY_AT(*slots, i) = key;
	return KEY_AT(*slots, i);
#undef KEY_AT
}

_Static_assert(offsetof(struct code_info, code) == 0, "addr_find: the key comes first");
_Static_assert(offsetof(struct type_info, type) == 0, "addr_find: the key comes first");

static struct code_info *code_find(struct tracer *t, uint64_t code, bool add)
{
	return rt_tracer__addr_find((void **)&t->codes, &t->codes_cap, &t->nr_codes,
				    sizeof(*t->codes), 256, code, add);
}

static struct type_info *type_find(struct tracer *t, uint64_t type, bool add)
{
	return rt_tracer__addr_find((void **)&t->types, &t->types_cap, &t->nr_types,
				    sizeof(*t->types), 64, type, add);
}

/* ---- paths and source files ---- */

/* The path id of source @name as the target named it: relative names are
 * taken from the target's working directory; a file that exists in the
 * target's root is copied into files/ the first time. */
int64_t rt_tracer__source_path(struct tracer *t, const char *name)
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
	path_id = rt_tracer__source_path(t, file);
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
void rt_tracer__thread_mark(struct tracer *t, uint32_t tid)
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
void rt_tracer__py_call(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e, int newest)
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
	rt_tracer__thread_mark(t, tid);
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
void rt_tracer__py_return(void *ctx, uint32_t tid, const struct rt_pyframes_entry *e)
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
	/* the end's returns come thread by thread (rt_tracer__end) */
	rt_tracer__thread_mark(t, tid);
	t->returns++;
	rt_ctrace__return(t->out, &v);
}

void rt_tracer__lost_mark(struct tracer *t, const struct rt_trace_header *hdr)
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
	rt_tracer__thread_mark(t, ev->hdr.tid);
	rt_tracer__lost_mark(t, &ev->hdr);
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
	rt_tracer__thread_mark(t, ev->hdr.tid);
	rt_tracer__lost_mark(t, &ev->hdr);
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
	path = rt_tracer__source_path(t, file);
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

void rt_tracer__end(struct tracer *t)
{
	static const char text[] = "the trace ends here; the Returns after this close the frames "
				   "still running, which did not return while traced";

	if (!t->out)
		return;
	rt_ctrace__event(t->out, RT_CTRACE_EVENT_TRACE_LOG, "end", text, strlen(text));
	if (t->frames)
		rt_pyframes__finish(t->frames);
	/* CRuby's probes: a depth per thread */
	for (size_t i = 0; i < t->nr_rb_threads; i++) {
		struct rb_thread *th = &t->rb_threads[i];
		struct rt_ctrace_value v = { .kind = RT_CTRACE_VALUE_NONE,
					     .type_id = (uint32_t)t->noreturn_type };

		if (th->depth)
			rt_tracer__thread_mark(t, th->tid);
		for (; th->depth; th->depth--) {
			t->returns++;
			rt_ctrace__return(t->out, &v);
		}
	}
	rt_tracer__rb_fallback_finish(t);
}

static void write_event(struct tracer *t, const struct rt_trace_write *w, size_t size)
{
	char meta[96];
	size_t n = w->nbytes;

	if (n > RT_TRACE_WRITE_MAX || size < sizeof(*w) - RT_TRACE_WRITE_MAX + n)
		return;
	t->writes++;
	rt_tracer__thread_mark(t, w->hdr.tid);
	rt_tracer__lost_mark(t, &w->hdr);
	if ((uint64_t)n < w->count)
		snprintf(meta, sizeof(meta), "fd %u, %" PRIu64 " bytes, the first %zu recorded", w->fd,
			 (uint64_t)w->count, n);
	else
		snprintf(meta, sizeof(meta), "fd %u", w->fd);
	rt_ctrace__event(t->out, RT_CTRACE_EVENT_WRITE, meta, w->data, n);
}

int rt_tracer__on_record(void *ctx, void *data, size_t size)
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
			rt_tracer__lost_mark(t, hdr);
			py_code(t, data);
		}
		break;
	case RT_TRACE_PY_TYPE:
		if (size >= sizeof(struct rt_trace_py_type)) {
			const struct rt_trace_py_type *ty = data;
			struct type_info *ti = type_find(t, ty->type, true);

			rt_tracer__lost_mark(t, hdr);
			if (ti)
				cstr(ti->name, ty->name, sizeof(ti->name));
		}
		break;
	case RT_TRACE_PY_ARGS:
		if (size >= sizeof(struct rt_trace_py_args)) {
			struct pending_args *p = pending_for(t, hdr->tid);

			rt_tracer__lost_mark(t, hdr);
			if (p) {
				memcpy(&p->rec, data, sizeof(p->rec));
				p->valid = true;
			}
		}
		break;
	case RT_TRACE_PY_RETVAL:
		if (size >= sizeof(struct rt_trace_py_retval)) {
			struct pending_args *p = pending_for(t, hdr->tid);

			rt_tracer__lost_mark(t, hdr);
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
	case RT_TRACE_RB_HOLD:
		rt_tracer__rb_hold(t, hdr);
		break;
	case RT_TRACE_RB_FRAME:
		if (size >= sizeof(struct rt_trace_rb_frame))
			rt_tracer__rb_frame(t, data);
		break;
	case RT_TRACE_WRITE:
		write_event(t, data, size);
		break;
	}
	return 0;
}
