/* SPDX-License-Identifier: GPL-2.0-only */
/* CUnit suite for perfglue/perfdata: synthetic perf.data files in both modes. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfglue/perfdata.h"

/* ---- a tiny perf.data writer ------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 256;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void put32(struct buf *b, uint32_t v) { put(b, &v, 4); }

static void pad8(struct buf *b)
{
	static const uint8_t zero[8];

	if (b->len % 8)
		put(b, zero, 8 - b->len % 8);
}

#define SAMPLE_TYPE (PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | \
		     PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | \
		     PERF_SAMPLE_CALLCHAIN)

static void fill_attr(struct perf_event_attr *a, uint32_t type, uint64_t config,
		      uint64_t sample_type)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->size = sizeof(*a);
	a->config = config;
	a->sample_type = sample_type;
	a->sample_id_all = 1;
}

/* Begin a record; returns its start offset for end_record. */
static size_t begin_record(struct buf *b, uint32_t type, uint16_t misc)
{
	struct perf_event_header h = { .type = type, .misc = misc, .size = 0 };
	size_t at = b->len;

	put(b, &h, sizeof(h));
	return at;
}

static void end_record(struct buf *b, size_t at)
{
	uint16_t size;

	pad8(b);
	size = (uint16_t)(b->len - at);
	memcpy(b->p + at + 6, &size, 2);
}

/* sample_id_all trailer for SAMPLE_TYPE: tid, time, cpu, identifier. */
static void put_trailer(struct buf *b, uint32_t pid, uint32_t tid, uint64_t time, uint64_t id)
{
	put32(b, pid);
	put32(b, tid);
	put64(b, time);
	put32(b, 0);
	put32(b, 0);
	put64(b, id);
}

static void put_comm(struct buf *b, uint32_t pid, uint32_t tid, const char *comm, bool exec,
		     uint64_t time, uint64_t id)
{
	size_t at = begin_record(b, PERF_RECORD_COMM, exec ? PERF_RECORD_MISC_COMM_EXEC : 0);

	put32(b, pid);
	put32(b, tid);
	put(b, comm, strlen(comm) + 1);
	pad8(b);
	put_trailer(b, pid, tid, time, id);
	end_record(b, at);
}

static void put_mmap2(struct buf *b, uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
		      const char *path, uint64_t time, uint64_t id)
{
	size_t at = begin_record(b, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER);

	put32(b, pid);
	put32(b, pid);
	put64(b, start);
	put64(b, len);
	put64(b, pgoff);
	put32(b, 8);	/* maj */
	put32(b, 1);	/* min */
	put64(b, 1234);	/* ino */
	put64(b, 0);
	put32(b, 5);	/* PROT_READ|PROT_EXEC */
	put32(b, 2);	/* MAP_PRIVATE */
	put(b, path, strlen(path) + 1);
	pad8(b);
	put_trailer(b, pid, pid, time, id);
	end_record(b, at);
}

static void put_sample(struct buf *b, uint64_t id, uint32_t pid, uint32_t tid, uint64_t time,
		       uint64_t ip, const uint64_t *chain, size_t nr)
{
	size_t at = begin_record(b, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);

	put64(b, id);
	put64(b, ip);
	put32(b, pid);
	put32(b, tid);
	put64(b, time);
	put32(b, 1);	/* cpu */
	put32(b, 0);
	put64(b, 1000);	/* period */
	put64(b, nr);
	put(b, chain, nr * 8);
	end_record(b, at);
}

static void put_round(struct buf *b)
{
	size_t at = begin_record(b, PERF_RECORD_FINISHED_ROUND, 0);

	end_record(b, at);
}

