/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every asyncio task of a CPython 3.14+ process, read from outside
 * (runtimes/python/asyncps.h).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/walker.h"
#include "perfglue/safefile.h"
#include "runtimes/process.h"
#include "runtimes/python/asyncio.h"
#include "runtimes/python/asyncps.h"
#include "runtimes/python/decode.h"
#include "runtimes/python/inspect.h"

/* Where one minor's _Py_DebugOffsets keeps the values read here (byte
 * positions in the table, from that version's
 * Include/internal/pycore_debug_offsets.h). */
struct ps_shape {
	int minor;
	uint16_t table_size;
	uint16_t interpreters_head, threads_head;
	uint16_t tstate_next, tstate_native_tid;
	uint16_t frame_executable, frame_instr_ptr, frame_owner, frame_stackpointer;
	uint16_t code_filename, code_qualname, code_linetable, code_firstlineno, code_adaptive;
	uint16_t pyobject_size, ob_type, tp_flags;
	uint16_t set_used, set_table, set_mask;
	uint16_t long_lv_tag, long_digit;
	uint16_t bytes_size, bytes_sval;
	uint16_t unicode_state, unicode_length, unicode_ascii, unicode_compact; /* 0: not in it */
	uint16_t gen_iframe, gen_frame_state;
	int8_t yield_from[2]; /* FRAME_SUSPENDED_YIELD_FROM (and _LOCKED) */
};

static const struct ps_shape shapes[] = {
	{ 14, 760, 40, 72, 192, 224, 264, 272, 288, 296, 320, 336, 344, 352, 384, 400, 408, 440,
	  504, 512, 520, 576, 584, 600, 608, 624, 632, 640, 0, 680, 688, { -1, -1 } },
	{ 15, 888, 40, 72, 192, 248, 328, 336, 352, 360, 384, 400, 408, 416, 448, 464, 472, 504,
	  600, 608, 616, 672, 680, 696, 704, 720, 728, 736, 744, 808, 816, { 2, 3 } },
};
#define NR_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* The table's values, read with a shape. */
struct ps_offsets {
	uint64_t interpreters_head, threads_head, tstate_next, tstate_native_tid;
	uint64_t frame_executable, frame_instr_ptr, frame_owner, frame_stackpointer;
	uint64_t code_filename, code_qualname, code_linetable, code_firstlineno, code_adaptive;
	uint64_t tp_flags, set_used, set_table, set_mask, long_lv_tag, long_digit;
	uint64_t bytes_size, bytes_sval, gen_iframe, gen_frame_state;
	int8_t yield_from[2];
	struct rt_walker_offsets str; /* for rt_asyncio__read_str() */
};

/* _asyncio's AsyncioDebug section (Py_AsyncioModuleDebugOffsets): offsets
 * in TaskObj, PyInterpreterState and _PyThreadStateImpl. */
struct ps_asyncio {
	uint64_t task_size, task_name, task_awaited_by, task_is_task, task_awaited_by_is_set,
		 task_coro, task_node;
	uint64_t interp_size, interp_tasks_head;
	uint64_t tstate_size, tstate_running_loop, tstate_running_task, tstate_tasks_head;
};

#define PY_TPFLAGS_LONG_SUBCLASS (1ull << 24)
#define PY_TPFLAGS_UNICODE_SUBCLASS (1ull << 28)
#define FRAME_OWNED_BY_GENERATOR 1
/* A _PyStackRef's low bits tag it; objects are 8-byte aligned. */
#define STACKREF_TAGS 7ull
#define MAX_TASKS (1u << 17)
#define MAX_CHAIN 64
#define MAX_THREADS 4096
#define MAX_LINETABLE (1u << 20)

struct ps_reader {
	pid_t pid;
	struct ps_offsets off;
	struct ps_asyncio aio;
	char *msg;
	size_t msg_size;
};

static int rd(const struct ps_reader *r, uint64_t addr, void *buf, size_t len)
{
	if (!addr)
		return -EFAULT;
	return rt_process__read(r->pid, addr, buf, len);
}

static int rd_ptr(const struct ps_reader *r, uint64_t addr, uint64_t *out)
{
	*out = 0;
	return rd(r, addr, out, sizeof(*out));
}

static uint64_t table_value(const unsigned char *dbg, uint16_t at)
{
	uint64_t v;

	memcpy(&v, dbg + at, sizeof(v));
	return v;
}

/* Reads the interpreter's _Py_DebugOffsets at @runtime with the shape of
 * @minor (the newest known for a later one, when its fixed points agree). */
