/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/pprof.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rtmerge/frametext.h"
#include "rtmerge/threads.h"
#include "rtmerge/utf8.h"

/* profile.proto field numbers. */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE, PROFILE_MAPPING, PROFILE_LOCATION,
	PROFILE_FUNCTION, PROFILE_STRING_TABLE, PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS,
	PROFILE_PERIOD_TYPE, PROFILE_PERIOD, PROFILE_COMMENT, PROFILE_DEFAULT_SAMPLE_TYPE,
	VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE, SAMPLE_LABEL,
	LABEL_KEY = 1, LABEL_STR, LABEL_NUM,
	MAPPING_ID = 1, MAPPING_FILENAME = 5, MAPPING_BUILD_ID, MAPPING_HAS_FUNCTIONS,
	LOCATION_ID = 1, LOCATION_MAPPING_ID, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1, LINE_LINE,
	FUNCTION_ID = 1, FUNCTION_NAME, FUNCTION_SYSTEM_NAME, FUNCTION_FILENAME,
};

#define KERNEL_MAPPING "[kernel.kallsyms]"

struct pprof {
	const struct rt_stacks *stacks;
	struct rt_pprof_opts o;
	struct rt_protobuf *pb;
	/* Interners: ids are the string table's indices, function ids - 1,
	 * mapping ids - 1 (each keyed by text). */
	struct rt_stacks *strings, *functions, *mappings;
	uint64_t *location_of;      /* frame id -> location id, 0: none yet */
	uint64_t nr_locations;
	uint64_t *ids;              /* one sample's location ids */
	size_t cap_ids;
	int err;
};

/* The string table index of s[0..len), made valid UTF-8: protobuf readers
 * of proto3 strings (Go's, which Pyroscope and Parca use) reject others. */
static uint64_t string_id(struct pprof *p, const char *s, size_t len)
{
	char fixed[3 * 1024 + 1];
	size_t i = 0, n;
	int64_t id;

	while (i < len && (n = rt_utf8__sequence((const unsigned char *)s + i, len - i)))
		i += n;
	if (i < len) {
		if (len > 1024)
			len = 1024;     /* merge's frame texts are shorter */
		len = rt_utf8__repair(s, len, fixed);
		s = fixed;
	}
	id = rt_stacks__intern(p->strings, s, len);

	if (id < 0) {
		p->err = (int)id;
		return 0;
	}
	return (uint64_t)id;
}

static uint64_t cstring_id(struct pprof *p, const char *s)
{
	return string_id(p, s, strlen(s));
}

static void put_value_type(struct pprof *p, uint32_t field, const char *type, const char *unit)
{
	size_t mark = rt_protobuf__begin(p->pb, field);

	rt_protobuf__put_int64(p->pb, VALUE_TYPE_TYPE, (int64_t)cstring_id(p, type));
	rt_protobuf__put_int64(p->pb, VALUE_TYPE_UNIT, (int64_t)cstring_id(p, unit));
	rt_protobuf__end(p->pb, mark);
}

/*
 * The id of a record keyed by @key; *is_new says it was not seen before
 * (functions and mappings are each written once, where first used).
 */
static uint64_t keyed_id(struct pprof *p, struct rt_stacks *table, const char *key, bool *is_new)
{
	size_t before = rt_stacks__nr_names(table);
	int64_t id = rt_stacks__intern(table, key, strlen(key));

	*is_new = false;
	if (id < 0) {
		p->err = (int)id;
		return 0;
	}
	*is_new = rt_stacks__nr_names(table) > before;
	return (uint64_t)id + 1;
}

static uint64_t function_id(struct pprof *p, uint64_t name, uint64_t file)
{
	char key[48];
	bool is_new;
	uint64_t id;

	snprintf(key, sizeof(key), "%" PRIu64 ":%" PRIu64, name, file);
	id = keyed_id(p, p->functions, key, &is_new);
	if (is_new) {
		size_t mark = rt_protobuf__begin(p->pb, PROFILE_FUNCTION);

		rt_protobuf__put_uint64(p->pb, FUNCTION_ID, id);
		rt_protobuf__put_int64(p->pb, FUNCTION_NAME, (int64_t)name);
		rt_protobuf__put_int64(p->pb, FUNCTION_SYSTEM_NAME, (int64_t)name);
		if (file)
			rt_protobuf__put_int64(p->pb, FUNCTION_FILENAME, (int64_t)file);
		rt_protobuf__end(p->pb, mark);
	}
	return id;
}

