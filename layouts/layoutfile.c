/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/layoutfile.h"

/* Where each member comes from, newest spelling first: alternatives are
 * tried in order (rt_dwarf_types__eval).  @debug names the same value in
 * 3.13's _Py_DebugOffsets. */
struct spec {
	const char *field;
	const char *dwarf;
	const char *debug;
	bool required;
};

static const struct spec cpython_specs[] = {
	{ "runtime_interpreters_head", "pyruntimestate.interpreters.head",
	  "_Py_DebugOffsets.runtime_state.interpreters_head", false },
	{ "runtime_debug_offsets", "pyruntimestate.debug_offsets", NULL, false },
	{ "debug_offsets_size", "sizeof:_Py_DebugOffsets", NULL, false },
	{ "interp_next", "_is.next", "_Py_DebugOffsets.interpreter_state.next", true },
	{ "interp_threads_head", "_is.threads.head|_is.tstate_head",
	  "_Py_DebugOffsets.interpreter_state.threads_head", true },
	{ "tstate_next", "_ts.next", "_Py_DebugOffsets.thread_state.next", true },
	{ "tstate_thread_id", "_ts.thread_id", "_Py_DebugOffsets.thread_state.thread_id", true },
	{ "tstate_native_thread_id", "_ts.native_thread_id",
	  "_Py_DebugOffsets.thread_state.native_thread_id", false },
	{ "tstate_cframe", "_ts.cframe", NULL, false },
	{ "tstate_frame", "_ts.current_frame|_ts.frame",
	  "_Py_DebugOffsets.thread_state.current_frame", false },
	{ "cframe_current_frame", "_PyCFrame.current_frame", NULL, false },
	{ "frame_code", "_PyInterpreterFrame.f_code|_PyInterpreterFrame.f_executable|_frame.f_code",
	  "_Py_DebugOffsets.interpreter_frame.executable", true },
	{ "frame_previous", "_PyInterpreterFrame.previous|_frame.f_back",
	  "_Py_DebugOffsets.interpreter_frame.previous", true },
	{ "frame_instr_ptr", "_PyInterpreterFrame.prev_instr|_PyInterpreterFrame.instr_ptr",
	  "_Py_DebugOffsets.interpreter_frame.instr_ptr", false },
	{ "frame_lasti", "_frame.f_lasti", NULL, false },
	{ "frame_is_entry", "_PyInterpreterFrame.is_entry", NULL, false },
	{ "frame_owner", "_PyInterpreterFrame.owner", "_Py_DebugOffsets.interpreter_frame.owner", false },
	{ "frame_owner_generator", "enum:FRAME_OWNED_BY_GENERATOR", NULL, false },
	{ "frame_owner_cstack", "enum:FRAME_OWNED_BY_CSTACK", NULL, false },
	{ "frame_size", "sizeof:_PyInterpreterFrame|sizeof:_frame", NULL, true },
	{ "code_firstlineno", "PyCodeObject.co_firstlineno",
	  "_Py_DebugOffsets.code_object.firstlineno", true },
	{ "code_name", "PyCodeObject.co_name", "_Py_DebugOffsets.code_object.name", true },
	{ "code_qualname", "PyCodeObject.co_qualname", "_Py_DebugOffsets.code_object.qualname", false },
	{ "code_filename", "PyCodeObject.co_filename", "_Py_DebugOffsets.code_object.filename", true },
	{ "code_linetable", "PyCodeObject.co_linetable|PyCodeObject.co_lnotab",
	  "_Py_DebugOffsets.code_object.linetable", true },
	{ "code_firsttraceable", "PyCodeObject._co_firsttraceable", NULL, false },
	{ "code_code_adaptive", "PyCodeObject.co_code_adaptive",
	  "_Py_DebugOffsets.code_object.co_code_adaptive", false },
	{ "object_type", "_object.ob_type", "_Py_DebugOffsets.pyobject.ob_type", true },
	{ "unicode_length", "PyASCIIObject.length", "_Py_DebugOffsets.unicode_object.length", false },
	{ "unicode_state", "PyASCIIObject.state", "_Py_DebugOffsets.unicode_object.state", false },
	{ "unicode_ascii_data", "sizeof:PyASCIIObject",
	  "_Py_DebugOffsets.unicode_object.asciiobject_size", false },
	{ "unicode_compact_data", "sizeof:PyCompactUnicodeObject", NULL, false },
	{ "bytes_size", "PyBytesObject.ob_base.ob_size|PyStringObject.ob_size",
	  "_Py_DebugOffsets.bytes_object.ob_size", true },
	{ "bytes_data", "PyBytesObject.ob_sval|PyStringObject.ob_sval",
	  "_Py_DebugOffsets.bytes_object.ob_sval", true },
	{ "runtime_ceval_gil", "pyruntimestate.ceval.gil", NULL, false },
	{ "runtime_interpreters_main", "pyruntimestate.interpreters.main", NULL, false },
	{ "interp_ceval_gil", "_is.ceval.gil", "_Py_DebugOffsets.interpreter_state.ceval_gil", false },
	{ "gil_size", "sizeof:_gil_runtime_state", NULL, false },
	{ "gil_last_holder", "_gil_runtime_state.last_holder", NULL, false },
	{ "gil_locked", "_gil_runtime_state.locked", NULL, false },
};

