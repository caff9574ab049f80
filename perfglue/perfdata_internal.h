/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata internals shared by perfglue/perfdata*.c: the reader's state and
 * the steps one file offers the others.  Users include perfglue/perfdata.h.
 */
#ifndef RT_PERFDATA_INTERNAL_H
#define RT_PERFDATA_INTERNAL_H

#include "perfglue/perfdata.h"

#include <sys/types.h>

#define PERF_MAGIC2 0x32454c4946524550ULL	/* "PERFILE2" little endian */
#define PERF_MAGIC2_SWAPPED 0x50455246494c4532ULL
#define FILE_HEADER_SIZE 104
#define PIPE_HEADER_SIZE 16
#define MAX_RECORD_SIZE 65536U		/* header.size is 16 bits */
#define MAX_ATTR_SIZE 4096U
#define MAX_EVENTS 4096U
#define MAX_IDS (1U << 22)
#define MAX_FEATURE_SIZE (256U << 20)
/* The ordering queue holds at most this many records or arena bytes: a
 * file without FINISHED_ROUND records cannot make rtmerge hold all of it. */
#define MAX_QUEUED (1U << 22)
#define MAX_QUEUED_BYTES (1ULL << 30)
#define READ_CHUNK (1U << 20)
#define MAP_WINDOW (8U << 20)      /* file mode: data is read through a moving mapping */
#define COPY_WINDOW (4U << 20)     /* ... or read ahead into buffers by a worker */
#define COPY_PIECE (512U << 10)    /* ... in pieces, so that a waiting reader can help */
#define COPY_BUFFERS 3
#define COPY_MIN (32U << 20)       /* the data size from which that is the default */

enum {
	FEAT_TRACING_DATA = 1, FEAT_BUILD_ID, FEAT_HOSTNAME, FEAT_OSRELEASE, FEAT_VERSION,
	FEAT_ARCH, FEAT_NRCPUS, FEAT_CPUDESC, FEAT_CPUID, FEAT_TOTAL_MEM, FEAT_CMDLINE,
	FEAT_EVENT_DESC, FEAT_CPU_TOPOLOGY, FEAT_NUMA_TOPOLOGY, FEAT_BRANCH_STACK,
	FEAT_PMU_MAPPINGS, FEAT_GROUP_DESC, FEAT_AUXTRACE, FEAT_STAT, FEAT_CACHE,
	FEAT_SAMPLE_TIME, FEAT_MEM_TOPOLOGY, FEAT_CLOCKID, FEAT_DIR_FORMAT,
	FEAT_BPF_PROG_INFO, FEAT_BPF_BTF, FEAT_COMPRESSED, FEAT_CPU_PMU_CAPS, FEAT_CLOCK_DATA,
	FEAT_HYBRID_TOPOLOGY, FEAT_PMU_CAPS,
	FEAT_BITS = 256,
};

struct file_section {
	uint64_t offset, size;
};

struct file_header {
	uint64_t magic, size, attr_size;
	struct file_section attrs, data, event_types;
	uint64_t features[FEAT_BITS / 64];
};

/* A record waiting in the time-ordering queue. */
struct queued {
	uint64_t time;
	uint64_t seq;
	uint64_t file_offset;
	size_t arena_offset;
	const uint8_t *mapped;      /* the record in the file mapping, or NULL: in the arena */
	uint32_t size;
};

struct id_slot {
	uint64_t id;
	int evsel;      /* -1 empty */
};

struct evsel_priv {
	struct rt_perf_evsel pub;
	uint64_t *ids;
	char *name;
	int id_pos;     /* u64 index of the id in a sample, -1 none */
	int is_pos;     /* u64 index from the end of a non-sample record, -1 */
	size_t trailer_size;
};

struct rt_perf_reader {
	/* the TRACING_DATA feature section (tracepoint formats), read on demand */
	uint64_t tracing_offset, tracing_size;
	/* a stream's tracing data (its HEADER_TRACING_DATA record), kept */
	uint8_t *pipe_tracing;
	size_t pipe_tracing_size;
	char *path;
	int fd;
	bool pipe;
	bool is_stdin;
	bool swapped;
	uint64_t file_size;

	/* Streaming buffer over [data_start, data_end): in file mode a window
	 * of the file mapped read-only (no copies: a --call-graph dwarf sample
	 * is 8 KiB of which the unwinder reads a little), else read into heap. */
	uint8_t *map;
	size_t map_len;
	bool no_map;
	/* With a second CPU, a worker thread keeps the next window mapped and
	 * its pages faulted in before the reader gets there, and unmaps the
	 * windows the reader is done with (see window_fill()). */
	struct prefault *prefault;
	bool prefault_on;
	bool copy;                  /* the worker reads windows into buffers instead */
	bool map_is_buffer;         /* map is one of the worker's buffers, not a mapping */
	const uint32_t *index;      /* big records of the window (copy mode), to load ahead */
	const uint32_t *nr_index;   /* entries so far, or NULL */
	uint32_t index_pos;         /* the first entry not behind the reader */
	uint32_t index_next;        /* the first entry not loaded yet */
	uint8_t *heap_buf;
	uint8_t *buf;
	size_t buf_len, buf_pos;
	uint64_t buf_file_offset;   /* file offset of buf[0] */
	uint64_t data_start, data_end; /* data_end = UINT64_MAX in pipe mode */
	bool eof;