static uint64_t mapping_id(struct pprof *p, const char *path, const uint8_t *build_id,
			   size_t build_id_size)
{
	bool is_new;
	uint64_t id = keyed_id(p, p->mappings, path, &is_new);

	if (is_new) {
		size_t mark = rt_protobuf__begin(p->pb, PROFILE_MAPPING);
		char hex[2 * 64 + 1];

		rt_protobuf__put_uint64(p->pb, MAPPING_ID, id);
		rt_protobuf__put_int64(p->pb, MAPPING_FILENAME, (int64_t)cstring_id(p, path));
		if (build_id && build_id_size && build_id_size <= 64) {
			for (size_t i = 0; i < build_id_size; i++)
				snprintf(hex + 2 * i, 3, "%02x", build_id[i]);
			rt_protobuf__put_int64(p->pb, MAPPING_BUILD_ID,
					       (int64_t)string_id(p, hex, 2 * build_id_size));
		}
		/* Frames arrive named: pprof need not symbolize them. */
		rt_protobuf__put_uint64(p->pb, MAPPING_HAS_FUNCTIONS, 1);
		rt_protobuf__end(p->pb, mark);
	}
	return id;
}

/* The binary of native frame @text (the kernel for "_[k]" frames); false
 * for interpreter frames and native frames of unknown origin. */
static bool frame_origin(struct pprof *p, const char *text, struct rt_pprof_origin *out)
{
	struct rt_frametext_source src;
	size_t len;

	if (rt_frametext__parse_source(text, &src))
		return false;
	if (rt_frametext__is_kernel(text, &len)) {
		*out = (struct rt_pprof_origin){ KERNEL_MAPPING, p->o.kernel_build_id,
						 p->o.kernel_build_id_size };
		return true;
	}
	return p->o.native_origin && p->o.native_origin(p->o.ctx, text, out) && out->path;
}

struct mapping_weight {
	struct rt_pprof_origin origin;
	uint64_t weight;            /* samples with a frame in it */
	size_t last_stack;          /* + 1: the stack last counted */
};

static int compare_weights(const void *pa, const void *pb)
{
	const struct mapping_weight *a = pa, *b = pb;

	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return strcmp(a->origin.path, b->origin.path);
}

/*
 * Writes the mappings, the binary most samples ran in first: pprof takes
 * mapping 1 for the main binary and names it in its reports' headers.
 */
static void put_mappings(struct pprof *p)
{
	struct rt_stacks *paths = rt_stacks__new();
	struct mapping_weight *m = NULL;
	size_t nr = 0;

	if (!paths) {
		p->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < rt_stacks__nr(p->stacks) && !p->err; i++) {
		struct rt_stack st;

		rt_stacks__get(p->stacks, i, &st);
		for (uint32_t j = rt_threads__first_frame(&st); j < st.nr_frames; j++) {
			struct rt_pprof_origin origin;
			int64_t id;

			if (!frame_origin(p, rt_stacks__name(p->stacks, st.frames[j]), &origin))
				continue;
			id = rt_stacks__intern(paths, origin.path, strlen(origin.path));
			if (id < 0) {
				p->err = (int)id;
				break;
			}
			if ((size_t)id == nr) {
				void *n = realloc(m, (nr + 1) * sizeof(*m));

				if (!n) {
					p->err = -ENOMEM;
					break;
				}
				m = n;
				m[nr++] = (struct mapping_weight){ .origin = origin };
			}
			if (m[id].last_stack != i + 1) {
				m[id].last_stack = i + 1;
				m[id].weight += st.count;
			}
		}
	}
	if (!p->err && nr) {
		qsort(m, nr, sizeof(*m), compare_weights);
		for (size_t i = 0; i < nr; i++)
			mapping_id(p, m[i].origin.path, m[i].origin.build_id, m[i].origin.build_id_size);
	}
	free(m);
	rt_stacks__free(paths);
}

