/* SPDX-License-Identifier: GPL-2.0-only */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/python/inspect.h"
#include "runtimes/python/decode.h"
#include "bpf/record.h"
#include "layouts/debugoffsets.h"
#include "layouts/pyversion.h"

enum {
	SYM_RUNTIME,     /* _PyRuntime (3.7+) */
	SYM_VERSION,     /* Py_Version (3.11+) */
	SYM_CODE_TYPE,   /* PyCode_Type */
	SYM_INTERP_HEAD, /* static interp_head: the anchor before 3.7 (.symtab only) */
	NR_SYMS,
};

/* Debian's stripped build keeps all but interp_head in .dynsym. */
static const struct rt_process_symbol py_symbols[NR_SYMS] = {
	[SYM_RUNTIME] = { "_PyRuntime", -1 },
	[SYM_VERSION] = { "Py_Version", -1 },
	[SYM_CODE_TYPE] = { "PyCode_Type", -1 },
	[SYM_INTERP_HEAD] = { "interp_head", STT_OBJECT },
};

static bool py_has_symbols(const uint64_t *v)
{
	return v[SYM_RUNTIME] || (v[SYM_INTERP_HEAD] && v[SYM_CODE_TYPE]);
}

/* "libpython3.11.so.1.0" or "python3.11" -> 3, 11 */
static bool version_from_name(const char *path, int *major, int *minor)
{
	const char *base = strrchr(path, '/'), *p;

	base = base ? base + 1 : path;
	p = strstr(base, "python");
	return p && sscanf(p, "python%d.%d", major, minor) == 2;
}

/* Takes @img for the struct rt_pyproc @ctx when it says which version it is. */
static int py_take_image(void *ctx, const struct rt_process_image *img)
{
	struct rt_pyproc *out = ctx;
	const uint64_t *v = img->values;
	struct rt_pyversion ver;
	uint64_t hex = 0;

	snprintf(out->exe, sizeof(out->exe), "%s", img->exe);
	out->runtime_addr = img->bias + (v[SYM_RUNTIME] ? v[SYM_RUNTIME] : v[SYM_INTERP_HEAD]);
	out->anchor_interp_head = !v[SYM_RUNTIME];
	out->code_type = v[SYM_CODE_TYPE] ? img->bias + v[SYM_CODE_TYPE] : 0;
	snprintf(out->base.elf, sizeof(out->base.elf), "%s", img->path);
	out->base.patch = -1;
	/* The file says which version it is (Py_Version or the string
	 * Py_GetVersion formats); the running image's Py_Version and the
	 * file name are fallbacks.  Only the mapped file itself is opened:
	 * img->path is a name the target chose, perhaps in another root. */
	if (!rt_pyversion__from_elf(img->file, &ver)) {
		out->base.major = ver.major;
		out->base.minor = ver.minor;
		out->base.patch = ver.patch;
	} else if (v[SYM_VERSION] &&
		   !rt_process__read(img->pid, img->bias + v[SYM_VERSION], &hex, sizeof(hex)) && hex) {
		out->base.major = (hex >> 24) & 0xff;
		out->base.minor = (hex >> 16) & 0xff;
		out->base.patch = (hex >> 8) & 0xff;
	} else if (!version_from_name(img->path, &out->base.major, &out->base.minor) &&
		   !version_from_name(img->exe, &out->base.major, &out->base.minor)) {
		return -ENOENT;
	}
	/* 3.13+ is walked with the offsets _PyRuntime carries: while ld.so is
	 * still mapping the library they may not be readable yet, or read as
	 * other bytes of the file (ld.so first maps the whole span from file
	 * offset 0, then the later segments over it: the mmap events come
	 * before the data is in place).  The tracker's retries should then
	 * look again rather than refuse the process for good later.  Readable,
	 * in its own mapping and wrong is refused with its reason when the
	 * layout is chosen. */
	if ((out->base.major > 3 || (out->base.major == 3 && out->base.minor >= 13)) &&
	    !out->anchor_interp_head) {
		char cookie[8];

		if (rt_process__read(img->pid, out->runtime_addr, cookie, sizeof(cookie)))
			return -EAGAIN;
		if (memcmp(cookie, "xdebugpy", sizeof(cookie)) && out->runtime_addr >= img->start &&
		    out->runtime_addr < img->end)
			return -EAGAIN;
	}
	return 0;
}