	/* Each event is allocated on its own: callers keep pointers to events
	 * while later attribute records (pipe mode) grow this array. */
	struct evsel_priv **evsels;
	size_t nr_evsels;
	uint64_t nr_ids_total;      /* ids kept over all events, at most MAX_IDS */
	struct id_slot *id_table;
	size_t id_table_size;       /* power of two */
	size_t nr_id_entries;
	/* The last ids found, by their low bits (an event's ids are one per
	 * CPU, numbered in a row): most samples skip the table's hashing. */
	struct id_memo {
		uint64_t id;
		struct evsel_priv *ev;
	} id_memo[4];

	/* Feature data. */
	struct rt_perf_header_info info;
	char **cmdline;
	struct rt_perf_build_id *build_ids;
	size_t build_ids_cap;
	char **strings;             /* owned strings, freed at close */
	size_t nr_strings, strings_cap;

	/* Ordering queue. */
	struct queued *queue;
	size_t queue_len, queue_cap;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint8_t *spare;             /* second arena, for compaction */
	size_t spare_cap;
	struct queued *queue_tmp;   /* merge scratch */
	size_t queue_tmp_cap;
	uint64_t seq;
	uint64_t last_flush_time;
	uint64_t round_max_time;    /* largest time seen in the current round */
	uint64_t prev_round_max;
	bool ordered;

	struct rt_perf_reader_stats stats;
	struct rt_perf_cut cut;
	bool strict;                /* a cut inside a record is an error */
	char error[512];
};

/* ---- the reader object (perfdata.c) ---- */

/* Writes "path: offset N: message" into r->error (no offset when offset is
 * UINT64_MAX) and returns -err. */
int rt_perf_reader__set_error(struct rt_perf_reader *r, int err, uint64_t offset,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A copy of s[0, len) the reader owns until close; NULL without memory. */
char *rt_perf_reader__own_string(struct rt_perf_reader *r, const char *s, size_t len);

/* ---- the file header, events, features (perfdata_header.c) ---- */

/* Reads the attributes, ids and features of file-mode header h. */
int rt_perf_reader__open_file(struct rt_perf_reader *r, const struct file_header *h);
/* The event of sample id, NULL when none has it. */
struct evsel_priv *rt_perf_reader__evsel_by_id(struct rt_perf_reader *r, uint64_t id);
/* Handles a user-type record (pipe mode's header records, skipped data). */
int rt_perf_reader__user_record(struct rt_perf_reader *r, const uint8_t *rec, size_t size,
				uint64_t offset);

/* ---- bytes in (perfdata_readahead.c) ---- */

/* Reads exactly size bytes at offset; 0 or -errno with the error set. */
int rt_perf_reader__read_at(struct rt_perf_reader *r, void *dst, size_t size, uint64_t offset);
/* Reads size bytes from a pipe; the bytes read (fewer at its end) or -errno. */
ssize_t rt_perf__read_stream(int fd, void *dst, size_t size);
/* Makes need bytes available at buf_pos: 1, 0 at the end of the data, -errno. */
int rt_perf_reader__fill(struct rt_perf_reader *r, size_t need);
/* Starts loading the big records the worker indexed just ahead of the reader. */
void rt_perf_reader__load_ahead(struct rt_perf_reader *r);
/* Stops the read-ahead worker and releases its windows; a no-op without one. */
void rt_perf_reader__readahead_stop(struct rt_perf_reader *r);
/* sample_stack_user of every event with stack copies, or 0 if they differ. */
uint32_t rt_perf_reader__stack_user(const struct rt_perf_reader *r);

/* ---- records and samples (perfdata_parse.c) ---- */

/* The time of a record for ordering; false when it has none. */
bool rt_perf_reader__record_time(struct rt_perf_reader *r, const uint8_t *rec, size_t size,
				 uint64_t *time);
/* Parses record rec (of size bytes, at file offset) and calls tool's callback. */
int rt_perf_reader__deliver(struct rt_perf_reader *r, struct rt_perf_tool *tool,
			    const uint8_t *rec, size_t size, uint64_t offset);

/* ---- the ordering queue (perfdata_queue.c) ---- */

/* Queues a record (in place when it lies aligned in the mapping, else copied). */
int rt_perf_reader__queue_push(struct rt_perf_reader *r, const uint8_t *rec, uint32_t size,
			       uint64_t time, uint64_t offset);
/* Delivers queued records with time <= limit, in time order; keeps the rest. */
int rt_perf_reader__queue_flush(struct rt_perf_reader *r, struct rt_perf_tool *tool,
				uint64_t limit);
/* Copies every queued record that lives in the mapping into the arena. */
int rt_perf_reader__queue_evacuate(struct rt_perf_reader *r);
#endif
