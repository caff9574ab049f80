/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Layout tables: lookup by version; the generated CPython 3.11 entry
 * checked against gdb's reading of pyenv's 3.11.7 DWARF; the DWARF reader,
 * version reader, layout file format and table generator on small
 * libraries built here with known structs; the _Py_DebugOffsets check.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/python/inspect.h"
#include "layouts/dwarftypes.h"
#include "layouts/debugoffsets.h"
#include "layouts/layout.h"
#include "layouts/layoutfile.h"
#include "layouts/pyversion.h"

#define PY311_LIB "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"

static void test_find(void)
{
	const struct rt_layout *l = rt_layout__find(RT_RUNTIME_CPYTHON, 3, 11, 7);

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->major, 3);
	CU_ASSERT_EQUAL(l->minor, 11);
	CU_ASSERT_STRING_EQUAL(l->linetable_format, "cpython-3.11");
	CU_ASSERT_PTR_EQUAL(rt_layout__find(RT_RUNTIME_CPYTHON, 3, 11, 2), l);
	CU_ASSERT_PTR_EQUAL(rt_layout__find(RT_RUNTIME_CPYTHON, 3, 11, -1), l);
	errno = 0;
	CU_ASSERT_PTR_NULL(rt_layout__find(RT_RUNTIME_CPYTHON, 3, 99, 1));
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NULL(rt_layout__find(RT_RUNTIME_CPYTHON, 3, 5, 0));
	CU_ASSERT_PTR_NULL(rt_layout__find(RT_RUNTIME_NONE, 3, 11, 7));
	CU_ASSERT_STRING_EQUAL(rt_layout__runtime_name(RT_RUNTIME_CPYTHON), "cpython");
	/* every frame model is in the generated table */
	l = rt_layout__find(RT_RUNTIME_CPYTHON, 2, 7, 18);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->cpython.anchor, RT_LAYOUT_ANCHOR_INTERP_HEAD);
	CU_ASSERT_EQUAL(l->cpython.unicode_length, RT_LAYOUT_NONE);
	CU_ASSERT_STRING_EQUAL(l->linetable_format, "cpython-lnotab");
	l = rt_layout__find(RT_RUNTIME_CPYTHON, 3, 10, 13);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_STRING_EQUAL(l->linetable_format, "cpython-3.10");
	CU_ASSERT_NOT_EQUAL(l->cpython.frame_lasti, RT_LAYOUT_NONE);
	l = rt_layout__find(RT_RUNTIME_CPYTHON, 3, 13, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->cpython.cframe_current_frame, RT_LAYOUT_NONE);
	CU_ASSERT_NOT_EQUAL(l->debug.frame_previous, RT_LAYOUT_NONE);
}

struct expr_check {
	const char *expr; /* gdb expression whose value is an offset or size */
	size_t table_offset;
};