static bool frame_field_ok(uint32_t off, uint32_t size, uint32_t *read)
{
	if (off == RT_LAYOUT_NONE)
		return true;
	if (off + size > RT_WALKER_FRAME_READ)
		return false;
	if (off + size > *read)
		*read = off + size;
	return true;
}

/*
 * The GIL's place for the off-CPU views ([gil wait]) and --gil, from
 * layouts/: in _PyRuntime (ceval.gil, 3.7-3.11) or, from 3.12, where the
 * main interpreter's ceval.gil points (its own _gil), which the walker
 * follows from _PyRuntime.interpreters.main.  gil_addr stays 0 (no GIL
 * information) where the layout does not say.
 */
static void py_gil_config(struct rt_walker_config *cfg, const struct rt_layout_cpython *c)
{
	if (c->gil_size == RT_LAYOUT_NONE || c->gil_last_holder == RT_LAYOUT_NONE ||
	    c->gil_locked == RT_LAYOUT_NONE)
		return;
	if (c->runtime_ceval_gil != RT_LAYOUT_NONE) {
		cfg->gil_addr = cfg->runtime_addr + c->runtime_ceval_gil;
		cfg->gil_ptr_off = RT_WALKER_NONE;
	} else if (c->runtime_interpreters_main != RT_LAYOUT_NONE &&
		   c->interp_ceval_gil != RT_LAYOUT_NONE && c->interp_ceval_gil < (1u << 24)) {
		cfg->gil_addr = cfg->runtime_addr + c->runtime_interpreters_main;
		cfg->gil_ptr_off = c->interp_ceval_gil; /* the walker masks it to 24 bits */
	} else {
		return;
	}
	cfg->gil_size = c->gil_size;
	cfg->gil_last_holder = c->gil_last_holder;
	cfg->gil_locked = c->gil_locked;
}

