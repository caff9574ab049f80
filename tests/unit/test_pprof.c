/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for rtmerge/pprof: profiles decoded back with a small
 * wire-format reader and checked against profile.proto's meaning. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rtmerge/pprof.h"

/* ---- a minimal reader ---- */

struct field {
	uint32_t num;
	unsigned int type;
	uint64_t value;             /* varint */
	const uint8_t *data;        /* length-delimited */
	size_t len;
};

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The next field of [*p, end); false at the end or on bad input. */
static bool next_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t key;

	if (*p >= end || !get_varint(p, end, &key))
		return false;
	f->num = (uint32_t)(key >> 3);
	f->type = key & 7;
	if (f->type == 0)
		return get_varint(p, end, &f->value);
	if (f->type != 2 || !get_varint(p, end, &f->value) || f->value > (uint64_t)(end - *p))
		return false;
	f->data = *p;
	f->len = (size_t)f->value;
	*p += f->len;
	return true;
}

#define FOR_FIELDS(f, buf, size) \
	for (const uint8_t *p_ = (buf), *e_ = (buf) + (size); next_field(&p_, e_, &(f));)

struct decoded {
	char *strings[256];
	size_t nr_strings;
	size_t nr_samples, nr_locations, nr_functions, nr_mappings;
	uint64_t total_count, total_cpu;
	int64_t period, default_type;
	int64_t type[4], unit[4];   /* the sample types' string indexes */
	size_t nr_types;
	bool bad;
};

static void decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	struct field f;

	memset(d, 0, sizeof(*d));
	FOR_FIELDS(f, buf, len) {
		switch (f.num) {
		case 2: {
			struct field g;

			d->nr_samples++;
			FOR_FIELDS(g, f.data, f.len)
				if (g.num == 2) {
					const uint8_t *q = g.data, *end = g.data + g.len;
					uint64_t v;

					if (get_varint(&q, end, &v))
						d->total_count += v;
					if (q < end && get_varint(&q, end, &v))
						d->total_cpu += v;
				}
			break;
		}
		case 1: {
			struct field g;

			if (d->nr_types >= 4)
				break;
			FOR_FIELDS(g, f.data, f.len) {
				if (g.num == 1)
					d->type[d->nr_types] = (int64_t)g.value;
				else if (g.num == 2)
					d->unit[d->nr_types] = (int64_t)g.value;
			}
			d->nr_types++;
			break;
		}
		case 3: d->nr_mappings++; break;
		case 4: d->nr_locations++; break;
		case 5: d->nr_functions++; break;
		case 6:
			if (d->nr_strings < 256)
				d->strings[d->nr_strings++] = strndup((const char *)f.data, f.len);
			break;
		case 12: d->period = (int64_t)f.value; break;
		case 14: d->default_type = (int64_t)f.value; break;
		}
	}
}

static void decoded_free(struct decoded *d)
{
	for (size_t i = 0; i < d->nr_strings; i++)
		free(d->strings[i]);
}

static const char *str(const struct decoded *d, uint64_t i)
{
	return i < d->nr_strings ? d->strings[i] : "<bad index>";
}

/* ---- fixtures ---- */

static uint32_t id_of(struct rt_stacks *s, const char *name)
{
	int64_t id = rt_stacks__intern(s, name, strlen(name));

	CU_ASSERT_FATAL(id >= 0);
	return (uint32_t)id;
}

static void add(struct rt_stacks *s, const char *const *names, uint32_t n, uint64_t count,
		uint64_t period)
{
	uint32_t ids[16];

	for (uint32_t i = 0; i < n; i++)
		ids[i] = id_of(s, names[i]);
	CU_ASSERT_EQUAL_FATAL(rt_stacks__add(s, ids, n, count, period), 0);
}

static bool origin(void *ctx, const char *frame, struct rt_pprof_origin *out)
{
	static const uint8_t bid[] = { 0xde, 0xad, 0xbe, 0xef };

	if (strcmp(frame, "memcpy"))
		return false;
	*out = (struct rt_pprof_origin){ "/lib/libc.so.6", bid, sizeof(bid) };
	return true;
}

static struct rt_stacks *fixture(void)
{
	struct rt_stacks *s = rt_stacks__new();
	const char *a[] = { "py-10/10", "main (app.py:3)", "hot (app.py:7)" };
	const char *b[] = { "py-10/10", "main (app.py:3)", "cold (app.py:9)", "memcpy" };
	const char *c[] = { "wor\"ker-10/11", "main (app.py:3)", "do_syscall_64_[k]" };
	const char *d[] = { "py-10/10", "hot (app.py:8)" };