/* Records shared by both modes: event 1 has ids 11,12; event 2 has 21. */
static void put_body(struct buf *b)
{
	uint64_t chain[] = { PERF_CONTEXT_USER, 0x401010, 0x401020 };

	put_comm(b, 100, 100, "prog", true, 5, 11);
	put_mmap2(b, 100, 0x400000, 0x10000, 0, "/usr/bin/prog", 6, 11);
	/* Written out of order inside the round: the reader must sort. */
	put_sample(b, 11, 100, 100, 30, 0x401010, chain, 3);
	put_sample(b, 21, 100, 101, 20, 0x401020, chain, 3);
	put_round(b);
	put_sample(b, 12, 100, 100, 40, 0x401030, chain, 3);
	put_round(b);
}

static char *write_temp(const struct buf *b)
{
	char *path = strdup("/tmp/rt-test-perfdata.XXXXXX");
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, b->p, b->len) == (ssize_t)b->len);
	close(fd);
	return path;
}

static void build_file(struct buf *b)
{
	struct perf_event_attr a1, a2;
	uint64_t ids1[] = { 11, 12 }, ids2[] = { 21 };
	size_t attr_entry = sizeof(a1) + 16;
	uint64_t attrs_off = 104, ids_off = attrs_off + 2 * attr_entry, data_off, data_size;
	struct buf data = { 0 };

	fill_attr(&a1, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, SAMPLE_TYPE);
	fill_attr(&a2, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT, SAMPLE_TYPE);
	put_body(&data);
	data_off = ids_off + 24;
	data_size = data.len;

	put64(b, 0x32454c4946524550ULL);
	put64(b, 104);
	put64(b, attr_entry);
	put64(b, attrs_off);
	put64(b, 2 * attr_entry);
	put64(b, data_off);
	put64(b, data_size);
	put64(b, 0);
	put64(b, 0);
	put64(b, 0);	/* features: none */
	put64(b, 0);
	put64(b, 0);
	put64(b, 0);
	put(b, &a1, sizeof(a1));
	put64(b, ids_off);
	put64(b, 16);
	put(b, &a2, sizeof(a2));
	put64(b, ids_off + 16);
	put64(b, 8);
	put(b, ids1, sizeof(ids1));
	put(b, ids2, sizeof(ids2));
	put(b, data.p, data.len);
	free(data.p);
}

static void put_header_attr(struct buf *b, const struct perf_event_attr *a, const uint64_t *ids,
			    size_t nr)
{
	size_t at = begin_record(b, PERF_RECORD_HEADER_ATTR, 0);

	put(b, a, sizeof(*a));
	put(b, ids, nr * 8);
	end_record(b, at);
}

static void build_pipe(struct buf *b)
{
	struct perf_event_attr a1, a2;
	uint64_t ids1[] = { 11, 12 }, ids2[] = { 21 };
	size_t at;

	fill_attr(&a1, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, SAMPLE_TYPE);
	fill_attr(&a2, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT, SAMPLE_TYPE);
	put64(b, 0x32454c4946524550ULL);
	put64(b, 16);
	put_header_attr(b, &a1, ids1, 2);
	put_header_attr(b, &a2, ids2, 1);
	/* A HEADER_FEATURE with the os release. */
	at = begin_record(b, PERF_RECORD_HEADER_FEATURE, 0);
	put64(b, 4);	/* HEADER_OSRELEASE */
	put32(b, 8);
	put(b, "6.18.0\0\0", 8);
	end_record(b, at);
	put_body(b);
}

/* ---- a recording tool ---------------------------------------------------- */

struct seen {
	struct rt_perf_tool tool;
	int samples, comms, mmaps;
	uint64_t times[8];
	uint32_t tids[8];
	int evsel_index[8];
	uint64_t first_callchain_ip;
	char comm[32];
	char mmap_path[64];
};

static int seen_sample(struct rt_perf_tool *tool, const struct rt_perf_evsel *ev,
		       const struct rt_perf_sample *s)
{
	struct seen *x = (struct seen *)tool;

	if (x->samples < 8) {
		x->times[x->samples] = s->time;
		x->tids[x->samples] = s->tid;
		x->evsel_index[x->samples] = ev->index;
	}
	if (!x->samples && s->nr_callchain > 1)
		x->first_callchain_ip = s->callchain[1];
	x->samples++;
	return 0;
}