int rt_pyproc__walker_config(const struct rt_pyproc *proc, const struct rt_layout *layout,
			     uint32_t generation, struct rt_walker_config *cfg)
{
	const struct rt_layout_cpython *c = &layout->cpython;
	bool new_frames = c->frame_instr_ptr != RT_LAYOUT_NONE;
	bool stackref = proc->base.major > 3 || (proc->base.major == 3 && proc->base.minor >= 14);
	uint32_t read = 0;

	if (layout->runtime != RT_RUNTIME_CPYTHON ||
	    proc->anchor_interp_head != (c->anchor == RT_LAYOUT_ANCHOR_INTERP_HEAD))
		return -EINVAL;
	if ((new_frames && c->code_code_adaptive == RT_LAYOUT_NONE) ||
	    (!new_frames && c->frame_lasti == RT_LAYOUT_NONE) ||
	    (c->tstate_native_thread_id == RT_LAYOUT_NONE && c->tstate_thread_id == RT_LAYOUT_NONE) ||
	    (c->cframe_current_frame != RT_LAYOUT_NONE ? c->tstate_cframe : c->tstate_frame) == RT_LAYOUT_NONE ||
	    (c->unicode_length == RT_LAYOUT_NONE && proc->base.major >= 3) ||
	    c->code_name != c->code_filename + 8) /* the walker reads the two at once */
		return -EINVAL;
	/* the walker reads each frame in one piece */
	if (!frame_field_ok(c->frame_code, 8, &read) || !frame_field_ok(c->frame_previous, 8, &read) ||
	    !frame_field_ok(c->frame_instr_ptr, 8, &read) ||
	    !frame_field_ok(new_frames ? RT_LAYOUT_NONE : c->frame_lasti, 4, &read) ||
	    !frame_field_ok(c->frame_is_entry, 1, &read) || !frame_field_ok(c->frame_owner, 1, &read))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->runtime_addr = proc->runtime_addr;
	cfg->runtime = RT_REC_RUNTIME_CPYTHON;
	cfg->version = (uint32_t)proc->base.major << 16 | (uint32_t)proc->base.minor << 8 |
		       (uint32_t)(proc->base.patch < 0 ? 0 : proc->base.patch);
	cfg->generation = generation;
	cfg->off = (struct rt_walker_offsets){
		.runtime_interpreters_head = c->runtime_interpreters_head,
		.interp_threads_head = c->interp_threads_head,
		.tstate_next = c->tstate_next,
		.tstate_id = c->tstate_native_thread_id != RT_LAYOUT_NONE ? c->tstate_native_thread_id :
									   c->tstate_thread_id,
		.tstate_id_pthread = c->tstate_native_thread_id == RT_LAYOUT_NONE,
		.tstate_frame = c->cframe_current_frame != RT_LAYOUT_NONE ? c->tstate_cframe : c->tstate_frame,
		.cframe_current_frame = c->cframe_current_frame,
		.frame_read = read,
		.frame_code = c->frame_code,
		.frame_previous = c->frame_previous,
		.frame_instr_ptr = c->frame_instr_ptr,
		.frame_lasti = new_frames ? RT_WALKER_NONE : c->frame_lasti,
		.frame_is_entry = c->frame_is_entry,
		.frame_owner = c->frame_owner,
		.frame_owner_generator = c->frame_owner_generator,
		/* the walker takes owners from this one up as "not Python code";
		 * 3.14 put FRAME_OWNED_BY_INTERPRETER, its eval loops' entry
		 * frames, just below FRAME_OWNED_BY_CSTACK */
		.frame_owner_cstack = stackref && c->frame_owner_cstack != RT_LAYOUT_NONE ?
					      c->frame_owner_cstack - 1 : c->frame_owner_cstack,
		.code_firstlineno = c->code_firstlineno,
		.code_name = c->code_name,
		.code_qualname = c->code_qualname,
		.code_filename = c->code_filename,
		.code_linetable = c->code_linetable,
		.code_firsttraceable = c->code_firsttraceable,
		.code_code_adaptive = new_frames ? c->code_code_adaptive : 0,
		.code_unit_size = 2,
		.object_type = c->object_type,
		.unicode_length = c->unicode_length,
		.unicode_state = c->unicode_state,
		.unicode_ascii_data = c->unicode_ascii_data,
		.unicode_compact_data = c->unicode_compact_data,
		.bytes_size = c->bytes_size,
		.bytes_data = c->bytes_data,
		/* 3.14+: f_executable is a _PyStackRef, tagged in its low bits */
		.frame_code_tag = stackref ? 3 : 0,
		/* only where f_executable may be something else (3.13+) */
		.code_type = (c->frame_owner_cstack != RT_LAYOUT_NONE &&
			      c->cframe_current_frame == RT_LAYOUT_NONE) ? proc->code_type : 0,
	};
	if (c->anchor == RT_LAYOUT_ANCHOR_RUNTIME)
		py_gil_config(cfg, c);
	return 0;
}

int rt_pyproc__layout(const struct rt_pyproc *proc, const struct rt_layout *table,
		      struct rt_layout *out, char *msg, size_t msg_size)
{
	unsigned char buf[RT_DEBUG_OFFSETS_READ];
	char why[200];
	int err;

