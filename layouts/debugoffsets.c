/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "layouts/debugoffsets.h"

/* The structs of _Py_DebugOffsets the walk reads from; each group of the
 * table starts with that struct's size. */
enum group { G_RUNTIME, G_INTERP, G_TSTATE, G_FRAME, G_CODE, G_OBJECT, G_BYTES, G_UNICODE, NR_GROUPS };

static const char *const group_names[NR_GROUPS] = {
	"_PyRuntimeState", "PyInterpreterState", "PyThreadState", "_PyInterpreterFrame",
	"PyCodeObject", "PyObject", "PyBytesObject", "PyUnicodeObject",
};

enum member {
	M_INTERPRETERS_HEAD, M_INTERP_NEXT, M_THREADS_HEAD, M_TSTATE_NEXT, M_CURRENT_FRAME,
	M_THREAD_ID, M_NATIVE_TID, M_FRAME_PREVIOUS, M_FRAME_EXECUTABLE, M_FRAME_INSTR,
	M_FRAME_OWNER, M_CODE_FILENAME, M_CODE_NAME, M_CODE_QUALNAME, M_CODE_LINETABLE,
	M_CODE_FIRSTLINENO, M_CODE_ADAPTIVE, M_OB_TYPE, M_BYTES_SIZE, M_BYTES_DATA,
	M_UNICODE_STATE, M_UNICODE_LENGTH, M_UNICODE_ASCII, M_CEVAL_GIL, NR_MEMBERS,
};

#define L(m) offsetof(struct rt_layout_cpython, m)
/* Which layout member each table entry fills, its struct, and how many
 * bytes the walker reads there (0: the value is a size, not an offset). */
static const struct {
	size_t member;
	enum group group;
	unsigned int width;
} members[NR_MEMBERS] = {
	[M_INTERPRETERS_HEAD] = { L(runtime_interpreters_head), G_RUNTIME, 8 },
	[M_INTERP_NEXT] = { L(interp_next), G_INTERP, 8 },
	[M_THREADS_HEAD] = { L(interp_threads_head), G_INTERP, 8 },
	[M_TSTATE_NEXT] = { L(tstate_next), G_TSTATE, 8 },
	[M_CURRENT_FRAME] = { L(tstate_frame), G_TSTATE, 8 },
	[M_THREAD_ID] = { L(tstate_thread_id), G_TSTATE, 8 },
	[M_NATIVE_TID] = { L(tstate_native_thread_id), G_TSTATE, 8 },
	[M_FRAME_PREVIOUS] = { L(frame_previous), G_FRAME, 8 },
	[M_FRAME_EXECUTABLE] = { L(frame_code), G_FRAME, 8 },
	[M_FRAME_INSTR] = { L(frame_instr_ptr), G_FRAME, 8 },
	[M_FRAME_OWNER] = { L(frame_owner), G_FRAME, 1 },
	[M_CODE_FILENAME] = { L(code_filename), G_CODE, 8 },
	[M_CODE_NAME] = { L(code_name), G_CODE, 8 },
	[M_CODE_QUALNAME] = { L(code_qualname), G_CODE, 8 },
	[M_CODE_LINETABLE] = { L(code_linetable), G_CODE, 8 },
	[M_CODE_FIRSTLINENO] = { L(code_firstlineno), G_CODE, 4 },
	[M_CODE_ADAPTIVE] = { L(code_code_adaptive), G_CODE, 2 },
	[M_OB_TYPE] = { L(object_type), G_OBJECT, 8 },
	[M_BYTES_SIZE] = { L(bytes_size), G_BYTES, 8 },
	[M_BYTES_DATA] = { L(bytes_data), G_BYTES, 0 },
	[M_UNICODE_STATE] = { L(unicode_state), G_UNICODE, 4 },
	[M_UNICODE_LENGTH] = { L(unicode_length), G_UNICODE, 8 },
	[M_UNICODE_ASCII] = { L(unicode_ascii_data), G_UNICODE, 0 },
	[M_CEVAL_GIL] = { L(interp_ceval_gil), G_INTERP, 8 },
};
#undef L