static int seen_comm(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		     bool exec, const struct rt_perf_sample_id *sid)
{
	struct seen *x = (struct seen *)tool;

	x->comms++;
	snprintf(x->comm, sizeof(x->comm), "%s%s", comm, exec ? "+exec" : "");
	return 0;
}

static int seen_mmap(struct rt_perf_tool *tool, const struct rt_perf_mmap *m)
{
	struct seen *x = (struct seen *)tool;

	x->mmaps++;
	snprintf(x->mmap_path, sizeof(x->mmap_path), "%s@%llx+%llx", m->filename,
		 (unsigned long long)m->start, (unsigned long long)m->len);
	return 0;
}

static void init_seen(struct seen *x)
{
	memset(x, 0, sizeof(*x));
	x->tool.sample = seen_sample;
	x->tool.comm = seen_comm;
	x->tool.mmap = seen_mmap;
}

static void check_body(struct rt_perf_reader *r, struct seen *x)
{
	const struct rt_perf_reader_stats *st;

	CU_ASSERT_EQUAL(rt_perf_reader__process(r, &x->tool), 0);
	CU_ASSERT_EQUAL(x->samples, 3);
	CU_ASSERT_EQUAL(x->comms, 1);
	CU_ASSERT_STRING_EQUAL(x->comm, "prog+exec");
	CU_ASSERT_EQUAL(x->mmaps, 1);
	CU_ASSERT_STRING_EQUAL(x->mmap_path, "/usr/bin/prog@400000+10000");
	/* Time order although written 30, 20, 40. */
	CU_ASSERT_EQUAL(x->times[0], 20);
	CU_ASSERT_EQUAL(x->times[1], 30);
	CU_ASSERT_EQUAL(x->times[2], 40);
	/* The id picks the event. */
	CU_ASSERT_EQUAL(x->evsel_index[0], 1);
	CU_ASSERT_EQUAL(x->evsel_index[1], 0);
	CU_ASSERT_EQUAL(x->evsel_index[2], 0);
	CU_ASSERT_EQUAL(x->tids[0], 101);
	CU_ASSERT_EQUAL(x->first_callchain_ip, 0x401010);
	st = rt_perf_reader__stats(r);
	CU_ASSERT_EQUAL(st->samples, 3);
	CU_ASSERT_EQUAL(st->bad_samples, 0);
	CU_ASSERT_EQUAL(st->records[PERF_RECORD_FINISHED_ROUND], 2);
	CU_ASSERT_EQUAL(rt_perf_reader__nr_evsels(r), 2);
	CU_ASSERT_STRING_EQUAL(rt_perf_reader__evsel(r, 0)->name, "cpu-clock");
	CU_ASSERT_STRING_EQUAL(rt_perf_reader__evsel(r, 1)->name, "bpf-output");
	CU_ASSERT_EQUAL(rt_perf_reader__evsel(r, 0)->nr_ids, 2);
}