static int read_offsets(struct ps_reader *r, uint64_t runtime, int major, int minor)
{
	const struct ps_shape *s = NULL;
	unsigned char dbg[1024];
	struct ps_offsets *o = &r->off;
	uint64_t hex;
	int err;

	for (size_t i = 0; i < NR_SHAPES; i++)
		if (shapes[i].minor == minor || (i == NR_SHAPES - 1 && minor > shapes[i].minor))
			s = &shapes[i];
	if (major != 3 || !s) {
		snprintf(r->msg, r->msg_size, "CPython %d.%d does not describe its asyncio tasks "
			 "(3.14+ does)", major, minor);
		return -ENOTSUP;
	}
	err = rd(r, runtime, dbg, s->table_size);
	if (err) {
		snprintf(r->msg, r->msg_size, "cannot read _PyRuntime: %s", strerror(-err));
		return err;
	}
	hex = table_value(dbg, 8);
	if (memcmp(dbg, "xdebugpy", 8) || (int)(hex >> 24) != major ||
	    (int)((hex >> 16) & 0xff) != minor) {
		snprintf(r->msg, r->msg_size, "no _Py_DebugOffsets of %d.%d at _PyRuntime", major,
			 minor);
		return -ENOTSUP;
	}
	if (table_value(dbg, 16)) {
		snprintf(r->msg, r->msg_size, "a free-threaded build: not read");
		return -ENOTSUP;
	}
	if (table_value(dbg, s->pyobject_size) != 16 || table_value(dbg, s->ob_type) != 8) {
		snprintf(r->msg, r->msg_size, "its _Py_DebugOffsets has another shape than %d.%d's",
			 3, s->minor);
		return -ENOTSUP;
	}
#define V(f) (o->f = table_value(dbg, s->f))
	V(interpreters_head); V(threads_head); V(tstate_next); V(tstate_native_tid);
	V(frame_executable); V(frame_instr_ptr); V(frame_owner); V(frame_stackpointer);
	V(code_filename); V(code_qualname); V(code_linetable); V(code_firstlineno);
	V(code_adaptive); V(tp_flags); V(set_used); V(set_table); V(set_mask);
	V(long_lv_tag); V(long_digit); V(bytes_size); V(bytes_sval); V(gen_iframe);
	V(gen_frame_state);
#undef V
	memcpy(o->yield_from, s->yield_from, sizeof(o->yield_from));
	memset(&o->str, 0xff, sizeof(o->str));
	o->str.unicode_state = (uint32_t)table_value(dbg, s->unicode_state);
	o->str.unicode_length = (uint32_t)table_value(dbg, s->unicode_length);
	o->str.unicode_ascii_data = (uint32_t)table_value(dbg, s->unicode_ascii);
	/* PyCompactUnicodeObject adds utf8_length and utf8 where the table
	 * does not say */
	o->str.unicode_compact_data = s->unicode_compact ?
		(uint32_t)table_value(dbg, s->unicode_compact) : o->str.unicode_ascii_data + 16;
	return 0;
}

/* The section named like *AsyncioDebug of the ELF file @fd: its address. */
static uint64_t asyncio_section(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	uint64_t addr = 0;
	size_t shstrndx;

	if (!elf)
		return 0;
	if (!elf_getshdrstrndx(elf, &shstrndx)) {
		while (!addr && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;
			size_t n;

			if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
				continue;
			n = strlen(name);
			if (n >= 12 && !strcmp(name + n - 12, "AsyncioDebug") &&
			    sh.sh_size >= sizeof(struct ps_asyncio))
				addr = sh.sh_addr;
		}
	}
	elf_end(elf);
	return addr;
}

struct section_search {
	const struct ps_reader *r;
	struct ps_asyncio *out;
	bool found;
};

/* rt_process__find_image's take: the executable (asyncio built in) or the
 * _asyncio module with the section. */
static int take_section(void *ctx, const struct rt_process_image *img)
{
	struct section_search *ss = ctx;
	struct stat st;
	uint64_t addr;
	int fd = rt_safefile__open_proc_link(img->file, 0, &st);

	if (fd < 0)
		return 1;
	addr = asyncio_section(fd);
	close(fd);
	if (!addr || rd(ss->r, img->bias + addr, ss->out, sizeof(*ss->out)))
		return 1;
	ss->found = true;
	return 0;
}

static bool any_image(const uint64_t *values)
{
	return true;
}