/* Where one minor's _Py_DebugOffsets keeps each value (byte positions;
 * from that version's Include/internal/pycore_debug_offsets.h). */
struct shape {
	int minor;
	uint16_t size;                /* sizeof(_Py_DebugOffsets) */
	uint16_t group[NR_GROUPS];    /* each group's size entry */
	uint16_t at[NR_MEMBERS];
	uint16_t compact_at;          /* sizeof(PyCompactUnicodeObject), 0: not in the table */
	uint32_t owner_cstack;        /* FRAME_OWNED_BY_CSTACK (an enum: not in the table) */
};

static const struct shape shapes[] = {
	{ 13, 584, { 24, 48, 152, 224, 272, 352, 512, 536 },
	  { 40, 64, 72, 168, 184, 192, 200, 232, 240, 248, 264, 280, 288, 296, 304, 312, 344, 360,
	    520, 528, 544, 552, 560, 112 }, 0, 3 },
	{ 14, 760, { 24, 48, 176, 248, 312, 400, 592, 616 },
	  { 40, 64, 72, 192, 208, 216, 224, 256, 264, 272, 288, 320, 328, 336, 344, 352, 384, 408,
	    600, 608, 624, 632, 640, 120 }, 0, 4 },
	{ 15, 888, { 24, 48, 176, 312, 376, 464, 688, 712 },
	  { 40, 64, 72, 192, 208, 240, 248, 320, 328, 336, 352, 384, 392, 400, 408, 416, 448, 472,
	    696, 704, 720, 728, 736, 120 }, 744, 4 },
};
#define NR_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* A struct larger than this is not one of CPython's. */
#define MAX_STRUCT_SIZE (1u << 24)

static uint64_t value_at(const void *dbg, unsigned int at)
{
	uint64_t v;

	memcpy(&v, (const char *)dbg + at, sizeof(v));
	return v;
}

static uint32_t *member_ptr(struct rt_layout_cpython *c, size_t member)
{
	return (uint32_t *)((char *)c + member);
}

/* The shape for @minor: its own, or the newest for a later minor. */
static const struct shape *shape_for(int minor)
{
	if (minor >= shapes[NR_SHAPES - 1].minor)
		return &shapes[NR_SHAPES - 1];
	for (size_t i = 0; i < NR_SHAPES; i++)
		if (shapes[i].minor == minor)
			return &shapes[i];
	return NULL;
}

/* Checks the sizes and offsets read with shape @s against each other. */
static int check_sizes(const void *dbg, const struct shape *s, uint64_t *size, char *msg,
		       size_t msg_size)
{
	for (int g = 0; g < NR_GROUPS; g++) {
		size[g] = value_at(dbg, s->group[g]);
		if (size[g] < 8 || size[g] >= MAX_STRUCT_SIZE) {
			snprintf(msg, msg_size, "its _Py_DebugOffsets gives %s a size of %llu",
				 group_names[g], (unsigned long long)size[g]);
			return -EINVAL;
		}
	}
	/* fixed points: a table read with the wrong shape fails these */
	if (size[G_OBJECT] != 16 || value_at(dbg, s->at[M_OB_TYPE]) != 8) {
		snprintf(msg, msg_size, "its _Py_DebugOffsets says PyObject is %llu bytes with ob_type at "
			 "%llu, not 16 and 8: a table of another shape",
			 (unsigned long long)size[G_OBJECT],
			 (unsigned long long)value_at(dbg, s->at[M_OB_TYPE]));
		return -EINVAL;
	}
	for (int m = 0; m < NR_MEMBERS; m++) {
		uint64_t v = value_at(dbg, s->at[m]);

		if (v + members[m].width > size[members[m].group]) {
			snprintf(msg, msg_size, "its _Py_DebugOffsets puts a member of %s at %llu, "
				 "beyond its size %llu", group_names[members[m].group],
				 (unsigned long long)v, (unsigned long long)size[members[m].group]);
			return -EINVAL;
		}
	}
	return 0;
}