static const struct rt_layout_field *field_named(const char *name)
{
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++)
		if (!strcmp(rt_layout_cpython_fields[i].name, name))
			return &rt_layout_cpython_fields[i];
	return NULL;
}

static void set(struct rt_layout_cpython *c, const struct rt_layout_field *f, uint32_t v)
{
	*(uint32_t *)((char *)c + f->offset) = v;
}

static void set_all_none(struct rt_layout_cpython *c)
{
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++)
		set(c, &rt_layout_cpython_fields[i], RT_LAYOUT_NONE);
}

static const char *linetable_format(const struct rt_pyversion *v)
{
	if (v->major > 3 || (v->major == 3 && v->minor >= 11))
		return "cpython-3.11";
	if (v->major == 3 && v->minor == 10)
		return "cpython-3.10";
	return "cpython-lnotab";
}

int rt_layout_file__from_dwarf(const struct rt_dwarf_types *types, const struct rt_pyversion *version,
			       const char *source, struct rt_layout_file *out, const char **missing)
{
	const char *base = strrchr(source, '/');

	memset(out, 0, sizeof(*out));
	out->version = *version;
	snprintf(out->source, sizeof(out->source), "%s", base ? base + 1 : source);
	snprintf(out->linetable_format, sizeof(out->linetable_format), "%s", linetable_format(version));
	set_all_none(&out->cpython);
	set_all_none(&out->debug);
	for (size_t i = 0; i < sizeof(cpython_specs) / sizeof(cpython_specs[0]); i++) {
		const struct spec *s = &cpython_specs[i];
		const struct rt_layout_field *f = field_named(s->field);
		int64_t v;

		if (!f)
			return -EINVAL; /* a spec out of step with layout.h */
		if (!rt_dwarf_types__eval(types, s->dwarf, &v) && v >= 0 && v < UINT32_MAX)
			set(&out->cpython, f, (uint32_t)v);
		else if (s->required) {
			*missing = s->field;
			return -ENOENT;
		}
		if (s->debug && !rt_dwarf_types__eval(types, s->debug, &v) && v >= 0 && v < UINT32_MAX)
			set(&out->debug, f, (uint32_t)v);
	}
	/* Without _PyRuntime (2.7, 3.6) the interpreter list starts at the
	 * static interp_head pointer itself. */
	if (out->cpython.runtime_interpreters_head == RT_LAYOUT_NONE) {
		out->cpython.anchor = RT_LAYOUT_ANCHOR_INTERP_HEAD;
		out->cpython.runtime_interpreters_head = 0;
	} else {
		out->cpython.anchor = RT_LAYOUT_ANCHOR_RUNTIME;
	}
	/* a frame is reached either through a _PyCFrame or directly */
	if (out->cpython.frame_code == RT_LAYOUT_NONE ||
	    (out->cpython.cframe_current_frame == RT_LAYOUT_NONE &&
	     out->cpython.tstate_frame == RT_LAYOUT_NONE)) {
		*missing = "tstate_frame";
		return -ENOENT;
	}
	if (out->cpython.frame_instr_ptr == RT_LAYOUT_NONE && out->cpython.frame_lasti == RT_LAYOUT_NONE) {
		*missing = "frame_lasti";
		return -ENOENT;
	}
	return 0;
}