#define C(field) offsetof(struct rt_layout_cpython, field)
static const struct expr_check checks[] = {
	{ "(long)&((struct pyruntimestate*)0)->interpreters.head", C(runtime_interpreters_head) },
	{ "(long)&((struct _is*)0)->next", C(interp_next) },
	{ "(long)&((struct _is*)0)->threads.head", C(interp_threads_head) },
	{ "(long)&((struct _ts*)0)->next", C(tstate_next) },
	{ "(long)&((struct _ts*)0)->thread_id", C(tstate_thread_id) },
	{ "(long)&((struct _ts*)0)->native_thread_id", C(tstate_native_thread_id) },
	{ "(long)&((struct _ts*)0)->cframe", C(tstate_cframe) },
	{ "(long)&((struct _PyCFrame*)0)->current_frame", C(cframe_current_frame) },
	{ "(long)&((struct _PyInterpreterFrame*)0)->f_code", C(frame_code) },
	{ "(long)&((struct _PyInterpreterFrame*)0)->previous", C(frame_previous) },
	{ "(long)&((struct _PyInterpreterFrame*)0)->prev_instr", C(frame_instr_ptr) },
	{ "(long)&((struct _PyInterpreterFrame*)0)->is_entry", C(frame_is_entry) },
	{ "(long)&((struct _PyInterpreterFrame*)0)->owner", C(frame_owner) },
	{ "(long)FRAME_OWNED_BY_GENERATOR", C(frame_owner_generator) },
	{ "(long)&((PyCodeObject*)0)->co_firstlineno", C(code_firstlineno) },
	{ "(long)&((PyCodeObject*)0)->co_name", C(code_name) },
	{ "(long)&((PyCodeObject*)0)->co_qualname", C(code_qualname) },
	{ "(long)&((PyCodeObject*)0)->co_filename", C(code_filename) },
	{ "(long)&((PyCodeObject*)0)->co_linetable", C(code_linetable) },
	{ "(long)&((PyCodeObject*)0)->_co_firsttraceable", C(code_firsttraceable) },
	{ "(long)&((PyCodeObject*)0)->co_code_adaptive", C(code_code_adaptive) },
	{ "(long)sizeof(struct _PyInterpreterFrame)", C(frame_size) },
	{ "(long)&((PyASCIIObject*)0)->length", C(unicode_length) },
	{ "(long)&((PyASCIIObject*)0)->state", C(unicode_state) },
	{ "(long)sizeof(PyASCIIObject)", C(unicode_ascii_data) },
	{ "(long)sizeof(PyCompactUnicodeObject)", C(unicode_compact_data) },
	{ "(long)&((PyVarObject*)0)->ob_size", C(bytes_size) },
	{ "(long)&((PyBytesObject*)0)->ob_sval", C(bytes_data) },
	{ "(long)&((struct pyruntimestate*)0)->ceval.gil", C(runtime_ceval_gil) },
	{ "(long)&((struct pyruntimestate*)0)->interpreters.main", C(runtime_interpreters_main) },
	{ "(long)sizeof(struct _gil_runtime_state)", C(gil_size) },
	{ "(long)&((struct _gil_runtime_state*)0)->last_holder", C(gil_last_holder) },
	{ "(long)&((struct _gil_runtime_state*)0)->locked", C(gil_locked) },
};

static void test_cpython311_against_dwarf(void)
{
	const struct rt_layout *l = rt_layout__find(RT_RUNTIME_CPYTHON, 3, 11, 7);
	char cmd[8192], line[256];
	size_t n = 0, matched = 0;
	FILE *p;

	if (access(PY311_LIB, R_OK) || system("command -v gdb >/dev/null 2>&1")) {
		printf("\n  skipped: DWARF check needs gdb and %s\n", PY311_LIB);
		return;
	}
	n = snprintf(cmd, sizeof(cmd), "gdb -nx -batch");
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, " -ex 'print %s'", checks[i].expr);
	snprintf(cmd + n, sizeof(cmd) - n, " %s 2>&1", PY311_LIB);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (size_t i = 0; fgets(line, sizeof(line), p);) {
		long v;
		uint32_t want;

		if (sscanf(line, "$%*d = %ld", &v) != 1) {
			printf("\n  gdb: %s", line);
			continue;
		}
		if (i >= sizeof(checks) / sizeof(checks[0]))
			break;
		memcpy(&want, (const char *)&l->cpython + checks[i].table_offset, sizeof(want));
		if ((long)want != v)
			printf("\n  mismatch: %s = %ld, table has %u\n", checks[i].expr, v, want);
		CU_ASSERT_EQUAL((long)want, v);
		matched++;
		i++;
	}
	pclose(p);
	CU_ASSERT_EQUAL(matched, sizeof(checks) / sizeof(checks[0]));
}

/* A stand-in libpython: CPython 3.9's struct names (PyFrameObject model)
 * with made-up members around the ones structlayout reads, and a
 * Py_GetVersion passing its version string on as CPython does.  Built as a
 * library for its DWARF and as a program printing the real offsets. */