static void test_file_mode(void)
{
	struct buf b = { 0 };
	struct seen x;
	struct rt_perf_reader *r;
	char err[256] = "", *path;

	build_file(&b);
	path = write_temp(&b);
	r = rt_perf_reader__open(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FALSE(rt_perf_reader__is_pipe(r));
	init_seen(&x);
	check_body(r, &x);
	rt_perf_reader__close(r);
	unlink(path);
	free(path);
	free(b.p);
}

static void test_pipe_mode(void)
{
	struct buf b = { 0 };
	struct seen x;
	struct rt_perf_reader *r;
	char err[256] = "", *path;

	build_pipe(&b);
	path = write_temp(&b);
	r = rt_perf_reader__open(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_TRUE(rt_perf_reader__is_pipe(r));
	init_seen(&x);
	check_body(r, &x);
	CU_ASSERT_PTR_NOT_NULL(rt_perf_reader__info(r)->os_release);
	if (rt_perf_reader__info(r)->os_release)
		CU_ASSERT_STRING_EQUAL(rt_perf_reader__info(r)->os_release, "6.18.0");
	rt_perf_reader__close(r);
	unlink(path);
	free(path);
	free(b.p);
}

/* Every prefix of a valid file must give an error or fewer records, never a crash. */
static void test_truncations(void)
{
	struct buf b = { 0 };
	size_t cut;
	int failures = 0, opened = 0;

	build_file(&b);
	for (cut = 0; cut < b.len; cut += 3) {
		struct buf part = { b.p, cut, cut };
		struct rt_perf_reader *r;
		char err[256] = "", *path = write_temp(&part);

		r = rt_perf_reader__open(path, err, sizeof(err));
		if (r) {
			struct seen x;

			opened++;
			init_seen(&x);
			if (rt_perf_reader__process(r, &x.tool))
				failures++;
			rt_perf_reader__close(r);
		} else {
			/* A message naming the file must come with every refusal. */
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "/tmp/rt-test-perfdata."));
			failures++;
		}
		unlink(path);
		free(path);
	}
	CU_ASSERT(failures > 0);
	CU_ASSERT(opened > 0);
	free(b.p);
}

static void test_bad_inputs(void)
{
	char err[256];
	struct rt_perf_reader *r;

	r = rt_perf_reader__open("/nonexistent/perf.data", err, sizeof(err));
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));

	r = rt_perf_reader__open("/tmp", err, sizeof(err));
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "directory"));

	{
		struct buf b = { 0 };
		char *path;

		put(&b, "hello, this is not perf data at all", 35);
		path = write_temp(&b);
		r = rt_perf_reader__open(path, err, sizeof(err));
		CU_ASSERT_PTR_NULL(r);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad magic"));
		unlink(path);
		free(path);
		free(b.p);
	}
	{
		/* A record with an absurd size inside a valid pipe stream. */
		struct buf b = { 0 };
		struct seen x;
		char *path;

		build_pipe(&b);
		put32(&b, PERF_RECORD_SAMPLE);
		put32(&b, 4 << 16);	/* misc 0, size 4 */
		path = write_temp(&b);
		r = rt_perf_reader__open(path, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		init_seen(&x);
		CU_ASSERT_EQUAL(rt_perf_reader__process(r, &x.tool), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(rt_perf_reader__error(r), "offset"));
		rt_perf_reader__close(r);
		unlink(path);
		free(path);
		free(b.p);
	}
}