int rt_layout_file__write(FILE *out, const struct rt_layout_file *f)
{
	fprintf(out, "# rtperf interpreter layout (docs/layouts.md)\n");
	fprintf(out, "runtime cpython\n");
	fprintf(out, "version %d.%d.%d\n", f->version.major, f->version.minor, f->version.patch);
	fprintf(out, "source %s\n", f->source[0] ? f->source : "-");
	fprintf(out, "linetable_format %s\n", f->linetable_format);
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
		const struct rt_layout_field *fl = &rt_layout_cpython_fields[i];
		uint32_t v = rt_layout_cpython__get(&f->cpython, fl);

		if (v == RT_LAYOUT_NONE)
			fprintf(out, "%s none\n", fl->name);
		else
			fprintf(out, "%s %u\n", fl->name, v);
	}
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
		const struct rt_layout_field *fl = &rt_layout_cpython_fields[i];
		uint32_t v = rt_layout_cpython__get(&f->debug, fl);

		if (v != RT_LAYOUT_NONE)
			fprintf(out, "debug.%s %u\n", fl->name, v);
	}
	return ferror(out) ? -EIO : 0;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!strcmp(s, "none")) {
		*out = RT_LAYOUT_NONE;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int rt_layout_file__read(const char *path, struct rt_layout_file *out, int *bad_line)
{
	char line[512];
	FILE *f = fopen(path, "re");
	bool have_runtime = false, have_version = false;
	int lineno = 0, err = 0;

	if (!f)
		return -errno;
	memset(out, 0, sizeof(*out));
	set_all_none(&out->cpython);
	set_all_none(&out->debug);
	while (fgets(line, sizeof(line), f)) {
		char key[128], value[256], extra[2];
		const struct rt_layout_field *fl;
		struct rt_layout_cpython *target = &out->cpython;
		const char *name = key;
		uint32_t v;
		int n;

		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			goto bad;
		n = sscanf(line, "%127s %255s %1s", key, value, extra);
		if (n <= 0 || key[0] == '#')
			continue;
		if (n != 2)
			goto bad;
		if (!strcmp(key, "runtime")) {
			if (strcmp(value, "cpython"))
				goto bad;
			have_runtime = true;
		} else if (!strcmp(key, "version")) {
			if (rt_pyversion__parse(value, &out->version))
				goto bad;
			have_version = true;
		} else if (!strcmp(key, "source")) {
			snprintf(out->source, sizeof(out->source), "%s", value);
		} else if (!strcmp(key, "linetable_format")) {
			if (strcmp(value, "cpython-lnotab") && strcmp(value, "cpython-3.10") &&
			    strcmp(value, "cpython-3.11"))
				goto bad;
			strcpy(out->linetable_format, value);
		} else {
			if (!strncmp(key, "debug.", 6)) {
				target = &out->debug;
				name = key + 6;
			}
			fl = field_named(name);
			if (!fl || !parse_u32(value, &v))
				goto bad;
			set(target, fl, v);
		}
	}
	if (!have_runtime || !have_version) {
		lineno = 0;
		goto bad;
	}
	if (!out->linetable_format[0])
		snprintf(out->linetable_format, sizeof(out->linetable_format), "%s",
			 linetable_format(&out->version));
	fclose(f);
	return 0;
bad:
	*bad_line = lineno;
	err = -EINVAL;
	fclose(f);
	return err;
}

static int version_cmp(const void *a, const void *b)
{
	const struct rt_pyversion *x = &((const struct rt_layout_file *)a)->version;
	const struct rt_pyversion *y = &((const struct rt_layout_file *)b)->version;

	if (x->major != y->major)
		return x->major - y->major;
	if (x->minor != y->minor)
		return x->minor - y->minor;
	return x->patch - y->patch;
}

static bool same_layout(const struct rt_layout_file *a, const struct rt_layout_file *b)
{
	return a->version.major == b->version.major && a->version.minor == b->version.minor &&
	       !strcmp(a->linetable_format, b->linetable_format) &&
	       !memcmp(&a->cpython, &b->cpython, sizeof(a->cpython)) &&
	       !memcmp(&a->debug, &b->debug, sizeof(a->debug));
}

static void write_values(FILE *out, const char *member, const struct rt_layout_cpython *c)
{
	fprintf(out, "\t\t.%s = {\n", member);
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
		const struct rt_layout_field *fl = &rt_layout_cpython_fields[i];
		uint32_t v = rt_layout_cpython__get(c, fl);

		if (v == RT_LAYOUT_NONE)
			fprintf(out, "\t\t\t.%s = RT_LAYOUT_NONE,\n", fl->name);
		else
			fprintf(out, "\t\t\t.%s = %u,\n", fl->name, v);
	}
	fprintf(out, "\t\t},\n");
}

