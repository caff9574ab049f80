/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata: the reader object.  Opening a file or a pipe, the record loop
 * that hands each record to the ordering queue or its handler, closing, and
 * the accessors.
 */
#include "perfglue/perfdata_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfglue/grow.h"
#include "perfglue/safefile.h"

int rt_perf_reader__set_error(struct rt_perf_reader *r, int err, uint64_t offset,
			      const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (offset == UINT64_MAX)
		snprintf(r->error, sizeof(r->error), "%s: %s", r->path, msg);
	else
		snprintf(r->error, sizeof(r->error), "%s: offset %" PRIu64 ": %s", r->path, offset, msg);
	return -err;
}

char *rt_perf_reader__own_string(struct rt_perf_reader *r, const char *s, size_t len)
{
	char *copy;

	if (RT_ARRAY_GROW(r->strings, r->strings_cap, r->nr_strings + 1, 32))
		return NULL;
	copy = strndup(s, len);
	if (copy)
		r->strings[r->nr_strings++] = copy;
	return copy;
}

struct rt_perf_reader *rt_perf_reader__open(const char *path, char *err, size_t err_size)
{
	struct rt_perf_reader *r = calloc(1, sizeof(*r));
	struct file_header h;
	struct stat st;
	ssize_t n;
	int ret = 0;

	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->fd = -1;
	/* RTPERF_READER=read|map|map-worker|read-worker picks how file-mode
	 * data is read (tests compare them); the default is map-worker with
	 * two CPUs, read-worker for big files. */
	const char *how = getenv("RTPERF_READER");

	if (how && strcmp(how, "read") && strcmp(how, "map") && strcmp(how, "map-worker") &&
	    strcmp(how, "read-worker")) {
		fprintf(stderr, "rtmerge: RTPERF_READER=%s is not read, map, map-worker or "
			"read-worker; ignored\n", how);
		how = NULL;
	}
	r->no_map = how && !strcmp(how, "read");
	r->copy = how && !strcmp(how, "read-worker");
	r->prefault_on = how ? !strcmp(how, "map-worker") || r->copy :
			 sysconf(_SC_NPROCESSORS_ONLN) > 1;
	r->info.clockid = -1;
	r->ordered = true;
	r->path = strdup(strcmp(path, "-") ? path : "<stdin>");
	r->heap_buf = r->buf = malloc(READ_CHUNK);
	if (!r->path || !r->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	if (!strcmp(path, "-")) {
		r->fd = STDIN_FILENO;
		r->is_stdin = true;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			ret = rt_perf_reader__set_error(r, errno, UINT64_MAX, "cannot open: %s",
							strerror(errno));
			goto fail;
		}
	}
	if (fstat(r->fd, &st)) {
		ret = rt_perf_reader__set_error(r, errno, UINT64_MAX, "cannot stat: %s",
						strerror(errno));
		goto fail;
	}
	/* A file another user owns may be truncated under us, and a mapping
	 * past its new end raises SIGBUS: read it instead. */
	if (S_ISREG(st.st_mode) && !rt_safefile__owner_trusted(&st) && !r->copy) {
		r->no_map = true;
		r->prefault_on = false;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = rt_perf_reader__set_error(r, EISDIR, UINT64_MAX,
						"is a directory (perf record --threads directories are not supported)");
		goto fail;
	}
	r->file_size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX;
	memset(&h, 0, sizeof(h));
	n = rt_perf__read_stream(r->fd, &h, PIPE_HEADER_SIZE);
	if (n < 0) {
		ret = rt_perf_reader__set_error(r, -n, 0, "read failed: %s", strerror((int)-n));
		goto fail;
	}
	if (n < 8) {
		ret = rt_perf_reader__set_error(r, EINVAL, 0,
						n ? "too short to be a perf.data file (%zd bytes)" :
						"empty file, not a perf.data file", n);
		goto fail;
	}
	if (h.magic == PERF_MAGIC2_SWAPPED) {
		ret = rt_perf_reader__set_error(r, ENOTSUP, 0,
						"big-endian perf.data is not supported");
		goto fail;
	}
	if (h.magic != PERF_MAGIC2) {
		ret = rt_perf_reader__set_error(r, EINVAL, 0, "not a perf.data file (bad magic)");
		goto fail;
	}
	if (n < PIPE_HEADER_SIZE) {
		ret = rt_perf_reader__set_error(r, EINVAL, (uint64_t)n,
						"file ends inside the header");
		goto fail;
	}
	if (h.size == PIPE_HEADER_SIZE) {
		r->pipe = true;
		r->data_start = PIPE_HEADER_SIZE;
		r->data_end = UINT64_MAX;
		r->buf_file_offset = PIPE_HEADER_SIZE;
		return r;
	}
	if (r->file_size == UINT64_MAX) {
		ret = rt_perf_reader__set_error(r, EINVAL, 8,
						"file-mode perf.data on a pipe; record with `-o -` "
						"to stream");
		goto fail;
	}
	if (r->file_size < FILE_HEADER_SIZE) {
		ret = rt_perf_reader__set_error(r, EINVAL, r->file_size,
						"file ends inside the header");
		goto fail;
	}
	if (rt_perf_reader__read_at(r, &h, sizeof(h), 0)) {
		ret = -EINVAL;
		goto fail;
	}
	ret = rt_perf_reader__open_file(r, &h);
	if (ret)
		goto fail;
	r->buf_file_offset = r->data_start;
	/* Big files (--call-graph dwarf): copy ahead rather than map ahead. */
	if (!how && r->prefault_on && r->data_end - r->data_start > COPY_MIN)
		r->copy = true;
	return r;
fail:
	if (err && err_size)
		snprintf(err, err_size, "%s", r->error[0] ? r->error : strerror(-ret));
	rt_perf_reader__close(r);
	errno = -ret;
	return NULL;
}