/* A sample whose callchain claims more entries than the record holds is counted, not parsed. */
static void test_bad_sample(void)
{
	struct buf b = { 0 };
	struct seen x;
	struct rt_perf_reader *r;
	char err[256], *path;
	size_t at;

	build_pipe(&b);
	at = begin_record(&b, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
	put64(&b, 11);
	put64(&b, 0x401000);
	put32(&b, 100);
	put32(&b, 100);
	put64(&b, 50);
	put64(&b, 0);
	put64(&b, 1);
	put64(&b, 1000000);	/* nr callchain: absurd */
	end_record(&b, at);
	path = write_temp(&b);
	r = rt_perf_reader__open(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	init_seen(&x);
	CU_ASSERT_EQUAL(rt_perf_reader__process(r, &x.tool), 0);
	CU_ASSERT_EQUAL(x.samples, 3);
	CU_ASSERT_EQUAL(rt_perf_reader__stats(r)->bad_samples, 1);
	rt_perf_reader__close(r);
	unlink(path);
	free(path);
	free(b.p);
}

/* ---- recordings cut short ---------------------------------------------- */

/* Record boundaries of the records from @from to the end of @b. */
static size_t record_starts(const struct buf *b, size_t from, size_t *starts, size_t max)
{
	size_t n = 0;

	while (from + 8 <= b->len && n < max) {
		uint16_t size;

		starts[n++] = from;
		memcpy(&size, b->p + from + 6, 2);
		from += size;
	}
	if (n < max)
		starts[n++] = b->len;   /* the end, as a boundary */
	return n;
}

/* Samples, COMMs and MMAPs among the records that lie whole before @cut. */
static int records_before(const struct buf *b, const size_t *starts, size_t n, size_t cut)
{
	int delivered = 0;

	for (size_t i = 0; i + 1 < n && starts[i + 1] <= cut; i++) {
		uint32_t type;

		memcpy(&type, b->p + starts[i], 4);
		delivered += type == PERF_RECORD_SAMPLE || type == PERF_RECORD_COMM ||
			     type == PERF_RECORD_MMAP2;
	}
	return delivered;
}

/* The last record boundary at or before @cut. */
static size_t boundary_before(const size_t *starts, size_t n, size_t cut)
{
	size_t at = starts[0];

	for (size_t i = 0; i < n && starts[i] <= cut; i++)
		at = starts[i];
	return at;
}

/*
 * Cuts @whole at every byte from @first on and checks what the reader
 * salvages: every complete record before the cut, the cut's offset and the
 * bytes lost, and with strict set a refusal of a cut inside a record.
 * @pipe: pipe mode (a cut at a record boundary cannot be told from the
 * end); @no_size: the file header gives no data size.
 */
static void check_cuts(const struct buf *whole, size_t data_off, size_t first, bool pipe,
		       bool no_size, const char *how)
{
	size_t starts[64], n = record_starts(whole, data_off, starts, 64);
	int bad = 0;

	setenv("RTPERF_READER", how, 1);
	for (size_t cut = first; cut <= whole->len; cut++) {
		struct buf part = { whole->p, cut, cut };
		size_t at = boundary_before(starts, n, cut);
		bool inside = at != cut;
		char err[256] = "", *path = write_temp(&part);
		struct rt_perf_reader *r = rt_perf_reader__open(path, err, sizeof(err));
		const struct rt_perf_cut *c;
		struct seen x;
		int ret;

		if (!r) {
			/* Only a cut before the data (attributes, ids) is unreadable. */
			CU_ASSERT(cut < data_off);
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "/tmp/rt-test-perfdata."));
			goto next;
		}
		init_seen(&x);
		ret = rt_perf_reader__process(r, &x.tool);
		c = rt_perf_reader__cut(r);
		if (cut >= data_off) {
			bad += ret != 0;
			bad += x.samples + x.comms + x.mmaps != records_before(whole, starts, n, cut);
			bad += c->cut != (inside || (!pipe && (no_size || cut < whole->len)));
			bad += c->cut && c->offset != at;
			bad += c->bytes_lost != (inside ? cut - at : 0);
			bad += c->bytes_missing != (pipe || no_size ? 0 : whole->len - cut);
			bad += c->no_data_size != no_size;
		}
		rt_perf_reader__close(r);
		/* Strict: a cut inside a record is refused, one at a boundary is not. */
		r = rt_perf_reader__open(path, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		rt_perf_reader__set_strict(r, true);
		init_seen(&x);
		ret = rt_perf_reader__process(r, &x.tool);
		if (cut >= data_off) {
			bad += ret != (inside ? -EINVAL : 0);
			bad += inside && !strstr(rt_perf_reader__error(r), "cut short") &&
			       !strstr(rt_perf_reader__error(r), "data ends inside");
		}
		rt_perf_reader__close(r);
next:
		if (bad) {
			fprintf(stderr, "\n%s %s: cut at %zu: wrong (%d)\n", pipe ? "pipe" : "file",
				how, cut, bad);
			CU_FAIL("a cut recording was not salvaged as expected");
			unlink(path);
			free(path);
			break;
		}
		unlink(path);
		free(path);
	}
	unsetenv("RTPERF_READER");
}

/* File and pipe recordings cut at every byte: every complete record before
 * the cut is delivered, and the cut is reported, in each read mode. */
static void test_cut_recordings(void)
{
	struct buf file = { 0 }, pipe = { 0 };
	uint64_t data_off;

	build_file(&file);
	memcpy(&data_off, file.p + 40, 8);
	check_cuts(&file, data_off, 0, false, false, "read");
	check_cuts(&file, data_off, 0, false, false, "map");
	/* perf killed before it wrote the data size: read to the end. */
	memset(file.p + 48, 0, 8);
	check_cuts(&file, data_off, data_off, false, true, "read");
	check_cuts(&file, data_off, data_off, false, true, "map");
	build_pipe(&pipe);
	check_cuts(&pipe, 16, 16, true, false, "read");
	free(file.p);
	free(pipe.p);
}

/* A file cut among its feature sections: every record is there, the cut is
 * reported with what the header names past the end, and nothing is refused. */
static void test_cut_features(void)
{
	struct buf b = { 0 };
	uint64_t data_off, data_size, features, table_end, end;

	build_file(&b);
	memcpy(&data_off, b.p + 40, 8);
	memcpy(&data_size, b.p + 48, 8);
	CU_ASSERT_EQUAL_FATAL(data_off + data_size, b.len);
	features = 1ULL << 3;   /* HEADER_HOSTNAME */
	memcpy(b.p + 72, &features, 8);
	table_end = b.len + 16;
	put64(&b, table_end);   /* its section: right after the table */
	put64(&b, 12);
	put32(&b, 8);
	put(&b, "myhost\0\0", 8);
	end = b.len;
	for (size_t cut = data_off + data_size; cut <= end; cut++) {
		struct buf part = { b.p, cut, cut };
		char err[256] = "", *path = write_temp(&part);
		struct rt_perf_reader *r = rt_perf_reader__open(path, err, sizeof(err));
		const struct rt_perf_cut *c;
		const char *host;
		struct seen x;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		init_seen(&x);
		CU_ASSERT_EQUAL(rt_perf_reader__process(r, &x.tool), 0);
		CU_ASSERT_EQUAL(x.samples + x.comms + x.mmaps, 5);
		c = rt_perf_reader__cut(r);
		host = rt_perf_reader__info(r)->hostname;
		CU_ASSERT_EQUAL(c->cut, cut < end);
		CU_ASSERT_EQUAL(c->features_lost, cut < end);
		/* the one section, the hostname: not the event names the
		 * target's marker is in, nor the build ids */
		CU_ASSERT_EQUAL(c->nr_features_lost, cut < end ? 1 : 0);
		CU_ASSERT(!c->event_names_lost && !c->build_ids_lost);
		CU_ASSERT_EQUAL(c->bytes_lost, 0);
		CU_ASSERT_EQUAL(c->bytes_missing, cut < end ? (cut < table_end ? table_end : end) - cut : 0);
		if (c->cut)
			CU_ASSERT_EQUAL(c->offset, data_off + data_size);
		CU_ASSERT(cut < end ? host == NULL : host && !strcmp(host, "myhost"));
		rt_perf_reader__close(r);
		unlink(path);
		free(path);
	}
	free(b.p);
}

int main(void)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("perfdata", NULL, NULL);
	CU_add_test(suite, "file mode", test_file_mode);
	CU_add_test(suite, "pipe mode", test_pipe_mode);
	CU_add_test(suite, "truncated files", test_truncations);
	CU_add_test(suite, "bad inputs", test_bad_inputs);
	CU_add_test(suite, "bad sample", test_bad_sample);
	CU_add_test(suite, "cut recordings salvaged", test_cut_recordings);
	CU_add_test(suite, "cut among the features", test_cut_features);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