	msg[0] = 0;
	if (proc->base.major < 3 || (proc->base.major == 3 && proc->base.minor < 13) || proc->anchor_interp_head) {
		if (!table) {
			snprintf(msg, msg_size, "no layout for it (docs/layouts.md)");
			return -ENOENT;
		}
		*out = *table;
		return 0;
	}
	err = rt_process__read(proc->base.pid, proc->runtime_addr, buf, sizeof(buf));
	if (err) {
		snprintf(msg, msg_size, "cannot read its _Py_DebugOffsets: %s", strerror(-err));
		return err;
	}
	err = rt_debug_offsets__parse(buf, sizeof(buf), proc->base.major, proc->base.minor, out, msg,
				      msg_size);
	if (err)
		return err;
	if (proc->base.patch >= 0 && out->patch_min != proc->base.patch) {
		snprintf(msg, msg_size, "its _Py_DebugOffsets is for %d.%d.%d, its file says %d.%d.%d",
			 out->major, out->minor, out->patch_min, proc->base.major, proc->base.minor,
			 proc->base.patch);
		return -EINVAL;
	}
	if (!table)
		return 0;
	if (rt_debug_offsets__compare(out, table, why, sizeof(why))) {
		/* another build of the same version (or a wrong table): the
		 * process's own offsets are the ones that describe it */
		snprintf(msg, msg_size, "layout table for %d.%d.%d-%d refused: %s", table->major,
			 table->minor, table->patch_min, table->patch_max, why);
		return 0;
	}
	/* the table agrees: it adds what _Py_DebugOffsets does not carry */
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
		const struct rt_layout_field *f = &rt_layout_cpython_fields[i];
		uint32_t *mine = (uint32_t *)((char *)&out->cpython + f->offset);

		if (*mine == RT_LAYOUT_NONE)
			*mine = rt_layout_cpython__get(&table->cpython, f);
	}
	return 0;
}

/* rt_runtime_desc.select_layout: rt_pyproc__layout with --layout's table when
 * it is for this version, else layouts/' one; a table that contradicts
 * the process's own _Py_DebugOffsets is refused in a notice. */
static int py_select_layout(const struct rt_runtime_process *base, const struct rt_layout *given,
			    struct rt_layout *out, char *msg, size_t msg_size)
{
	const struct rt_pyproc *proc = (const struct rt_pyproc *)base;
	const struct rt_layout *table = given;
	size_t len;
	int err;

	if (table && (table->runtime != RT_RUNTIME_CPYTHON || table->major != base->major ||
		      table->minor != base->minor))
		table = NULL; /* checked against the version: never used for another */
	else if (!table)
		table = rt_layout__find(RT_RUNTIME_CPYTHON, base->major, base->minor, base->patch);
	err = rt_pyproc__layout(proc, table, out, msg, msg_size);
	len = strlen(msg);
	if (!err && len)
		snprintf(msg + len, msg_size - len, "; walking it with its own _Py_DebugOffsets");
	return err;
}

static int py_walker_config(const struct rt_runtime_process *proc, const struct rt_layout *layout,
			    uint32_t generation, void *cfg)
{
	return rt_pyproc__walker_config((const struct rt_pyproc *)proc, layout, generation, cfg);
}

static void py_describe(const struct rt_runtime_process *proc, char *buf, size_t size)
{
	snprintf(buf, size, ", _PyRuntime at 0x%llx",
		 (unsigned long long)((const struct rt_pyproc *)proc)->runtime_addr);
}

const struct rt_runtime_desc rt_runtime_cpython = {
	.name = "CPython",
	.absent = "CPython (no _PyRuntime in its executable or a libpython)",
	.versions = "CPython 2.7 and 3.6-3.15",
	.image = {
		.lib_name = "libpython",
		.syms = py_symbols,
		.nr_syms = NR_SYMS,
		.has_symbols = py_has_symbols,
		.take = py_take_image,
	},
	.proc_size = sizeof(struct rt_pyproc),
	/* An executable named python* that does not show _PyRuntime yet may
	 * still be mapping its libpython. */
	.exe_name = "python",
	.retries = 20,
	.select_layout = py_select_layout,
	.walker_config = py_walker_config,
	.config_size = sizeof(struct rt_walker_config),
	.walker_map = "pids",
	.describe = py_describe,
	.decoding = &rt_python_decoding,
};