static const char fake_src[] =
	"#include <stddef.h>\n#include <stdio.h>\n"
	"typedef struct _object { long ob_refcnt; void *ob_type; } PyObject;\n"
	"typedef struct { PyObject ob_base; long ob_size; } PyVarObject;\n"
	"struct _ts { struct _ts *prev, *next; void *interp; char pad[5]; struct _frame *frame;\n"
	"  int depth; unsigned long thread_id; };\n"
	"struct _is { struct _is *next; struct _ts *tstate_head; };\n"
	"struct pyruntimestate { int preinit; char pad[19];\n"
	"  struct pyinterpreters { void *mutex; struct _is *head; } interpreters; };\n"
	"struct _frame { PyVarObject ob_base; struct _frame *f_back; void *f_code;\n"
	"  union { int a; double b; }; char c; int f_lasti; };\n"
	"typedef struct { PyObject ob_base; int co_argcount; int co_firstlineno; PyObject *co_filename;\n"
	"  PyObject *co_name; PyObject *co_lnotab; } PyCodeObject;\n"
	"typedef struct { PyVarObject ob_base; long ob_shash; char ob_sval[1]; } PyBytesObject;\n"
	"typedef struct { PyObject ob_base; long length; long hash;\n"
	"  struct { unsigned int interned:2, kind:3, compact:1, ascii:1; } state; void *wstr; } PyASCIIObject;\n"
	"typedef struct { PyASCIIObject _base; long utf8_length; char *utf8; long wstr_length; } PyCompactUnicodeObject;\n"
	"enum owner { FRAME_OWNED_BY_GENERATOR = 5 };\n"
	"struct pyruntimestate _PyRuntime; struct _ts ts; struct _is is; struct _frame fr;\n"
	"PyCodeObject co; PyBytesObject by; PyCompactUnicodeObject cu; enum owner ow;\n"
	"__attribute__((noinline)) void fmt(char *b, const char *v, const char *i) { snprintf(b, 64, \"%s (%s)\", v, i); }\n"
	"const char *Py_GetVersion(void) { static char b[64]; fmt(b, \"3.9.77\", \"main\"); return b; }\n"
	"#ifdef MAIN\n#define P(k, t, m) printf(\"%s %zu\\n\", k, offsetof(t, m))\n"
	"int main(void) {\n"
	"  P(\"runtime_interpreters_head\", struct pyruntimestate, interpreters.head);\n"
	"  P(\"interp_threads_head\", struct _is, tstate_head); P(\"tstate_next\", struct _ts, next);\n"
	"  P(\"tstate_frame\", struct _ts, frame); P(\"tstate_thread_id\", struct _ts, thread_id);\n"
	"  P(\"frame_code\", struct _frame, f_code); P(\"frame_previous\", struct _frame, f_back);\n"
	"  P(\"frame_lasti\", struct _frame, f_lasti); P(\"code_firstlineno\", PyCodeObject, co_firstlineno);\n"
	"  P(\"code_name\", PyCodeObject, co_name); P(\"code_filename\", PyCodeObject, co_filename);\n"
	"  P(\"code_linetable\", PyCodeObject, co_lnotab); P(\"bytes_size\", PyBytesObject, ob_base.ob_size);\n"
	"  P(\"bytes_data\", PyBytesObject, ob_sval); P(\"unicode_length\", PyASCIIObject, length);\n"
	"  P(\"unicode_state\", PyASCIIObject, state);\n"
	"  printf(\"unicode_ascii_data %zu\\n\", sizeof(PyASCIIObject));\n"
	"  printf(\"unicode_compact_data %zu\\n\", sizeof(PyCompactUnicodeObject));\n"
	"  printf(\"frame_size %zu\\n\", sizeof(struct _frame));\n"
	"  printf(\"frame_owner_generator %d\\n\", FRAME_OWNED_BY_GENERATOR);\n"
	"  return 0; }\n#endif\n";

static char tmpdir[64];

static int build_fake(void)
{
	char path[128], cmd[512];
	FILE *f;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rt-layout-test.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/fake.c", tmpdir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(fake_src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && cc -g -O2 -shared -fPIC -o libfake.so fake.c && cc -g -DMAIN -o fake fake.c && "
		 "./fake > expected.txt", tmpdir);
	return system(cmd) ? -1 : 0;
}

static int cleanup_fake(void)
{
	char cmd[128];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd))
			return -1;
	}
	return 0;
}