	add(s, a, 3, 7, 7000);
	add(s, b, 4, 3, 3000);
	add(s, c, 3, 5, 5000);
	add(s, d, 2, 2, 2000);
	return s;
}

static const struct rt_pprof_opts opts = {
	.sz = sizeof(opts),
	.cpu_time = true,
	.period = 1000,
	.native_origin = origin,
};

/* ---- tests ---- */

static void test_totals(void)
{
	struct rt_stacks *s = fixture();
	struct rt_protobuf pb;
	struct decoded d;

	rt_protobuf__init(&pb);
	CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &opts, &pb), 0);
	decode(pb.data, pb.len, &d);
	CU_ASSERT_STRING_EQUAL(str(&d, 0), "");
	CU_ASSERT_EQUAL(d.nr_samples, 4);
	CU_ASSERT_EQUAL(d.total_count, 17);
	CU_ASSERT_EQUAL(d.total_cpu, 17000);
	CU_ASSERT_EQUAL(d.period, 1000);
	CU_ASSERT_STRING_EQUAL(str(&d, (uint64_t)d.default_type), "samples");
	/* main, hot:7, cold, memcpy, do_syscall_64, hot:8 */
	CU_ASSERT_EQUAL(d.nr_locations, 6);
	/* main, hot (both lines), cold, memcpy, do_syscall_64 */
	CU_ASSERT_EQUAL(d.nr_functions, 5);
	CU_ASSERT_EQUAL(d.nr_mappings, 2);      /* libc, the kernel */
	decoded_free(&d);
	rt_protobuf__exit(&pb);

	/* Wall-clock time (rtmerge --wall): its own type and unit, no period. */
	{
		struct rt_pprof_opts o = opts;

		o.time_type = "wall";
		o.time_unit = "microseconds";
		rt_protobuf__init(&pb);
		CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &o, &pb), 0);
		decode(pb.data, pb.len, &d);
		CU_ASSERT_EQUAL(d.total_cpu, 17000);
		CU_ASSERT_EQUAL(d.period, 0);
		CU_ASSERT_EQUAL_FATAL(d.nr_types, 2);
		CU_ASSERT_STRING_EQUAL(str(&d, (uint64_t)d.type[0]), "samples");
		CU_ASSERT_STRING_EQUAL(str(&d, (uint64_t)d.type[1]), "wall");
		CU_ASSERT_STRING_EQUAL(str(&d, (uint64_t)d.unit[1]), "microseconds");
		decoded_free(&d);
		rt_protobuf__exit(&pb);
	}
	/* Without CPU time: one value per sample. */
	{
		struct rt_pprof_opts o = { .sz = sizeof(o) };

		rt_protobuf__init(&pb);
		CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &o, &pb), 0);
		decode(pb.data, pb.len, &d);
		CU_ASSERT_EQUAL(d.total_count, 17);
		CU_ASSERT_EQUAL(d.total_cpu, 0);
		CU_ASSERT_EQUAL(d.nr_mappings, 1);  /* the kernel's only */
		decoded_free(&d);
		rt_protobuf__exit(&pb);
	}
	rt_stacks__free(s);
}

/* Finds the location with id @id and returns its Line's function id and line. */
static bool location_line(const struct rt_protobuf *pb, uint64_t id, uint64_t *function,
			  int64_t *line, uint64_t *mapping)
{
	struct field f, g, h;

	FOR_FIELDS(f, pb->data, pb->len) {
		uint64_t lid = 0;

		if (f.num != 4)
			continue;
		*function = 0;
		*line = 0;
		*mapping = 0;
		FOR_FIELDS(g, f.data, f.len) {
			if (g.num == 1)
				lid = g.value;
			else if (g.num == 2)
				*mapping = g.value;
			else if (g.num == 4)
				FOR_FIELDS(h, g.data, g.len) {
					if (h.num == 1)
						*function = h.value;
					else if (h.num == 2)
						*line = (int64_t)h.value;
				}
		}
		if (lid == id)
			return true;
	}
	return false;
}