void rt_perf_reader__close(struct rt_perf_reader *r)
{
	size_t i;

	if (!r)
		return;
	if (r->fd >= 0 && !r->is_stdin)
		close(r->fd);
	for (i = 0; i < r->nr_evsels; i++) {
		free(r->evsels[i]->ids);
		free(r->evsels[i]->name);
		free(r->evsels[i]);
	}
	for (i = 0; i < r->nr_strings; i++)
		free(r->strings[i]);
	free(r->strings);
	free(r->cmdline);
	free(r->pipe_tracing);
	free(r->build_ids);
	free(r->evsels);
	free(r->id_table);
	free(r->queue);
	free(r->queue_tmp);
	free(r->arena);
	free(r->spare);
	rt_perf_reader__readahead_stop(r);
	if (r->map && !r->map_is_buffer)
		munmap(r->map, r->map_len);
	free(r->heap_buf);
	free(r->path);
	free(r);
}

/*
 * The data ended (err from rt_perf_reader__fill()) inside the record at
 * offset: perf was killed, the file truncated or the pipe cut.  Unless the
 * reader is strict, that is where the recording ends: returns true after
 * noting where and how many bytes of the incomplete record are dropped.  A
 * read that failed (an error already set) or no memory is no cut.
 */
static bool cut_short(struct rt_perf_reader *r, int err, uint64_t offset)
{
	uint64_t end = r->pipe ? r->buf_file_offset + r->buf_len : r->data_end;

	if (r->strict || err != -EINVAL || r->error[0])
		return false;
	r->cut.cut = true;
	r->cut.offset = offset;
	r->cut.bytes_lost = end > offset ? end - offset : 0;
	return true;
}