static void test_dwarftypes(void)
{
	char path[128];
	struct rt_dwarf_types *t;
	uint64_t off;
	int64_t v;

	snprintf(path, sizeof(path), "%s/libfake.so", tmpdir);
	t = rt_dwarf_types__open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* through an anonymous union: f_lasti sits after it */
	CU_ASSERT_EQUAL(rt_dwarf_types__offset(t, "_frame.c", &off), 0);
	CU_ASSERT_EQUAL(rt_dwarf_types__offset(t, "_frame.b", &off), 0);
	CU_ASSERT_EQUAL(rt_dwarf_types__offset(t, "_frame.nothere", &off), -ENOENT);
	CU_ASSERT_EQUAL(rt_dwarf_types__offset(t, "nosuchtype.x", &off), -ENOENT);
	CU_ASSERT_EQUAL(rt_dwarf_types__size(t, "PyObject", &off), 0);
	CU_ASSERT_EQUAL(off, 16);
	CU_ASSERT_EQUAL(rt_dwarf_types__enum(t, "FRAME_OWNED_BY_GENERATOR", &v), 0);
	CU_ASSERT_EQUAL(v, 5);
	/* alternatives: the first that resolves wins */
	CU_ASSERT_EQUAL(rt_dwarf_types__eval(t, "_ts.current_frame|_ts.frame", &v), 0);
	CU_ASSERT_EQUAL(rt_dwarf_types__eval(t, "_ts.current_frame|enum:NOPE", &v), -ENOENT);
	rt_dwarf_types__close(t);
	/* a file without DWARF */
	errno = 0;
	CU_ASSERT_PTR_NULL(rt_dwarf_types__open("/bin/true"));
	CU_ASSERT_EQUAL(errno, ENODATA);
}