int rt_debug_offsets__parse(const void *dbg, size_t len, int major, int minor, struct rt_layout *out,
			    char *msg, size_t msg_size)
{
	const struct shape *s = major == 3 ? shape_for(minor) : NULL;
	struct rt_layout_cpython *c = &out->cpython;
	uint64_t hex, size[NR_GROUPS];
	int err;

	if (!s) {
		snprintf(msg, msg_size, "CPython %d.%d has no _Py_DebugOffsets (3.13+)", major, minor);
		return -ENOTSUP;
	}
	if (len < s->size || memcmp(dbg, "xdebugpy", 8)) {
		snprintf(msg, msg_size, "no _Py_DebugOffsets cookie at the start of _PyRuntime");
		return -EINVAL;
	}
	hex = value_at(dbg, 8);
	if ((int)(hex >> 24) != major || (int)((hex >> 16) & 0xff) != minor) {
		snprintf(msg, msg_size, "its _Py_DebugOffsets is for version %d.%d, its file says %d.%d",
			 (int)(hex >> 24), (int)((hex >> 16) & 0xff), major, minor);
		return -EINVAL;
	}
	if (value_at(dbg, 16)) {
		snprintf(msg, msg_size, "a free-threaded build (no GIL): its thread and frame model is "
			 "not walked");
		return -EINVAL;
	}
	err = check_sizes(dbg, s, size, msg, msg_size);
	if (err)
		return err;

	memset(out, 0, sizeof(*out));
	memset(&out->cpython, 0xff, sizeof(out->cpython));
	memset(&out->debug, 0xff, sizeof(out->debug));
	out->runtime = RT_RUNTIME_CPYTHON;
	out->major = major;
	out->minor = minor;
	out->patch_min = out->patch_max = (int)((hex >> 8) & 0xff);
	out->linetable_format = "cpython-3.11";
	for (int m = 0; m < NR_MEMBERS; m++) {
		*member_ptr(c, members[m].member) = (uint32_t)value_at(dbg, s->at[m]);
		*member_ptr(&out->debug, members[m].member) = s->at[m];
	}
	c->anchor = RT_LAYOUT_ANCHOR_RUNTIME;
	c->runtime_debug_offsets = 0;
	c->debug_offsets_size = s->size;
	c->frame_size = (uint32_t)size[G_FRAME];
	c->frame_owner_generator = 1;
	c->frame_owner_cstack = s->owner_cstack;
	/* PyCompactUnicodeObject is PyASCIIObject plus utf8_length and utf8
	 * where the table does not say */
	c->unicode_compact_data = s->compact_at ? (uint32_t)value_at(dbg, s->compact_at) :
						  c->unicode_ascii_data + 16;
	if (c->unicode_compact_data > size[G_UNICODE]) {
		snprintf(msg, msg_size, "its _Py_DebugOffsets gives PyCompactUnicodeObject a size of %u",
			 c->unicode_compact_data);
		return -EINVAL;
	}
	return 0;
}

int rt_debug_offsets__compare(const struct rt_layout *own, const struct rt_layout *table, char *msg,
			      size_t msg_size)
{
	if (table->runtime != RT_RUNTIME_CPYTHON || table->major != own->major ||
	    table->minor != own->minor) {
		snprintf(msg, msg_size, "the layout is for %s %d.%d, the process runs %d.%d",
			 rt_layout__runtime_name(table->runtime), table->major, table->minor, own->major,
			 own->minor);
		return -EINVAL;
	}
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
		const struct rt_layout_field *f = &rt_layout_cpython_fields[i];
		uint32_t mine = rt_layout_cpython__get(&own->cpython, f);
		uint32_t theirs = rt_layout_cpython__get(&table->cpython, f);

		if (mine == RT_LAYOUT_NONE || theirs == RT_LAYOUT_NONE || mine == theirs)
			continue;
		snprintf(msg, msg_size, "the layout says %s is %u, the process's _Py_DebugOffsets says %u",
			 f->name, theirs, mine);
		return -EINVAL;
	}
	return 0;
}