/* The name and file string ids of function @id. */
static bool function_names(const struct rt_protobuf *pb, uint64_t id, uint64_t *name,
			   uint64_t *file)
{
	struct field f, g;

	FOR_FIELDS(f, pb->data, pb->len) {
		uint64_t fid = 0;

		if (f.num != 5)
			continue;
		*name = *file = 0;
		FOR_FIELDS(g, f.data, f.len) {
			if (g.num == 1)
				fid = g.value;
			else if (g.num == 2)
				*name = g.value;
			else if (g.num == 4)
				*file = g.value;
		}
		if (fid == id)
			return true;
	}
	return false;
}

/* rt-bpf record --tasks: a sample's [task] frame is also its "task" label. */
static void test_task_label(void)
{
	struct rt_stacks *s = rt_stacks__new();
	const char *a[] = { "py-10/10", "Handle._run (asyncio/events.py:80)",
			    "[task] Task-3 blocker", "blocker (app.py:20)" };
	struct rt_protobuf pb;
	struct decoded d;
	bool key = false, value = false;

	add(s, a, 4, 2, 2000);
	rt_protobuf__init(&pb);
	CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &opts, &pb), 0);
	decode(pb.data, pb.len, &d);
	for (size_t i = 0; i < d.nr_strings; i++) {
		key |= !strcmp(d.strings[i], "task");
		value |= !strcmp(d.strings[i], "Task-3 blocker");
	}
	CU_ASSERT(key && value);
	decoded_free(&d);
	rt_protobuf__exit(&pb);
	rt_stacks__free(s);
}

/* The first sample's leaf-first frames and labels, as text. */
static void test_first_sample(void)
{
	struct rt_stacks *s = fixture();
	struct rt_protobuf pb;
	struct decoded d;
	struct field f, g, h;
	uint64_t locs[8], nr_locs = 0;
	char labels[256] = "";

	rt_protobuf__init(&pb);
	CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &opts, &pb), 0);
	decode(pb.data, pb.len, &d);
	FOR_FIELDS(f, pb.data, pb.len) {
		if (f.num != 2)
			continue;
		FOR_FIELDS(g, f.data, f.len) {
			if (g.num == 1) {
				const uint8_t *q = g.data;

				while (q < g.data + g.len && nr_locs < 8)
					get_varint(&q, g.data + g.len, &locs[nr_locs++]);
			} else if (g.num == 3) {
				uint64_t key = 0, sv = 0, num = 0;
				char one[64];

				FOR_FIELDS(h, g.data, g.len) {
					if (h.num == 1)
						key = h.value;
					else if (h.num == 2)
						sv = h.value;
					else if (h.num == 3)
						num = h.value;
				}
				if (sv)
					snprintf(one, sizeof(one), "%s=%s ", str(&d, key),
						 str(&d, sv));
				else
					snprintf(one, sizeof(one), "%s=%llu ", str(&d, key),
						 (unsigned long long)num);
				strncat(labels, one, sizeof(labels) - strlen(labels) - 1);
			}
		}
		break;
	}
	/* The heaviest thread first: py-10/10's stack main;hot:7. */
	CU_ASSERT_STRING_EQUAL(labels, "pid=10 tid=10 comm=py ");
	CU_ASSERT_EQUAL_FATAL(nr_locs, 2);
	{
		uint64_t fn, name, file, mapping;
		int64_t line;

		CU_ASSERT_FATAL(location_line(&pb, locs[0], &fn, &line, &mapping));
		CU_ASSERT_FATAL(function_names(&pb, fn, &name, &file));
		CU_ASSERT_STRING_EQUAL(str(&d, name), "hot");
		CU_ASSERT_STRING_EQUAL(str(&d, file), "app.py");
		CU_ASSERT_EQUAL(line, 7);
		CU_ASSERT_EQUAL(mapping, 0);
		CU_ASSERT_FATAL(location_line(&pb, locs[1], &fn, &line, &mapping));
		CU_ASSERT_FATAL(function_names(&pb, fn, &name, &file));
		CU_ASSERT_STRING_EQUAL(str(&d, name), "main");
		CU_ASSERT_EQUAL(line, 3);
	}
	decoded_free(&d);
	rt_protobuf__exit(&pb);
	rt_stacks__free(s);
}