static void test_structlayout_fake(void)
{
	char path[128], line[256];
	struct rt_layout_file lf, back;
	struct rt_dwarf_types *t;
	struct rt_pyversion v;
	const char *missing = NULL;
	size_t checked = 0;
	int bad = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/libfake.so", tmpdir);
	CU_ASSERT_EQUAL_FATAL(rt_pyversion__from_elf(path, &v), 0);
	CU_ASSERT(v.major == 3 && v.minor == 9 && v.patch == 77);
	t = rt_dwarf_types__open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL_FATAL(rt_layout_file__from_dwarf(t, &v, path, &lf, &missing), 0);
	rt_dwarf_types__close(t);
	CU_ASSERT_STRING_EQUAL(lf.source, "libfake.so");
	CU_ASSERT_STRING_EQUAL(lf.linetable_format, "cpython-lnotab");
	CU_ASSERT_EQUAL(lf.cpython.anchor, RT_LAYOUT_ANCHOR_RUNTIME);
	CU_ASSERT_EQUAL(lf.cpython.code_qualname, RT_LAYOUT_NONE);
	CU_ASSERT_EQUAL(lf.cpython.frame_instr_ptr, RT_LAYOUT_NONE);
	/* every offset the compiler reported */
	snprintf(path, sizeof(path), "%s/expected.txt", tmpdir);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f)) {
		char name[128];
		unsigned int want;

		if (sscanf(line, "%127s %u", name, &want) != 2)
			continue;
		for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
			if (strcmp(rt_layout_cpython_fields[i].name, name))
				continue;
			if (rt_layout_cpython__get(&lf.cpython, &rt_layout_cpython_fields[i]) != want)
				printf("\n  %s: structlayout %u, compiler %u\n", name,
				       rt_layout_cpython__get(&lf.cpython, &rt_layout_cpython_fields[i]), want);
			CU_ASSERT_EQUAL(rt_layout_cpython__get(&lf.cpython, &rt_layout_cpython_fields[i]), want);
			checked++;
		}
	}
	fclose(f);
	CU_ASSERT_EQUAL(checked, 20);
	/* the text form reads back to the same layout */
	snprintf(path, sizeof(path), "%s/fake.layout", tmpdir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(rt_layout_file__write(f, &lf), 0);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(rt_layout_file__read(path, &back, &bad), 0);
	CU_ASSERT_EQUAL(memcmp(&back.cpython, &lf.cpython, sizeof(lf.cpython)), 0);
	CU_ASSERT_EQUAL(memcmp(&back.debug, &lf.debug, sizeof(lf.debug)), 0);
	CU_ASSERT_EQUAL(back.version.patch, 77);
	/* malformed: the line is named */
	f = fopen(path, "a");
	fputs("frame_code twelve\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(rt_layout_file__read(path, &back, &bad), -EINVAL);
	CU_ASSERT_EQUAL(bad, 5 + (int)rt_layout_cpython_nr_fields + 1);
	/* no DWARF for a required member: a library that is not CPython */
	t = rt_dwarf_types__open(path[0] ? "/proc/self/exe" : path);
	if (t) {
		CU_ASSERT_EQUAL(rt_layout_file__from_dwarf(t, &v, "x", &back, &missing), -ENOENT);
		rt_dwarf_types__close(t);
	}
}

static void test_generate(void)
{
	struct rt_layout_file files[4];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	memset(files, 0, sizeof(files));
	for (int i = 0; i < 4; i++) {
		for (size_t k = 0; k < rt_layout_cpython_nr_fields; k++) {
			*(uint32_t *)((char *)&files[i].cpython + rt_layout_cpython_fields[k].offset) = (uint32_t)k;
			*(uint32_t *)((char *)&files[i].debug + rt_layout_cpython_fields[k].offset) = RT_LAYOUT_NONE;
		}
		strcpy(files[i].linetable_format, "cpython-3.11");
		snprintf(files[i].source, sizeof(files[i].source), "lib%d", i);
		files[i].version.major = 3;
		files[i].version.minor = 20;
	}
	/* 3.20.1 and 3.20.4 alike, 3.20.7 differs, 3.21.2 alone (given unordered) */
	files[0].version.patch = 7;
	files[0].cpython.frame_code = 999;
	files[1].version.patch = 4;
	files[2].version.patch = 1;
	files[3].version.minor = 21;
	files[3].version.patch = 2;
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(rt_layout_file__generate(f, files, 4, "test"), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "generated by test, do not edit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "/* from 3.20.1 (lib2) 3.20.4 (lib1) */"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ".minor = 20,\n\t\t.patch_min = 0, .patch_max = 6,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ".minor = 20,\n\t\t.patch_min = 7, .patch_max = 99,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ".minor = 21,\n\t\t.patch_min = 0, .patch_max = 99,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ".frame_code = 999,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "rt_layout_cpython_table_len = 3;"));
	free(buf);
	/* the same version twice is an error */
	files[1].version.patch = 1;
	buf = NULL;
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(rt_layout_file__generate(f, files, 4, "test"), -EINVAL);
	fclose(f);
	free(buf);
}

static void test_pyversion_real(void)
{
	static const char *const builds[][2] = {
		{ "/root/.pyenv/versions/2.7.18/lib/libpython2.7.so.1.0", "2.7.18" },
		{ "/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0", "3.9.18" },
		{ "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0", "3.13.0" },
		{ "/usr/bin/python3.11", NULL }, /* stripped, non-PIE: only checks 3.11.x */
	};
	int seen = 0;

	for (size_t i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		struct rt_pyversion got, want;
		char s[32];

		if (access(builds[i][0], R_OK))
			continue;
		seen++;
		CU_ASSERT_EQUAL_FATAL(rt_pyversion__from_elf(builds[i][0], &got), 0);
		snprintf(s, sizeof(s), "%d.%d.%d", got.major, got.minor, got.patch);
		if (builds[i][1]) {
			CU_ASSERT_EQUAL(rt_pyversion__parse(builds[i][1], &want), 0);
			CU_ASSERT_STRING_EQUAL(s, builds[i][1]);
		} else {
			CU_ASSERT(got.major == 3 && got.minor == 11);
		}
	}
	if (!seen)
		printf("\n  skipped: no pyenv or Debian CPython on this machine\n");
	CU_ASSERT_EQUAL(rt_pyversion__from_elf("/nonexistent", &(struct rt_pyversion){ 0 }), -ENOENT);
}

/* _Py_DebugOffsets of Debian's python3.15 3.15.2 (the start of its
 * _PyRuntime as the file initializes it), after the cookie. */
static const uint64_t debian_315[] = {
	51315440, 0, 346568, 912, 936, 226240, 7272, 7264, 7336, 7352, 7400, 7592, 7576, 7584, 16,
	7736, 0, 7752, 7744, 7944, 0, 888, 0, 8, 16, 72, 80, 88, 96, 176, 184, 256, 32, 36, 40, 136,
	288, 0, 88, 8, 0, 56, 80, 74, 64, 0, 216, 112, 120, 128, 136, 68, 52, 96, 104, 208, 0, 16, 8,
	424, 24, 88, 168, 32, 288, 944, 888, 40, 32, 16, 40, 24, 16, 200, 24, 40, 32, 48, 32, 40, 24,
	16, 32, 16, 24, 40, 16, 32, 64, 32, 16, 40, 56, 176, 112, 120, 1120, 104, 160, 24, 72, 67, 0,
	8, 24, 344, 8028, 0, 4, 512,
};

static void put64(unsigned char *buf, size_t at, uint64_t v)
{
	memcpy(buf + at, &v, sizeof(v));
}

static void fill_315(unsigned char *buf)
{
	memset(buf, 0, RT_DEBUG_OFFSETS_READ);
	memcpy(buf, "xdebugpy", 8);
	memcpy(buf + 8, debian_315, sizeof(debian_315));
}

static void test_debug_offsets_315(void)
{
	unsigned char buf[RT_DEBUG_OFFSETS_READ];
	struct rt_layout l, other;
	char msg[256];

	fill_315(buf);
	CU_ASSERT_EQUAL_FATAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 15, &l, msg, sizeof(msg)), 0);
	CU_ASSERT(l.major == 3 && l.minor == 15 && l.patch_min == 2);
	CU_ASSERT_EQUAL(l.cpython.runtime_interpreters_head, 936);
	CU_ASSERT_EQUAL(l.cpython.interp_threads_head, 7336);
	CU_ASSERT_EQUAL(l.cpython.tstate_frame, 72);
	CU_ASSERT_EQUAL(l.cpython.tstate_native_thread_id, 184);
	CU_ASSERT_EQUAL(l.cpython.frame_size, 88);
	CU_ASSERT_EQUAL(l.cpython.frame_owner, 74);
	CU_ASSERT_EQUAL(l.cpython.frame_owner_cstack, 4);
	CU_ASSERT_EQUAL(l.cpython.code_code_adaptive, 208);
	CU_ASSERT_EQUAL(l.cpython.unicode_compact_data, 56);
	CU_ASSERT_EQUAL(l.cpython.bytes_data, 32);
	CU_ASSERT_EQUAL(l.cpython.code_firsttraceable, RT_LAYOUT_NONE);
	CU_ASSERT_EQUAL(l.cpython.interp_ceval_gil, 16); /* PyInterpreterState.ceval.gil */
	/* its own table agrees with itself; a changed offset or version does not */
	CU_ASSERT_EQUAL(rt_debug_offsets__compare(&l, &l, msg, sizeof(msg)), 0);
	other = l;
	other.cpython.frame_owner = 70;
	CU_ASSERT_EQUAL(rt_debug_offsets__compare(&l, &other, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "frame_owner is 70"));
	other = l;
	other.minor = 14;
	CU_ASSERT_EQUAL(rt_debug_offsets__compare(&l, &other, msg, sizeof(msg)), -EINVAL);

	/* refusals, each with its sentence */
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 14, &l, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "version 3.15"));
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 12, &l, msg, sizeof(msg)), -ENOTSUP);
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, 100, 3, 15, &l, msg, sizeof(msg)), -EINVAL);
	buf[0] = 'X';
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 15, &l, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "cookie"));
	fill_315(buf);
	put64(buf, 16, 1);
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 15, &l, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "free-threaded"));
	fill_315(buf);
	put64(buf, 312, 40); /* a frame smaller than where its owner byte is */
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 15, &l, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "_PyInterpreterFrame"));

	/* a later minor is read with the newest shape when its fixed points
	 * hold, and refused when the table moved */
	fill_315(buf);
	put64(buf, 8, 0x031000f0);
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 16, &l, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(l.cpython.tstate_native_thread_id, 184);
	memmove(buf + 184, buf + 176, sizeof(buf) - 184); /* a member inserted into the thread state group */
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 16, &l, msg, sizeof(msg)), -EINVAL);
}