/* The location of frame @frame_id: written at its first use. */
static uint64_t location_id(struct pprof *p, uint32_t frame_id)
{
	const char *text = rt_stacks__name(p->stacks, frame_id);
	struct rt_frametext_source src;
	struct rt_pprof_origin origin;
	uint64_t mapping = 0, function;
	int64_t line = 0;
	size_t mark, len;

	if (p->location_of[frame_id])
		return p->location_of[frame_id];
	if (rt_frametext__parse_source(text, &src)) {
		function = function_id(p, string_id(p, src.function, src.function_len),
				       string_id(p, src.file, src.file_len));
		line = src.line;
	} else {
		if (frame_origin(p, text, &origin))
			mapping = mapping_id(p, origin.path, origin.build_id,
					     origin.build_id_size);
		if (!rt_frametext__is_kernel(text, &len) || p->o.keep_kernel_suffix)
			len = strlen(text);
		function = function_id(p, string_id(p, text, len), 0);
	}
	p->location_of[frame_id] = ++p->nr_locations;
	mark = rt_protobuf__begin(p->pb, PROFILE_LOCATION);
	rt_protobuf__put_uint64(p->pb, LOCATION_ID, p->nr_locations);
	if (mapping)
		rt_protobuf__put_uint64(p->pb, LOCATION_MAPPING_ID, mapping);
	{
		size_t line_mark = rt_protobuf__begin(p->pb, LOCATION_LINE);

		rt_protobuf__put_uint64(p->pb, LINE_FUNCTION_ID, function);
		if (line)
			rt_protobuf__put_int64(p->pb, LINE_LINE, line);
		rt_protobuf__end(p->pb, line_mark);
	}
	rt_protobuf__end(p->pb, mark);
	return p->nr_locations;
}

static void put_num_label(struct pprof *p, uint64_t key, int64_t num)
{
	size_t mark = rt_protobuf__begin(p->pb, SAMPLE_LABEL);

	rt_protobuf__put_int64(p->pb, LABEL_KEY, (int64_t)key);
	rt_protobuf__put_int64(p->pb, LABEL_NUM, num);
	rt_protobuf__end(p->pb, mark);
}

static void put_str_label(struct pprof *p, uint64_t key, const char *s, size_t len)
{
	size_t mark = rt_protobuf__begin(p->pb, SAMPLE_LABEL);

	rt_protobuf__put_int64(p->pb, LABEL_KEY, (int64_t)key);
	rt_protobuf__put_int64(p->pb, LABEL_STR, (int64_t)string_id(p, s, len));
	rt_protobuf__end(p->pb, mark);
}

/* The async task of @st (rt-bpf record --tasks: its "[task] NAME" frame)
 * as the label "task", so pprof can filter and group by it too. */
static void put_task_label(struct pprof *p, const struct rt_stack *st, uint64_t key)
{
	for (uint32_t j = 0; j < st->nr_frames; j++) {
		const char *name = rt_stacks__name(p->stacks, st->frames[j]);

		if (!strncmp(name, "[task] ", 7)) {
			put_str_label(p, key, name + 7, strlen(name + 7));
			return;
		}
	}
}

static void put_sample(struct pprof *p, const struct rt_stack *st,
		       const struct rt_thread_group *g, const uint64_t keys[4])
{
	uint64_t values[2] = { st->count, st->period };
	size_t mark;
	uint32_t first;

	if (st->nr_frames > p->cap_ids) {
		uint64_t *n = realloc(p->ids, st->nr_frames * sizeof(*n));

		if (!n) {
			p->err = -ENOMEM;
			return;
		}
		p->ids = n;
		p->cap_ids = st->nr_frames;
	}
	/* pprof lists a sample's locations leaf first; the root frame is the
	 * thread, which becomes labels (see rt_threads__first_frame()). */
	first = rt_threads__first_frame(st);
	for (uint32_t j = first; j < st->nr_frames; j++)
		p->ids[st->nr_frames - 1 - j] = location_id(p, st->frames[j]);
	mark = rt_protobuf__begin(p->pb, PROFILE_SAMPLE);
	rt_protobuf__put_packed(p->pb, SAMPLE_LOCATION_ID, p->ids, st->nr_frames - first);
	rt_protobuf__put_packed(p->pb, SAMPLE_VALUE, values, p->o.cpu_time ? 2 : 1);
	if (g->id.pid || g->id.tid) {
		put_num_label(p, keys[0], g->id.pid);
		put_num_label(p, keys[1], g->id.tid);
	}
	put_str_label(p, keys[2], g->id.comm, g->id.comm_len);
	put_task_label(p, st, keys[3]);
	rt_protobuf__end(p->pb, mark);
}