static void test_mappings(void)
{
	struct rt_stacks *s = fixture();
	struct rt_protobuf pb;
	struct decoded d;
	struct field f, g;
	char seen[256] = "";

	rt_protobuf__init(&pb);
	CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &opts, &pb), 0);
	decode(pb.data, pb.len, &d);
	FOR_FIELDS(f, pb.data, pb.len) {
		uint64_t file = 0, bid = 0, has_functions = 0;
		char one[128];

		if (f.num != 3)
			continue;
		FOR_FIELDS(g, f.data, f.len) {
			if (g.num == 5)
				file = g.value;
			else if (g.num == 6)
				bid = g.value;
			else if (g.num == 7)
				has_functions = g.value;
		}
		snprintf(one, sizeof(one), "%s:%s:%llu ", str(&d, file), bid ? str(&d, bid) : "",
			 (unsigned long long)has_functions);
		strncat(seen, one, sizeof(seen) - strlen(seen) - 1);
	}
	/* By samples in them: the kernel (5) before libc (3), whatever the
	 * order of first use. */
	CU_ASSERT_STRING_EQUAL(seen, "[kernel.kallsyms]::1 /lib/libc.so.6:deadbeef:1 ");
	/* The kernel function's name loses merge's "_[k]". */
	{
		bool found = false;

		for (size_t i = 0; i < d.nr_strings; i++) {
			CU_ASSERT(strcmp(d.strings[i], "do_syscall_64_[k]") != 0);
			found |= !strcmp(d.strings[i], "do_syscall_64");
		}
		CU_ASSERT(found);
	}
	decoded_free(&d);
	rt_protobuf__exit(&pb);
	rt_stacks__free(s);
}

static void test_gzip(void)
{
	struct rt_stacks *s = fixture();
	struct rt_protobuf pb;
	char *gz = NULL;
	size_t gz_len = 0;
	FILE *f = open_memstream(&gz, &gz_len);
	uint8_t *plain;
	uLongf plain_len;
	z_stream z = { 0 };

	rt_protobuf__init(&pb);
	CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &opts, &pb), 0);
	CU_ASSERT_EQUAL(rt_pprof__write(s, &opts, f), 0);
	fclose(f);
	CU_ASSERT_FATAL(gz_len > 18);
	CU_ASSERT_EQUAL((uint8_t)gz[0], 0x1f);  /* gzip magic */
	CU_ASSERT_EQUAL((uint8_t)gz[1], 0x8b);
	plain_len = pb.len + 16;
	plain = malloc(plain_len);
	CU_ASSERT_EQUAL_FATAL(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)gz_len;
	z.next_out = plain;
	z.avail_out = (uInt)plain_len;
	CU_ASSERT_EQUAL(inflate(&z, Z_FINISH), Z_STREAM_END);
	CU_ASSERT_EQUAL(z.total_out, pb.len);
	CU_ASSERT_EQUAL(memcmp(plain, pb.data, pb.len), 0);
	inflateEnd(&z);
	free(plain);
	free(gz);
	rt_protobuf__exit(&pb);
	rt_stacks__free(s);
}

/* Names with bytes that are no UTF-8 become valid strings (U+FFFD). */
static void test_invalid_utf8(void)
{
	struct rt_stacks *s = rt_stacks__new();
	const char *a[] = { "p\xc3-1/1", "f\xffg (x\xe6.py:3)", "native\xed\xa0\x80" };
	struct rt_protobuf pb;
	struct decoded d;
	bool fn = false, file = false, native = false, comm = false;

	add(s, a, 3, 1, 1);
	rt_protobuf__init(&pb);
	CU_ASSERT_EQUAL_FATAL(rt_pprof__encode(s, &opts, &pb), 0);
	decode(pb.data, pb.len, &d);
	for (size_t i = 0; i < d.nr_strings; i++) {
		fn |= !strcmp(d.strings[i], "f\xef\xbf\xbdg");
		file |= !strcmp(d.strings[i], "x\xef\xbf\xbd.py");
		native |= !strcmp(d.strings[i], "native\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
		comm |= !strcmp(d.strings[i], "p\xef\xbf\xbd");
	}
	CU_ASSERT(fn && file && native && comm);
	decoded_free(&d);
	rt_protobuf__exit(&pb);
	rt_stacks__free(s);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("pprof", NULL, NULL);
	CU_add_test(suite, "totals and tables", test_totals);
	CU_add_test(suite, "a sample's locations and labels", test_first_sample);
	CU_add_test(suite, "task label", test_task_label);
	CU_add_test(suite, "mappings", test_mappings);
	CU_add_test(suite, "gzip", test_gzip);
	CU_add_test(suite, "invalid UTF-8", test_invalid_utf8);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