/* Finds and checks _asyncio's table. */
static int read_asyncio(struct ps_reader *r)
{
	struct section_search ss = { .r = r, .out = &r->aio };
	struct rt_process_image_opts opts = {
		.lib_name = "_asyncio", .has_symbols = any_image, .take = take_section, .ctx = &ss,
	};
	const struct ps_asyncio *a = &r->aio;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	err = rt_process__find_image(r->pid, &opts);
	if (err == -ESRCH)
		return err;
	if (!ss.found) {
		snprintf(r->msg, r->msg_size, "no _asyncio module with an AsyncioDebug section mapped "
			 "(asyncio not imported yet)");
		return -ENOENT;
	}
	if (a->task_size < 64 || a->task_size > 4096 || a->task_name >= a->task_size ||
	    a->task_awaited_by >= a->task_size || a->task_is_task >= a->task_size ||
	    a->task_awaited_by_is_set >= a->task_size || a->task_coro >= a->task_size ||
	    a->task_node + 16 > a->task_size || a->interp_tasks_head + 16 > a->interp_size ||
	    a->tstate_tasks_head + 16 > a->tstate_size || a->interp_size > (1u << 24) ||
	    a->tstate_size > (1u << 24)) {
		snprintf(r->msg, r->msg_size, "_asyncio's AsyncioDebug table does not look like one");
		return -ENOTSUP;
	}
	return 0;
}

static int read_str(const struct ps_reader *r, uint64_t obj, char *buf, size_t size)
{
	int n = rt_asyncio__read_str(r->pid, &r->off.str, obj, buf, size);

	return n < 0 ? n : 0;
}

/* The task's name: a str, or 3.12+'s counter (an int) until asked. */
static void task_name(const struct ps_reader *r, uint64_t task, char *buf, size_t size)
{
	uint64_t name = 0, type = 0, flags = 0, tag = 0;
	uint32_t digits[3] = { 0 };

	snprintf(buf, size, "?");
	if (rd_ptr(r, task + r->aio.task_name, &name) || rd_ptr(r, name + 8, &type) ||
	    rd_ptr(r, type + r->off.tp_flags, &flags))
		return;
	if (flags & PY_TPFLAGS_UNICODE_SUBCLASS) {
		read_str(r, name, buf, size);
	} else if ((flags & PY_TPFLAGS_LONG_SUBCLASS) && !rd_ptr(r, name + r->off.long_lv_tag, &tag)) {
		uint64_t nd = tag >> 3, v = 0;

		if (nd <= 2 && (!nd || !rd(r, name + r->off.long_digit, digits, nd * 4)))
			v = (uint64_t)digits[0] | (uint64_t)digits[1] << 30;
		snprintf(buf, size, "Task-%s%llu", (tag & 3) == 2 ? "-" : "", (unsigned long long)v);
	}
}

/* Where the generator frame at @frame stands: its code's qualified name,
 * file and the line of its next instruction. */
static int frame_at(const struct ps_reader *r, uint64_t frame, struct rt_asyncps_frame *f)
{
	const struct ps_offsets *o = &r->off;
	uint64_t code = 0, ip = 0, name = 0, file = 0, lt = 0;
	int64_t lt_size = 0;
	int32_t first = 0;
	uint8_t *table;
	int err;

	memset(f, 0, sizeof(*f));
	err = rd_ptr(r, frame + o->frame_executable, &code);
	code &= ~STACKREF_TAGS;
	if (!err)
		err = rd_ptr(r, code + o->code_qualname, &name);
	if (!err)
		err = rd_ptr(r, code + o->code_filename, &file);
	if (err)
		return err;
	read_str(r, name, f->func, sizeof(f->func));
	read_str(r, file, f->file, sizeof(f->file));
	if (rd_ptr(r, frame + o->frame_instr_ptr, &ip) || rd_ptr(r, code + o->code_linetable, &lt) ||
	    rd(r, code + o->code_firstlineno, &first, sizeof(first)) ||
	    rd(r, lt + o->bytes_size, &lt_size, sizeof(lt_size)) || lt_size <= 0 ||
	    lt_size > MAX_LINETABLE || ip < code + o->code_adaptive)
		return 0;
	table = malloc((size_t)lt_size);
	if (!table)
		return -ENOMEM;
	if (!rd(r, lt + o->bytes_sval, table, (size_t)lt_size)) {
		int line = rt_interp_linetable311__line(table, (size_t)lt_size, first,
							(uint32_t)((ip - code - o->code_adaptive) / 2));
		f->line = line > 0 ? line : 0;
	}
	free(table);
	return 0;
}