static void put_header(struct pprof *p)
{
	put_value_type(p, PROFILE_SAMPLE_TYPE, "samples", "count");
	if (p->o.cpu_time && p->o.time_type) {
		put_value_type(p, PROFILE_SAMPLE_TYPE, p->o.time_type,
			       p->o.time_unit ? p->o.time_unit : "microseconds");
	} else if (p->o.cpu_time) {
		put_value_type(p, PROFILE_SAMPLE_TYPE, "cpu", "nanoseconds");
		put_value_type(p, PROFILE_PERIOD_TYPE, "cpu", "nanoseconds");
		if (p->o.period)
			rt_protobuf__put_int64(p->pb, PROFILE_PERIOD, (int64_t)p->o.period);
	}
	/* Counts first: the figures rtmerge's folded output shows. */
	rt_protobuf__put_int64(p->pb, PROFILE_DEFAULT_SAMPLE_TYPE, (int64_t)cstring_id(p, "samples"));
	if (p->o.time_nanos)
		rt_protobuf__put_int64(p->pb, PROFILE_TIME_NANOS, p->o.time_nanos);
	if (p->o.duration_nanos)
		rt_protobuf__put_int64(p->pb, PROFILE_DURATION_NANOS, p->o.duration_nanos);
	for (size_t i = 0; i < p->o.nr_comments; i++)
		rt_protobuf__put_int64(p->pb, PROFILE_COMMENT,
				       (int64_t)cstring_id(p, p->o.comments[i]));
}

int rt_pprof__encode(const struct rt_stacks *stacks, const struct rt_pprof_opts *opts,
		     struct rt_protobuf *pb)
{
	struct pprof p = { .stacks = stacks, .o = { .sz = sizeof(p.o) }, .pb = pb };
	struct rt_threads t;
	uint64_t keys[4];
	int err;

	if (opts)
		memcpy(&p.o, opts, opts->sz < sizeof(p.o) ? opts->sz : sizeof(p.o));
	err = rt_threads__init(&t, stacks, p.o.cpu_time);
	p.strings = rt_stacks__new();
	p.functions = rt_stacks__new();
	p.mappings = rt_stacks__new();
	p.location_of = calloc(rt_stacks__nr_names(stacks) + 1, sizeof(*p.location_of));
	if (!err && (!p.strings || !p.functions || !p.mappings || !p.location_of))
		err = -ENOMEM;
	if (err)
		goto out;
	cstring_id(&p, "");     /* index 0 is the empty string */
	put_header(&p);
	put_mappings(&p);
	keys[0] = cstring_id(&p, "pid");
	keys[1] = cstring_id(&p, "tid");
	keys[2] = cstring_id(&p, "comm");
	keys[3] = cstring_id(&p, "task");
	for (size_t g = 0; g < t.nr_groups && !p.err; g++)
		for (size_t i = t.groups[g].first; i < t.groups[g].first + t.groups[g].nr; i++) {
			struct rt_stack st;

			rt_stacks__get(stacks, t.order[i], &st);
			put_sample(&p, &st, &t.groups[g], keys);
		}
	for (size_t i = 0; i < rt_stacks__nr_names(p.strings) && !p.err; i++) {
		const char *s = rt_stacks__name(p.strings, (uint32_t)i);

		rt_protobuf__put_bytes(pb, PROFILE_STRING_TABLE, s, strlen(s));
	}
	err = p.err ? p.err : rt_protobuf__error(pb);
out:
	rt_threads__exit(&t);
	rt_stacks__free(p.strings);
	rt_stacks__free(p.functions);
	rt_stacks__free(p.mappings);
	free(p.location_of);
	free(p.ids);
	return err;
}

int rt_pprof__write(const struct rt_stacks *stacks, const struct rt_pprof_opts *opts, FILE *out)
{
	struct rt_protobuf pb;
	z_stream z = { 0 };
	unsigned char buf[65536];
	int err, zr;

	rt_protobuf__init(&pb);
	err = rt_pprof__encode(stacks, opts, &pb);
	if (err)
		goto out;
	if (pb.len > UINT32_MAX) {	/* zlib's avail_in */
		err = -EFBIG;
		goto out;
	}
	/* windowBits 15 + 16: a gzip member, what pprof's reader expects. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto out;
	}
	z.next_in = pb.data;
	z.avail_in = (uInt)pb.len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			err = -EINVAL;
			break;
		}
		if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) != sizeof(buf) - z.avail_out) {
			err = -EIO;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
out:
	rt_protobuf__exit(&pb);
	return err;
}