int rt_layout_file__generate(FILE *out, struct rt_layout_file *files, size_t n,
			     const char *generator)
{
	size_t entries = 0;

	qsort(files, n, sizeof(*files), version_cmp);
	for (size_t i = 1; i < n; i++)
		if (!version_cmp(&files[i - 1], &files[i]))
			return -EINVAL;
	fprintf(out, "/* SPDX-License-Identifier: GPL-2.0-only */\n");
	fprintf(out, "/* generated by %s, do not edit: run `make layouts` (docs/layouts.md) */\n",
		generator);
	fprintf(out, "#include \"layouts/layout.h\"\n#include \"layouts/tables.h\"\n\n");
	fprintf(out, "const struct rt_layout rt_layout_cpython_table[] = {\n");
	for (size_t i = 0; i < n;) {
		const struct rt_layout_file *f = &files[i];
		size_t j = i + 1;
		int patch_min, patch_max;

		while (j < n && same_layout(&files[j], f))
			j++;
		patch_min = (i == 0 || files[i - 1].version.minor != f->version.minor ||
			     files[i - 1].version.major != f->version.major) ? 0 : f->version.patch;
		patch_max = (j < n && files[j].version.major == f->version.major &&
			     files[j].version.minor == f->version.minor) ?
				    files[j].version.patch - 1 : 99;
		fprintf(out, "\t{\n\t\t/* from");
		for (size_t k = i; k < j; k++)
			fprintf(out, " %d.%d.%d (%s)", files[k].version.major, files[k].version.minor,
				files[k].version.patch, files[k].source);
		fprintf(out, " */\n");
		fprintf(out, "\t\t.runtime = RT_RUNTIME_CPYTHON, .major = %d, .minor = %d,\n",
			f->version.major, f->version.minor);
		fprintf(out, "\t\t.patch_min = %d, .patch_max = %d,\n", patch_min, patch_max);
		fprintf(out, "\t\t.linetable_format = \"%s\",\n", f->linetable_format);
		write_values(out, "cpython", &f->cpython);
		write_values(out, "debug", &f->debug);
		fprintf(out, "\t},\n");
		entries++;
		i = j;
	}
	fprintf(out, "};\n\nconst size_t rt_layout_cpython_table_len = %zu;\n", entries);
	return ferror(out) ? -EIO : 0;
}