int rt_perf_reader__process(struct rt_perf_reader *r, struct rt_perf_tool *tool)
{
	int err;

	for (;;) {
		struct perf_event_header h;
		uint64_t offset = r->buf_file_offset + r->buf_pos, time;
		const uint8_t *rec;

		if (r->nr_index)
			rt_perf_reader__load_ahead(r);
		err = rt_perf_reader__fill(r, sizeof(h));
		if (err == 0)
			break;
		if (err < 0 && cut_short(r, err, offset))
			break;
		if (err < 0) {
			if (!r->error[0])
				rt_perf_reader__set_error(r, EINVAL, offset,
							  "data ends inside a record header "
							  "(file truncated or pipe cut)");
			return -EINVAL;
		}
		memcpy(&h, r->buf + r->buf_pos, sizeof(h));
		if (h.size < sizeof(h))
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "record of type %u has size %u "
							 "(corrupted data)", h.type, h.size);
		err = rt_perf_reader__fill(r, h.size);
		if (err <= 0 && cut_short(r, err ? err : -EINVAL, offset))
			break;
		if (err <= 0) {
			if (!r->error[0])
				rt_perf_reader__set_error(r, EINVAL, offset,
							  "%s record of %u bytes is cut short "
							  "(file truncated or pipe cut)",
							  rt_perf_record__name(h.type), h.size);
			return -EINVAL;
		}
		rec = r->buf + r->buf_pos;
		r->buf_pos += h.size;

		if (h.type >= PERF_RECORD_USER_TYPE_START) {
			if (h.type < PERF_RECORD_HEADER_MAX)
				r->stats.records[h.type]++;
			if (h.type == PERF_RECORD_FINISHED_ROUND) {
				err = rt_perf_reader__queue_flush(r, tool, r->prev_round_max);
				if (err)
					return err;
				r->prev_round_max = r->round_max_time;
				continue;
			}
			/* Copy out: handlers may refill the buffer. */
			uint8_t copy[MAX_RECORD_SIZE];

			memcpy(copy, rec, h.size);
			err = rt_perf_reader__user_record(r, copy, h.size, offset);
			if (err)
				return err;
			continue;
		}
		if (!r->nr_evsels)
			return rt_perf_reader__set_error(r, EINVAL, offset,
							 "%s record before any event attribute",
							 rt_perf_record__name(h.type));
		if (tool->skip_data_mmaps && (h.misc & PERF_RECORD_MISC_MMAP_DATA) &&
		    (h.type == PERF_RECORD_MMAP || h.type == PERF_RECORD_MMAP2)) {
			r->stats.records[h.type]++;
			continue;
		}
		if (r->ordered && rt_perf_reader__record_time(r, rec, h.size, &time)) {
			if (time < r->last_flush_time)
				r->stats.out_of_order++;
			if (time > r->round_max_time)
				r->round_max_time = time;
			err = rt_perf_reader__queue_push(r, rec, h.size, time, offset);
			if (!err && (r->queue_len >= MAX_QUEUED || r->arena_len >= MAX_QUEUED_BYTES)) {
				r->stats.queue_cap_flushes++;
				err = rt_perf_reader__queue_flush(r, tool, UINT64_MAX);
			}
		} else {
			err = rt_perf_reader__queue_flush(r, tool, UINT64_MAX);
			if (!err && ((uintptr_t)rec & 7)) {
				/* A corrupted or odd file: parse from an aligned copy. */
				uint64_t aligned[MAX_RECORD_SIZE / 8];

				memcpy(aligned, rec, h.size);
				err = rt_perf_reader__deliver(r, tool, (const uint8_t *)aligned,
							      h.size, offset);
			} else if (!err) {
				err = rt_perf_reader__deliver(r, tool, rec, h.size, offset);
			}
		}
		if (err)
			return err;
	}
	if (!r->pipe && (r->cut.no_data_size || r->cut.features_lost) && !r->cut.cut) {
		/* Cut at a record boundary: nothing lost but what never came. */
		r->cut.cut = true;
		r->cut.offset = r->data_end;
	}
	return rt_perf_reader__queue_flush(r, tool, UINT64_MAX);
}

/* ---- accessors ---------------------------------------------------------- */

const char *rt_perf_reader__error(const struct rt_perf_reader *r)
{
	return r->error;
}

void rt_perf_reader__set_strict(struct rt_perf_reader *r, bool strict)
{
	r->strict = strict;
}

const struct rt_perf_cut *rt_perf_reader__cut(const struct rt_perf_reader *r)
{
	return &r->cut;
}

size_t rt_perf_reader__nr_evsels(const struct rt_perf_reader *r)
{
	return r->nr_evsels;
}

const struct rt_perf_evsel *rt_perf_reader__evsel(const struct rt_perf_reader *r, size_t idx)
{
	return idx < r->nr_evsels ? &r->evsels[idx]->pub : NULL;
}

const struct rt_perf_header_info *rt_perf_reader__info(const struct rt_perf_reader *r)
{
	return &r->info;
}

const struct rt_perf_reader_stats *rt_perf_reader__stats(const struct rt_perf_reader *r)
{
	return &r->stats;
}

bool rt_perf_reader__is_pipe(const struct rt_perf_reader *r)
{
	return r->pipe;
}

const struct rt_perf_build_id *rt_perf_reader__find_build_id(const struct rt_perf_reader *r,
							     const char *filename)
{
	size_t i;

	for (i = 0; i < r->info.nr_build_ids; i++)
		if (!strcmp(r->build_ids[i].filename, filename))
			return &r->build_ids[i];
	return NULL;
}

int rt_perf_reader__tracing_data(struct rt_perf_reader *r, void **data, size_t *size)
{
	void *buf;

	*data = NULL;
	*size = 0;
	if (r->pipe_tracing) {
		buf = malloc(r->pipe_tracing_size);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, r->pipe_tracing, r->pipe_tracing_size);
		*data = buf;
		*size = r->pipe_tracing_size;
		return 0;
	}
	if (!r->tracing_size)
		return -ENOENT;
	if (r->tracing_size > MAX_FEATURE_SIZE)
		return -EFBIG;
	buf = malloc(r->tracing_size);
	if (!buf)
		return -ENOMEM;
	if (rt_perf_reader__read_at(r, buf, r->tracing_size, r->tracing_offset)) {
		free(buf);
		return -EINVAL;
	}
	*data = buf;
	*size = r->tracing_size;
	return 0;
}