/* rt-bpf's path for a 3.14+ process: its table read from its memory (this
 * process stands in), a contradicting table refused, the walker's
 * configuration with the tagged f_executable and the renumbered owners. */
static void test_pyproc_layout_315(void)
{
	static unsigned char runtime[RT_DEBUG_OFFSETS_READ];
	struct rt_pyproc proc = { .base = { .pid = getpid(), .major = 3, .minor = 15, .patch = 2 },
				  .runtime_addr = (uintptr_t)runtime };
	struct rt_walker_config cfg;
	struct rt_layout own, table;
	char msg[256];

	fill_315(runtime);
	CU_ASSERT_EQUAL_FATAL(rt_pyproc__layout(&proc, NULL, &own, msg, sizeof(msg)), 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
	CU_ASSERT_EQUAL_FATAL(rt_pyproc__walker_config(&proc, &own, 7, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.runtime_addr, (uintptr_t)runtime);
	CU_ASSERT_EQUAL(cfg.version, 3u << 16 | 15u << 8 | 2u);
	CU_ASSERT_EQUAL(cfg.off.tstate_id, 184);
	CU_ASSERT_EQUAL(cfg.off.tstate_id_pthread, 0);
	CU_ASSERT_EQUAL(cfg.off.frame_code_tag, 3);
	CU_ASSERT_EQUAL(cfg.off.frame_owner_cstack, 3); /* FRAME_OWNED_BY_INTERPRETER and up */
	CU_ASSERT_EQUAL(cfg.off.frame_read, 75);
	/* a table that agrees adds what the process's lacks */
	table = own;
	table.cpython.code_firsttraceable = 192;
	CU_ASSERT_EQUAL(rt_pyproc__layout(&proc, &table, &own, msg, sizeof(msg)), 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
	CU_ASSERT_EQUAL(own.cpython.code_firsttraceable, 192);
	/* one that contradicts it is refused; the process's own is used */
	table.cpython.frame_previous = 16;
	CU_ASSERT_EQUAL(rt_pyproc__layout(&proc, &table, &own, msg, sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "refused: the layout says frame_previous is 16"));
	CU_ASSERT_EQUAL(own.cpython.frame_previous, 8);
	CU_ASSERT_EQUAL(own.cpython.code_firsttraceable, RT_LAYOUT_NONE);
	/* a process whose file says another patch level than its table */
	proc.base.patch = 3;
	CU_ASSERT_EQUAL(rt_pyproc__layout(&proc, NULL, &own, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "3.15.2"));
	/* before 3.13: the table as is, none is an error */
	proc.base.minor = 12;
	CU_ASSERT_EQUAL(rt_pyproc__layout(&proc, NULL, &own, msg, sizeof(msg)), -ENOENT);
}

/* The GIL's place for the walker comes from the layouts: in _PyRuntime up to
 * 3.11, through the main interpreter's ceval.gil pointer from 3.12, none
 * where the layout has none (2.7: static variables). */
static void test_gil_config(void)
{
	struct rt_pyproc proc = { .base = { .major = 3, .minor = 11, .patch = 7 }, .runtime_addr = 0x10000 };
	struct rt_walker_config cfg;
	struct rt_layout l = *rt_layout__find(RT_RUNTIME_CPYTHON, 3, 11, 7);

	CU_ASSERT_EQUAL_FATAL(rt_pyproc__walker_config(&proc, &l, 1, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.gil_addr, 0x10000 + 360);
	CU_ASSERT_EQUAL(cfg.gil_ptr_off, RT_WALKER_NONE);
	CU_ASSERT_EQUAL(cfg.gil_size, 208);
	CU_ASSERT_EQUAL(cfg.gil_last_holder, 8);
	CU_ASSERT_EQUAL(cfg.gil_locked, 16);
	proc.base.minor = 12;
	proc.base.patch = 1;
	l = *rt_layout__find(RT_RUNTIME_CPYTHON, 3, 12, 1);
	CU_ASSERT_EQUAL_FATAL(rt_pyproc__walker_config(&proc, &l, 1, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.gil_addr, 0x10000 + 48); /* _PyRuntime.interpreters.main */
	CU_ASSERT_EQUAL(cfg.gil_ptr_off, 384);        /* PyInterpreterState.ceval.gil */
	CU_ASSERT_EQUAL(cfg.gil_size, 208);
	/* a layout without the pointer: no GIL */
	l.cpython.interp_ceval_gil = RT_LAYOUT_NONE;
	CU_ASSERT_EQUAL_FATAL(rt_pyproc__walker_config(&proc, &l, 1, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.gil_addr, 0);
	/* every version from 3.7 has one, 2.7 and 3.6 none */
	for (int minor = 7; minor <= 15; minor++) {
		const struct rt_layout *t = rt_layout__find(RT_RUNTIME_CPYTHON, 3, minor, -1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		CU_ASSERT((t->cpython.runtime_ceval_gil != RT_LAYOUT_NONE) ==
			  (minor <= 11) && (t->cpython.interp_ceval_gil != RT_LAYOUT_NONE) == (minor >= 12));
		CU_ASSERT_EQUAL(t->cpython.gil_size, 208);
	}
	CU_ASSERT_EQUAL(rt_layout__find(RT_RUNTIME_CPYTHON, 2, 7, 18)->cpython.gil_size, RT_LAYOUT_NONE);
}

/* The 3.13 shape against structlayout's reading of pyenv 3.13.0's DWARF:
 * a table written at the DWARF's positions parses back to the same layout. */
static void test_debug_offsets_313(void)
{
	const struct rt_layout *l = rt_layout__find(RT_RUNTIME_CPYTHON, 3, 13, 0);
	static const unsigned int groups[][2] = { /* size entry, struct size */
		{ 24, 100000 }, { 48, 100000 }, { 152, 1000 }, { 224, 80 }, { 272, 300 }, { 352, 16 },
		{ 512, 40 }, { 536, 64 },
	};
	unsigned char buf[RT_DEBUG_OFFSETS_READ] = { 0 };
	struct rt_layout own;
	char msg[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	memcpy(buf, "xdebugpy", 8);
	put64(buf, 8, 0x030d00f0);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		put64(buf, groups[i][0], groups[i][1]);
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++) {
		uint32_t at = rt_layout_cpython__get(&l->debug, &rt_layout_cpython_fields[i]);

		if (at != RT_LAYOUT_NONE)
			put64(buf, at, rt_layout_cpython__get(&l->cpython, &rt_layout_cpython_fields[i]));
	}
	CU_ASSERT_EQUAL_FATAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 13, &own, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(rt_debug_offsets__compare(&own, l, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(own.cpython.tstate_native_thread_id, l->cpython.tstate_native_thread_id);
	CU_ASSERT_EQUAL(own.cpython.frame_owner_cstack, l->cpython.frame_owner_cstack);
	for (size_t i = 0; i < rt_layout_cpython_nr_fields; i++)
		CU_ASSERT_EQUAL(rt_layout_cpython__get(&own.debug, &rt_layout_cpython_fields[i]),
				rt_layout_cpython__get(&l->debug, &rt_layout_cpython_fields[i]));
	/* the same table said by a build with another thread state layout */
	put64(buf, l->debug.tstate_native_thread_id, l->cpython.tstate_native_thread_id + 8);
	CU_ASSERT_EQUAL(rt_debug_offsets__parse(buf, sizeof(buf), 3, 13, &own, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(rt_debug_offsets__compare(&own, l, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "tstate_native_thread_id"));
}

int main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	s = CU_add_suite("layout", build_fake, cleanup_fake);
	CU_add_test(s, "find", test_find);
	CU_add_test(s, "DWARF reader on a small library", test_dwarftypes);
	CU_add_test(s, "structlayout on a stand-in libpython", test_structlayout_fake);
	CU_add_test(s, "mergelayout version ranges", test_generate);
	CU_add_test(s, "version from real CPython files", test_pyversion_real);
	CU_add_test(s, "_Py_DebugOffsets of Debian's 3.15", test_debug_offsets_315);
	CU_add_test(s, "_Py_DebugOffsets 3.13 shape against DWARF", test_debug_offsets_313);
	CU_add_test(s, "3.15 process: own table, walker configuration", test_pyproc_layout_315);
	CU_add_test(s, "GIL place from the layouts", test_gil_config);
	CU_add_test(s, "cpython 3.11 table matches DWARF", test_cpython311_against_dwarf);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
