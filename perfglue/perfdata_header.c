/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata: the file header and what it describes.  Event attributes and
 * their ids, the feature sections (file mode) and the header records that
 * carry the same in pipe mode, and the human-readable header dump.
 */
#include "perfglue/perfdata_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/grow.h"
#include "perfglue/hash.h"

static int id_table_insert(struct rt_perf_reader *r, uint64_t id, int evsel)
{
	size_t mask, i;

	/* an id may move to another event (pipe mode's attribute records) */
	memset(r->id_memo, 0, sizeof(r->id_memo));
	if ((r->nr_id_entries + 1) * 2 > r->id_table_size) {
		size_t size = r->id_table_size ? r->id_table_size * 2 : 64;
		struct id_slot *t = malloc(size * sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (i = 0; i < size; i++)
			t[i].evsel = -1;
		for (i = 0; i < r->id_table_size; i++) {
			struct id_slot *s = &r->id_table[i];
			size_t j;

			if (s->evsel < 0)
				continue;
			for (j = rt_hash64_keyed(s->id) & (size - 1); t[j].evsel >= 0; j = (j + 1) & (size - 1))
				;
			t[j] = *s;
		}
		free(r->id_table);
		r->id_table = t;
		r->id_table_size = size;
	}
	mask = r->id_table_size - 1;
	for (i = rt_hash64_keyed(id) & mask; r->id_table[i].evsel >= 0; i = (i + 1) & mask) {
		if (r->id_table[i].id == id) {
			r->id_table[i].evsel = evsel;
			return 0;
		}
	}
	r->id_table[i].id = id;
	r->id_table[i].evsel = evsel;
	r->nr_id_entries++;
	return 0;
}

struct evsel_priv *rt_perf_reader__evsel_by_id(struct rt_perf_reader *r, uint64_t id)
{
	struct id_memo *memo = &r->id_memo[id & 3];
	size_t mask, i;

	if (memo->ev && memo->id == id)
		return memo->ev;
	if (!r->id_table_size)
		return NULL;
	mask = r->id_table_size - 1;
	for (i = rt_hash64_keyed(id) & mask; r->id_table[i].evsel >= 0; i = (i + 1) & mask)
		if (r->id_table[i].id == id) {
			*memo = (struct id_memo){ id, r->evsels[r->id_table[i].evsel] };
			return memo->ev;
		}
	return NULL;
}

/* Position of the id in a sample, counted in u64 from the start. */
static int sample_id_pos(uint64_t type)
{
	int pos = 0;

	if (type & PERF_SAMPLE_IDENTIFIER)
		return 0;
	if (!(type & PERF_SAMPLE_ID))
		return -1;
	if (type & PERF_SAMPLE_IP)
		pos++;
	if (type & PERF_SAMPLE_TID)
		pos++;
	if (type & PERF_SAMPLE_TIME)
		pos++;
	if (type & PERF_SAMPLE_ADDR)
		pos++;
	return pos;
}

/* Position of the id in a non-sample record's trailer, counted from its end. */
static int trailer_id_pos(uint64_t type)
{
	int pos = 1;

	if (type & PERF_SAMPLE_IDENTIFIER)
		return 1;
	if (!(type & PERF_SAMPLE_ID))
		return -1;
	if (type & PERF_SAMPLE_CPU)
		pos++;
	if (type & PERF_SAMPLE_STREAM_ID)
		pos++;
	return pos;
}

static size_t trailer_size(uint64_t type)
{
	size_t n = 0;

	if (type & PERF_SAMPLE_TID)
		n += 8;
	if (type & PERF_SAMPLE_TIME)
		n += 8;
	if (type & PERF_SAMPLE_ID)
		n += 8;
	if (type & PERF_SAMPLE_STREAM_ID)
		n += 8;
	if (type & PERF_SAMPLE_CPU)
		n += 8;
	if (type & PERF_SAMPLE_IDENTIFIER)
		n += 8;
	return n;
}

static const char *default_event_name(const struct perf_event_attr *attr, char *buf, size_t size)
{
	static const char *const sw[] = {
		"cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations",
		"minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy",
		"bpf-output", "cgroup-switches",
	};
	static const char *const hw[] = {
		"cycles", "instructions", "cache-references", "cache-misses", "branches",
		"branch-misses", "bus-cycles", "stalled-cycles-frontend", "stalled-cycles-backend",
		"ref-cycles",
	};

	if (attr->type == PERF_TYPE_SOFTWARE && attr->config < sizeof(sw) / sizeof(sw[0]))
		return sw[attr->config];
	if (attr->type == PERF_TYPE_HARDWARE && attr->config < sizeof(hw) / sizeof(hw[0]))
		return hw[attr->config];
	snprintf(buf, size, "type%u/config%#llx", attr->type, (unsigned long long)attr->config);
	return buf;
}

/*
 * Add an event.  attr_bytes/attr_size is the on-disk attribute, which may be
 * shorter or longer than this build's struct perf_event_attr.
 */
static int add_evsel(struct rt_perf_reader *r, const void *attr_bytes, size_t attr_size,
		     const uint64_t *ids, size_t nr_ids, uint64_t offset)
{
	struct evsel_priv *ev, **n;
	char namebuf[64];
	size_t i;
	int err;

	if (r->nr_evsels >= MAX_EVENTS)
		return rt_perf_reader__set_error(r, EINVAL, offset, "more than %u events",
						 MAX_EVENTS);
	if (attr_size < PERF_ATTR_SIZE_VER0)
		return rt_perf_reader__set_error(r, EINVAL, offset,
						 "event attribute of %zu bytes is too small",
						 attr_size);
	/* Many events may name one id section: the ids all events keep are
	 * capped together, so a small file cannot make each copy them all. */
	if (nr_ids > MAX_IDS - r->nr_ids_total) {
		r->stats.ids_dropped += nr_ids - (MAX_IDS - r->nr_ids_total);
		nr_ids = MAX_IDS - r->nr_ids_total;
	}
	n = realloc(r->evsels, (r->nr_evsels + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->evsels = n;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	r->evsels[r->nr_evsels] = ev;
	memcpy(&ev->pub.attr, attr_bytes,
	       attr_size < sizeof(ev->pub.attr) ? attr_size : sizeof(ev->pub.attr));
	ev->pub.attr.size = sizeof(ev->pub.attr);
	ev->pub.index = (int)r->nr_evsels;
	if (nr_ids) {
		ev->ids = malloc(nr_ids * sizeof(*ev->ids));
		if (!ev->ids) {
			free(ev);
			return -ENOMEM;
		}
		memcpy(ev->ids, ids, nr_ids * sizeof(*ids));
		r->nr_ids_total += nr_ids;
	}
	ev->pub.ids = ev->ids;
	ev->pub.nr_ids = nr_ids;
	ev->name = strdup(default_event_name(&ev->pub.attr, namebuf, sizeof(namebuf)));
	if (!ev->name) {
		free(ev->ids);
		free(ev);
		return -ENOMEM;
	}
	ev->pub.name = ev->name;
	ev->id_pos = sample_id_pos(ev->pub.attr.sample_type);
	ev->is_pos = trailer_id_pos(ev->pub.attr.sample_type);
	ev->trailer_size = ev->pub.attr.sample_id_all ? trailer_size(ev->pub.attr.sample_type) : 0;
	r->nr_evsels++;
	for (i = 0; i < nr_ids; i++) {
		err = id_table_insert(r, ids[i], ev->pub.index);
		if (err)
			return err;
	}
	return 0;
}

static void set_evsel_name(struct rt_perf_reader *r, uint64_t id, const char *name)
{
	struct evsel_priv *ev = rt_perf_reader__evsel_by_id(r, id);
	char *copy;

	if (!ev || !name[0])
		return;
	copy = strdup(name);
	if (!copy)
		return;
	free(ev->name);
	ev->name = copy;
	ev->pub.name = copy;
}

/* ---- feature sections -------------------------------------------------- */

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint32_t cur_u32(struct cursor *c)
{
	uint32_t v = 0;

	if (c->end - c->p < 4) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, 4);
	c->p += 4;
	return v;
}

static uint64_t cur_u64(struct cursor *c)
{
	uint64_t v = 0;

	if (c->end - c->p < 8) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, 8);
	c->p += 8;
	return v;
}

/* perf's header string: u32 len (padded), bytes, NUL inside. */
static const char *cur_string(struct rt_perf_reader *r, struct cursor *c)
{
	uint32_t len = cur_u32(c);
	const char *s;

	if (c->bad || len > (size_t)(c->end - c->p)) {
		c->bad = true;
		c->p = c->end;
		return NULL;
	}
	s = rt_perf_reader__own_string(r, (const char *)c->p, strnlen((const char *)c->p, len));
	c->p += len;
	return s;
}

static int add_build_id(struct rt_perf_reader *r, int32_t pid, uint16_t misc, const uint8_t *id,
			const char *filename, size_t filename_max)
{
	struct rt_perf_build_id *b;

	if (RT_ARRAY_GROW(r->build_ids, r->build_ids_cap, r->info.nr_build_ids + 1, 64))
		return -ENOMEM;
	b = &r->build_ids[r->info.nr_build_ids];
	b->pid = pid;
	b->misc = misc;
	memcpy(b->id, id, 20);
	b->size = (misc & PERF_RECORD_MISC_BUILD_ID_SIZE) ? id[20] : 20;
	if (b->size > 20)
		b->size = 20;
	b->filename = rt_perf_reader__own_string(r, filename, strnlen(filename, filename_max));
	if (!b->filename)
		return -ENOMEM;
	r->info.nr_build_ids++;
	r->info.build_ids = r->build_ids;
	return 0;
}

/* BUILD_ID feature: a sequence of build-id records. */
static int parse_build_ids(struct rt_perf_reader *r, const uint8_t *p, size_t size)
{
	const uint8_t *end = p + size;

	while (end - p >= (ptrdiff_t)sizeof(struct perf_event_header)) {
		struct perf_event_header h;
		int32_t pid;
		int err;

		memcpy(&h, p, sizeof(h));
		if (h.size < sizeof(struct perf_record_header_build_id) || h.size > end - p)
			return -EINVAL;
		memcpy(&pid, p + 8, 4);
		err = add_build_id(r, pid, h.misc, p + 12, (const char *)p + 36, h.size - 36);
		if (err)
			return err;
		p += h.size;
	}
	return 0;
}

static int parse_event_desc(struct rt_perf_reader *r, struct cursor *c)
{
	uint32_t nr = cur_u32(c), attr_size = cur_u32(c), i, j;

	if (c->bad || attr_size < PERF_ATTR_SIZE_VER0 || attr_size > MAX_ATTR_SIZE)
		return -EINVAL;
	for (i = 0; i < nr && !c->bad; i++) {
		uint32_t nr_ids;
		const char *name;

		if ((size_t)(c->end - c->p) < attr_size)
			return -EINVAL;
		c->p += attr_size;
		nr_ids = cur_u32(c);
		name = cur_string(r, c);
		if (c->bad || nr_ids > (size_t)(c->end - c->p) / 8)
			return -EINVAL;
		for (j = 0; j < nr_ids; j++) {
			uint64_t id = cur_u64(c);

			if (name)
				set_evsel_name(r, id, name);
		}
	}
	return c->bad ? -EINVAL : 0;
}

static int parse_feature(struct rt_perf_reader *r, int feat, const uint8_t *data, size_t size)
{
	struct cursor c = { data, data + size, false };
	uint32_t i, nr;

	switch (feat) {
	case FEAT_BUILD_ID:
		return parse_build_ids(r, data, size);
	case FEAT_HOSTNAME:
		r->info.hostname = cur_string(r, &c);
		break;
	case FEAT_OSRELEASE:
		r->info.os_release = cur_string(r, &c);
		break;
	case FEAT_VERSION:
		r->info.perf_version = cur_string(r, &c);
		break;
	case FEAT_ARCH:
		r->info.arch = cur_string(r, &c);
		break;
	case FEAT_CPUDESC:
		r->info.cpu_desc = cur_string(r, &c);
		break;
	case FEAT_CPUID:
		r->info.cpuid = cur_string(r, &c);
		break;
	case FEAT_NRCPUS:
		r->info.nr_cpus_available = cur_u32(&c);
		r->info.nr_cpus_online = cur_u32(&c);
		break;
	case FEAT_TOTAL_MEM:
		r->info.total_mem_kb = cur_u64(&c);
		break;
	case FEAT_CMDLINE:
		nr = cur_u32(&c);
		if (c.bad || nr > size / 4)
			return -EINVAL;
		free(r->cmdline);
		r->cmdline = calloc(nr + 1, sizeof(*r->cmdline));
		if (!r->cmdline)
			return -ENOMEM;
		for (i = 0; i < nr && !c.bad; i++)
			r->cmdline[i] = (char *)cur_string(r, &c);
		r->info.cmdline = (const char *const *)r->cmdline;
		r->info.nr_cmdline = c.bad ? 0 : nr;
		break;
	case FEAT_EVENT_DESC:
		return parse_event_desc(r, &c);
	case FEAT_CLOCKID:
		r->info.clockid = (int32_t)cur_u64(&c);
		break;
	case FEAT_SAMPLE_TIME:
		r->info.first_sample_time = cur_u64(&c);
		r->info.last_sample_time = cur_u64(&c);
		break;
	default:
		return 0;
	}
	return c.bad ? -EINVAL : 0;
}

static bool has_feature(const struct file_header *h, int feat)
{
	return h->features[feat / 64] & (1ULL << (feat % 64));
}

/* A file cut before its feature table: every section the header names is
 * lost; one whose header names none (perf killed before it wrote them) has
 * lost the event names and build ids perf would have written. */
static void lose_features(struct rt_perf_reader *r, const struct file_header *h)
{
	uint32_t nr = 0;

	for (int feat = 0; feat < FEAT_BITS; feat++)
		nr += has_feature(h, feat);
	r->cut.features_lost = true;
	r->cut.nr_features_lost = nr;
	r->cut.event_names_lost = !nr || has_feature(h, FEAT_EVENT_DESC);
	r->cut.build_ids_lost = !nr || has_feature(h, FEAT_BUILD_ID);
}

static int read_features(struct rt_perf_reader *r, const struct file_header *h)
{
	struct file_section sec[FEAT_BITS];
	uint64_t offset = h->data.offset + h->data.size;
	int nr = 0, feat, i = 0;

	for (feat = 0; feat < FEAT_BITS; feat++)
		if (h->features[feat / 64] & (1ULL << (feat % 64)))
			nr++;
	if (!nr)
		return 0;
	if (offset > r->file_size || (uint64_t)nr * sizeof(sec[0]) > r->file_size - offset) {
		/* The file ends before its feature table: cut after the data (perf
		 * killed while it wrote them, or the file truncated). */
		lose_features(r, h);
		r->cut.bytes_missing = offset + (uint64_t)nr * sizeof(sec[0]) - r->file_size;
		return 0;
	}
	if (rt_perf_reader__read_at(r, sec, nr * sizeof(sec[0]), offset))
		return -EINVAL;
	for (feat = 0; feat < FEAT_BITS; feat++) {
		uint8_t *data;
		int err;

		if (!(h->features[feat / 64] & (1ULL << (feat % 64))))
			continue;
		struct file_section s = sec[i++];

		if (feat == FEAT_TRACING_DATA && s.offset <= r->file_size &&
		    s.size <= r->file_size - s.offset) {
			r->tracing_offset = s.offset;
			r->tracing_size = s.size;
		}
		if (feat == FEAT_TRACING_DATA || !s.size)
			continue;
		if (s.size <= MAX_FEATURE_SIZE && s.offset >= offset + nr * sizeof(sec[0]) &&
		    s.offset <= UINT64_MAX - s.size && s.offset + s.size > r->file_size) {
			/* Past the end of a file cut among its features. */
			r->cut.features_lost = true;
			r->cut.nr_features_lost++;
			r->cut.event_names_lost |= feat == FEAT_EVENT_DESC;
			r->cut.build_ids_lost |= feat == FEAT_BUILD_ID;
			if (s.offset + s.size - r->file_size > r->cut.bytes_missing)
				r->cut.bytes_missing = s.offset + s.size - r->file_size;
			continue;
		}
		if (s.offset > r->file_size || s.size > r->file_size - s.offset ||
		    s.size > MAX_FEATURE_SIZE)
			return rt_perf_reader__set_error(r, EINVAL,
							 offset + (uint64_t)(i - 1) * sizeof(s),
							 "feature %d section [%" PRIu64 ", +%" PRIu64
							 ") lies outside the file", feat, s.offset, s.size);
		data = malloc(s.size);
		if (!data)
			return -ENOMEM;
		if (rt_perf_reader__read_at(r, data, s.size, s.offset)) {
			free(data);
			return -EINVAL;
		}
		err = parse_feature(r, feat, data, s.size);
		free(data);
		if (err == -ENOMEM)
			return err;
		if (err)
			fprintf(stderr, "%s: warning: feature %d at offset %" PRIu64
				" is malformed; ignored\n", r->path, feat, s.offset);
	}
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

int rt_perf_reader__open_file(struct rt_perf_reader *r, const struct file_header *h)
{
	size_t nr_attrs, i, entry;
	uint8_t *attrs;
	int err = 0;

	if (h->size != FILE_HEADER_SIZE && h->size < sizeof(*h))
		return rt_perf_reader__set_error(r, EINVAL, 8, "header size %" PRIu64 " is not %d",
						 h->size,
						 FILE_HEADER_SIZE);
	if (h->attr_size < PERF_ATTR_SIZE_VER0 + 16 || h->attr_size > MAX_ATTR_SIZE + 16)
		return rt_perf_reader__set_error(r, EINVAL, 16,
						 "attribute size %" PRIu64 " is absurd", h->attr_size);
	if (h->attrs.offset > r->file_size || h->attrs.size > r->file_size - h->attrs.offset ||
	    h->attrs.size % h->attr_size)
		return rt_perf_reader__set_error(r, EINVAL, 24,
						 "attribute section [%" PRIu64 ", +%" PRIu64
						 ") is outside the file or not a multiple of %" PRIu64,
						 h->attrs.offset, h->attrs.size, h->attr_size);
	if (h->data.offset > r->file_size)
		return rt_perf_reader__set_error(r, EINVAL, 40, "data section starts at %" PRIu64
						 " beyond the end of the file (%" PRIu64 " bytes)",
						 h->data.offset, r->file_size);
	nr_attrs = h->attrs.size / h->attr_size;
	if (!nr_attrs)
		return rt_perf_reader__set_error(r, EINVAL, 24, "no events recorded");
	if (nr_attrs > MAX_EVENTS)
		return rt_perf_reader__set_error(r, EINVAL, 24, "%zu events is absurd", nr_attrs);
	entry = h->attr_size;
	attrs = malloc(h->attrs.size);
	if (!attrs)
		return -ENOMEM;
	if (rt_perf_reader__read_at(r, attrs, h->attrs.size, h->attrs.offset)) {
		free(attrs);
		return -EINVAL;
	}
	for (i = 0; i < nr_attrs && !err; i++) {
		const uint8_t *a = attrs + i * entry;
		struct file_section ids;
		uint64_t *idv = NULL;
		size_t nr_ids;

		memcpy(&ids, a + entry - sizeof(ids), sizeof(ids));
		if (ids.offset > r->file_size || ids.size > r->file_size - ids.offset ||
		    ids.size % 8 || ids.size / 8 > MAX_IDS) {
			err = rt_perf_reader__set_error(r, EINVAL,
							h->attrs.offset + i * entry + entry - 16,
							"id section of event %zu is outside the file", i);
			break;
		}
		nr_ids = ids.size / 8;
		if (nr_ids > MAX_IDS - r->nr_ids_total) {
			r->stats.ids_dropped += nr_ids - (MAX_IDS - r->nr_ids_total);
			nr_ids = MAX_IDS - r->nr_ids_total;
		}
		if (nr_ids) {
			idv = malloc(nr_ids * 8);
			if (!idv) {
				err = -ENOMEM;
				break;
			}
			if (rt_perf_reader__read_at(r, idv, nr_ids * 8, ids.offset)) {
				free(idv);
				err = -EINVAL;
				break;
			}
		}
		err = add_evsel(r, a, entry - sizeof(ids), idv, nr_ids, h->attrs.offset + i * entry);
		free(idv);
	}
	free(attrs);
	if (err)
		return err;
	r->data_start = h->data.offset;
	/* A recording cut short is read to the end of the file, as perf does,
	 * and the cut is reported after the data (rt_perf_reader__cut()):
	 * perf killed before it finished writes no data size, and a file cut
	 * inside its data holds less than the size says, and no features. */
	if (h->data.size == 0) {
		r->cut.no_data_size = true;
		lose_features(r, h);
		r->data_end = r->file_size;
	} else if (h->data.size > r->file_size - h->data.offset) {
		r->cut.bytes_missing = h->data.size - (r->file_size - h->data.offset);
		lose_features(r, h);
		r->data_end = r->file_size;
	} else {
		r->data_end = h->data.offset + h->data.size;
		err = read_features(r, h);
		if (err)
			return err;
	}
	return 0;
}

/* ---- user-type records (pipe mode headers) ----------------------------- */

int rt_perf_reader__user_record(struct rt_perf_reader *r, const uint8_t *rec, size_t size,
				uint64_t offset)
{
	struct perf_event_header h;

	memcpy(&h, rec, sizeof(h));
	switch (h.type) {
	case PERF_RECORD_HEADER_ATTR: {
		uint32_t attr_size;
		size_t nr_ids;
		uint64_t *ids;
		int err;

		if (size < 8 + PERF_ATTR_SIZE_VER0)
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "HEADER_ATTR record too short");
		memcpy(&attr_size, rec + 8 + 4, 4); /* attr.size */
		if (attr_size < PERF_ATTR_SIZE_VER0 || attr_size > size - 8)
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "HEADER_ATTR with bad attribute size %u",
							 attr_size);
		nr_ids = (size - 8 - attr_size) / 8;
		ids = nr_ids ? malloc(nr_ids * 8) : NULL;
		if (nr_ids && !ids)
			return -ENOMEM;
		if (nr_ids)
			memcpy(ids, rec + 8 + attr_size, nr_ids * 8);
		err = add_evsel(r, rec + 8, attr_size, ids, nr_ids, offset);
		free(ids);
		return err;
	}
	case PERF_RECORD_HEADER_BUILD_ID:
		if (size < sizeof(struct perf_record_header_build_id))
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "HEADER_BUILD_ID record too short");
		{
			int32_t pid;

			memcpy(&pid, rec + 8, 4);
			return add_build_id(r, pid, h.misc, rec + 12, (const char *)rec + 36,
					    size - 36);
		}
	case PERF_RECORD_HEADER_FEATURE: {
		uint64_t feat;
		int err;

		if (size < 16)
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "HEADER_FEATURE record too short");
		memcpy(&feat, rec + 8, 8);
		if (feat >= FEAT_BITS || feat == FEAT_TRACING_DATA)
			return 0;
		err = parse_feature(r, (int)feat, rec + 16, size - 16);
		if (err == -ENOMEM)
			return err;
		if (err)
			fprintf(stderr, "%s: offset %" PRIu64 ": malformed feature %" PRIu64
				" ignored\n", r->path, offset, feat);
		return 0;
	}
	case PERF_RECORD_HEADER_TRACING_DATA: {
		/* The record is followed by `size` bytes of tracing data. */
		uint32_t extra;
		int got;

		if (size < 12)
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "TRACING_DATA record too short");
		memcpy(&extra, rec + 8, 4);
		/* kept (the formats of --leaf-field and --per-sample); a later
		 * record replaces an earlier one */
		free(r->pipe_tracing);
		r->pipe_tracing_size = 0;
		r->pipe_tracing = extra <= MAX_FEATURE_SIZE ? malloc(extra ? extra : 1) : NULL;
		while (extra) {
			size_t chunk = extra < READ_CHUNK ? extra : READ_CHUNK;

			got = rt_perf_reader__fill(r, chunk);
			if (got <= 0)
				return rt_perf_reader__set_error(r, EINVAL, offset,
								 "tracing data cut short");
			if (r->pipe_tracing) {
				memcpy(r->pipe_tracing + r->pipe_tracing_size, r->buf + r->buf_pos,
				       chunk);
				r->pipe_tracing_size += chunk;
			}
			r->buf_pos += chunk;
			extra -= (uint32_t)chunk;
		}
		return 0;
	}
	case PERF_RECORD_COMPRESSED:
		return rt_perf_reader__set_error(r, ENOTSUP, offset,
						 "compressed perf.data (perf record -z) is not supported; "
						 "record without -z or run `perf inject -i IN -o OUT` first");
	case PERF_RECORD_AUXTRACE: {
		/* Followed by `size` bytes of AUX data, which we skip. */
		uint64_t extra;

		if (size < 16)
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "AUXTRACE record too short");
		memcpy(&extra, rec + 8, 8);
		while (extra) {
			size_t chunk = extra < READ_CHUNK ? (size_t)extra : READ_CHUNK;

			if (rt_perf_reader__fill(r, chunk) <= 0)
				return rt_perf_reader__set_error(r, EINVAL, offset,
								 "AUX data cut short");
			r->buf_pos += chunk;
			extra -= chunk;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static void print_build_id(FILE *out, const struct rt_perf_build_id *b)
{
	int i;

	for (i = 0; i < b->size; i++)
		fprintf(out, "%02x", b->id[i]);
}

void rt_perf_reader__fprint_header(const struct rt_perf_reader *r, FILE *out)
{
	const struct rt_perf_header_info *in = &r->info;
	size_t i;

	fprintf(out, "# file: %s (%s mode)\n", r->path, r->pipe ? "pipe" : "file");
	if (in->hostname)
		fprintf(out, "# hostname : %s\n", in->hostname);
	if (in->os_release)
		fprintf(out, "# os release : %s\n", in->os_release);
	if (in->perf_version)
		fprintf(out, "# perf version : %s\n", in->perf_version);
	if (in->arch)
		fprintf(out, "# arch : %s\n", in->arch);
	if (in->nr_cpus_online || in->nr_cpus_available)
		fprintf(out, "# nrcpus online : %u\n# nrcpus avail : %u\n", in->nr_cpus_online,
			in->nr_cpus_available);
	if (in->cpu_desc)
		fprintf(out, "# cpudesc : %s\n", in->cpu_desc);
	if (in->total_mem_kb)
		fprintf(out, "# total memory : %" PRIu64 " kB\n", in->total_mem_kb);
	if (in->nr_cmdline) {
		fprintf(out, "# cmdline :");
		for (i = 0; i < in->nr_cmdline; i++)
			fprintf(out, " %s", in->cmdline[i] ? in->cmdline[i] : "");
		fputc('\n', out);
	}
	if (in->clockid >= 0)
		fprintf(out, "# clockid : %d\n", in->clockid);
	for (i = 0; i < r->nr_evsels; i++) {
		const struct perf_event_attr *a = &r->evsels[i]->pub.attr;

		fprintf(out, "# event : name = %s, type = %u, config = %#llx, sample_type = %#llx, "
			"%s = %llu, ids = %zu\n", r->evsels[i]->pub.name, a->type,
			(unsigned long long)a->config, (unsigned long long)a->sample_type,
			a->freq ? "sample_freq" : "sample_period",
			(unsigned long long)a->sample_period, r->evsels[i]->pub.nr_ids);
	}
	fprintf(out, "# build ids : %zu\n", in->nr_build_ids);
	for (i = 0; i < in->nr_build_ids; i++) {
		fprintf(out, "#   ");
		print_build_id(out, &in->build_ids[i]);
		fprintf(out, " %s\n", in->build_ids[i].filename);
	}
}