/* The task's coroutine and the coroutines it awaits in turn: each one's
 * frame, while the awaited object is a coroutine of the same type (a
 * future or another awaitable ends the chain). */
static int coro_chain(const struct ps_reader *r, uint64_t task, struct rt_asyncps_task *t)
{
	const struct ps_offsets *o = &r->off;
	uint64_t coro = 0, type = 0;
	size_t cap = 0;
	int err = rd_ptr(r, task + r->aio.task_coro, &coro);

	if (err || !coro || rd_ptr(r, coro + 8, &type))
		return err;
	while (coro && t->nr_frames < MAX_CHAIN) {
		uint64_t frame = coro + o->gen_iframe, sp = 0, next = 0, next_type = 0;
		int8_t state = 0;
		uint8_t owner = 0;

		if (t->nr_frames == cap) {
			struct rt_asyncps_frame *p;

			cap = cap ? cap * 2 : 2;
			p = realloc(t->frames, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			t->frames = p;
		}
		err = frame_at(r, frame, &t->frames[t->nr_frames]);
		if (err)
			return err;
		t->nr_frames++;
		if (rd(r, coro + o->gen_frame_state, &state, 1) ||
		    (state != o->yield_from[0] && state != o->yield_from[1]) ||
		    rd(r, frame + o->frame_owner, &owner, 1) || owner != FRAME_OWNED_BY_GENERATOR ||
		    rd_ptr(r, frame + o->frame_stackpointer, &sp) || !sp)
			break;
		/* the awaited object tops the stack; 3.15 keeps a NULL
		 * stack reference above it */
		for (int slot = 1; slot <= 2 && !(next & ~STACKREF_TAGS); slot++)
			if (rd_ptr(r, (sp & ~STACKREF_TAGS) - 8 * (uint64_t)slot, &next))
				break;
		next &= ~STACKREF_TAGS;
		if (!next || rd_ptr(r, next + 8, &next_type) || next_type != type)
			break;
		coro = next;
	}
	/* innermost first, as asyncio's tools list a call stack */
	for (size_t i = 0; i < t->nr_frames / 2; i++) {
		struct rt_asyncps_frame tmp = t->frames[i];

		t->frames[i] = t->frames[t->nr_frames - 1 - i];
		t->frames[t->nr_frames - 1 - i] = tmp;
	}
	return 0;
}

static int add_awaiter(struct rt_asyncps_task *t, uint64_t addr, size_t *cap)
{
	if (t->nr_awaited_by == *cap) {
		size_t n = *cap ? *cap * 2 : 4;
		uint64_t *p = realloc(t->awaited_by, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->awaited_by = p;
		*cap = n;
	}
	t->awaited_by[t->nr_awaited_by++] = addr;
	return 0;
}

/* The tasks awaiting @task: one object, or a set of them. */
static int awaiters(const struct ps_reader *r, uint64_t task, struct rt_asyncps_task *t)
{
	const struct ps_offsets *o = &r->off;
	uint64_t ab = 0, used = 0, table = 0, mask = 0, found = 0;
	size_t cap = 0;
	uint8_t is_set = 0;
	int err;

	err = rd_ptr(r, task + r->aio.task_awaited_by, &ab);
	if (err || !ab)
		return err;
	err = rd(r, task + r->aio.task_awaited_by_is_set, &is_set, 1);
	if (err)
		return err;
	if (!is_set)
		return add_awaiter(t, ab, &cap);
	err = rd_ptr(r, ab + o->set_used, &used);
	if (!err)
		err = rd_ptr(r, ab + o->set_table, &table);
	if (!err)
		err = rd_ptr(r, ab + o->set_mask, &mask);
	if (err)
		return err;
	if (mask >= MAX_TASKS || used > mask + 1)
		return -EFAULT;
	for (uint64_t i = 0; i <= mask && found < used; i++) {
		uint64_t entry[2]; /* key, hash; a removed key's slot holds a dummy, hash -1 */

		err = rd(r, table + i * sizeof(entry), entry, sizeof(entry));
		if (err)
			return err;
		if (!entry[0] || entry[1] == (uint64_t)-1)
			continue;
		found++;
		err = add_awaiter(t, entry[0], &cap);
		if (err)
			return err;
	}
	return 0;
}

static int add_task(struct ps_reader *r, struct rt_asyncps *ps, size_t *cap, uint64_t task,
		    uint64_t thread)
{
	struct rt_asyncps_task *t;
	int err;

	if (ps->nr_tasks == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct rt_asyncps_task *p = realloc(ps->tasks, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ps->tasks = p;
		*cap = n;
	}
	t = &ps->tasks[ps->nr_tasks++];
	memset(t, 0, sizeof(*t));
	t->addr = task;
	t->thread = thread;
	task_name(r, task, t->name, sizeof(t->name));
	err = coro_chain(r, task, t);
	if (!err)
		err = awaiters(r, task, t);
	return err;
}

/* The tasks of the circular list whose head is at @head. */
static int read_list(struct ps_reader *r, struct rt_asyncps *ps, size_t *cap, uint64_t head,
		     uint64_t thread)
{
	uint64_t node = 0;
	int err = rd_ptr(r, head, &node);

	while (!err && node != head) {
		if (!node || ps->nr_tasks >= MAX_TASKS) {
			snprintf(r->msg, r->msg_size, "a task list of thread %llu is broken (it "
				 "changed while read?)", (unsigned long long)thread);
			return -EFAULT;
		}
		err = add_task(r, ps, cap, node - r->aio.task_node, thread);
		if (!err)
			err = rd_ptr(r, node, &node);
	}
	return err;
}

int rt_asyncps__read(pid_t pid, struct rt_asyncps *out, char *msg, size_t msg_size)
{
	struct ps_reader r = { .pid = pid, .msg = msg, .msg_size = msg_size };
	struct rt_pyproc proc;
	uint64_t interp = 0, ts = 0;
	size_t cap = 0, threads = 0;
	int err;

	memset(out, 0, sizeof(*out));
	msg[0] = '\0';
	memset(&proc, 0, sizeof(proc));
	err = rt_runtime__inspect(&rt_runtime_cpython, NULL, pid, &proc.base);
	if (err) {
		snprintf(msg, msg_size, "%s", err == -ESRCH ? "no such process" :
			 err == -ENOENT ? "it runs no CPython (or it is not mapped yet)" : strerror(-err));
		return err;
	}
	out->major = proc.base.major;
	out->minor = proc.base.minor;
	out->patch = proc.base.patch;
	err = read_offsets(&r, proc.runtime_addr, proc.base.major, proc.base.minor);
	if (!err)
		err = read_asyncio(&r);
	if (!err)
		err = rd_ptr(&r, proc.runtime_addr + r.off.interpreters_head, &interp);
	if (!err)
		err = rd_ptr(&r, interp + r.off.threads_head, &ts);
	while (!err && ts && threads++ < MAX_THREADS) {
		uint64_t tid = 0;

		err = rd_ptr(&r, ts + r.off.tstate_native_tid, &tid);
		if (!err)
			err = read_list(&r, out, &cap, ts + r.aio.tstate_tasks_head, tid);
		if (!err)
			err = rd_ptr(&r, ts + r.off.tstate_next, &ts);
	}
	/* tasks of threads that ended move to the interpreter's list */
	if (!err)
		err = read_list(&r, out, &cap, interp + r.aio.interp_tasks_head, 0);
	if (err && !msg[0])
		snprintf(msg, msg_size, "reading its tasks: %s", strerror(-err));
	if (err) {
		rt_asyncps__free(out);
		return err;
	}
	/* names from the target's memory go to a terminal: no control
	 * characters (a task named "a\nb" would forge a table row) */
	for (size_t i = 0; i < out->nr_tasks; i++) {
		rt_safefile__sanitize(out->tasks[i].name);
		for (size_t k = 0; k < out->tasks[i].nr_frames; k++) {
			rt_safefile__sanitize(out->tasks[i].frames[k].func);
			rt_safefile__sanitize(out->tasks[i].frames[k].file);
		}
	}
	return 0;
}

void rt_asyncps__free(struct rt_asyncps *ps)
{
	for (size_t i = 0; i < ps->nr_tasks; i++) {
		free(ps->tasks[i].frames);
		free(ps->tasks[i].awaited_by);
	}
	free(ps->tasks);
	ps->tasks = NULL;
	ps->nr_tasks = 0;
}

const struct rt_asyncps_task *rt_asyncps__task(const struct rt_asyncps *ps, uint64_t addr)
{
	for (size_t i = 0; i < ps->nr_tasks; i++)
		if (ps->tasks[i].addr == addr)
			return &ps->tasks[i];
	return NULL;
}
