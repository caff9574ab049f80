/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata: a reader for everything `perf record` writes, in file mode and
 * in pipe mode (`perf record -o - | rtmerge -`).
 *
 * The reader parses the file header, the event attributes with their ids and
 * the feature sections, then streams the data records in time order (the
 * way perf itself does: records are queued and flushed round by round at
 * FINISHED_ROUND) to a struct of callbacks, struct rt_perf_tool.  Every
 * sample field is parsed according to its event's sample_type.
 *
 * Malformed input never crashes the reader: a broken file header or record
 * stream ends processing with -EINVAL (or -EIO) and a message naming the file
 * and the offset (rt_perf_reader__error()); a sample whose body does not
 * match its attribute is counted as bad and skipped.
 */
#ifndef RT_PERFDATA_H
#define RT_PERFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <perf/event.h>

/* One event of the recording, as described by its attribute. */
struct rt_perf_evsel {
	struct perf_event_attr attr;
	const char *name;       /* from the EVENT_DESC feature, or synthesized */
	const uint64_t *ids;    /* sample ids that belong to this event */
	size_t nr_ids;
	int index;              /* position among the file's events */
	uint64_t nr_samples;    /* samples delivered so far */
};

/* Where a callchain entry or the sample ip was taken. */
enum rt_cpumode {
	RT_CPUMODE_UNKNOWN = 0,
	RT_CPUMODE_KERNEL,
	RT_CPUMODE_USER,
	RT_CPUMODE_HYPERVISOR,
	RT_CPUMODE_GUEST_KERNEL,
	RT_CPUMODE_GUEST_USER,
};

/* A parsed sample; every pointer points into the record and is valid only
 * during the callback. Fields absent from the sample_type are zero. */
struct rt_perf_sample {
	uint64_t sample_type;
	uint16_t misc;
	enum rt_cpumode cpumode;
	uint64_t id, ip, time, addr, stream_id, period;
	uint32_t pid, tid, cpu;
	/* PERF_SAMPLE_READ: raw read_format body (see attr.read_format). */
	const uint64_t *read_values;
	size_t read_size;       /* in u64 */
	uint64_t nr_callchain;  /* entries including PERF_CONTEXT_* markers */
	const uint64_t *callchain;
	uint32_t raw_size;
	const void *raw;
	uint64_t nr_branches;
	uint64_t branch_hw_index;
	const struct perf_branch_entry *branches;
	uint64_t user_regs_abi;
	uint64_t user_regs_mask;
	const uint64_t *user_regs; /* popcount(mask) values, NULL if abi == 0 */
	uint64_t user_stack_size;
	const uint8_t *user_stack;
	uint64_t user_stack_dyn_size;
	uint64_t weight;        /* PERF_SAMPLE_WEIGHT, or the struct's var1 */
	uint64_t data_src;
	uint64_t transaction;
	uint64_t intr_regs_abi;
	const uint64_t *intr_regs;
	uint64_t phys_addr;
	uint64_t cgroup;
	uint64_t data_page_size, code_page_size;
	uint64_t aux_size;
	const void *aux;
};

/* The id trailer of a non-sample record (attr.sample_id_all). */
struct rt_perf_sample_id {
	bool present;
	uint32_t pid, tid, cpu;
	uint64_t time, id, stream_id;
};

/* MMAP and MMAP2 records, unified. */
struct rt_perf_mmap {
	uint32_t pid, tid;
	uint64_t start, len, pgoff;
	uint32_t prot, flags;       /* MMAP2 only; MMAP gives PROT_EXEC */
	const char *filename;       /* NUL-terminated inside the record */
	uint8_t build_id[20];
	uint8_t build_id_size;      /* 0 when the record carries none */
	enum rt_cpumode cpumode;
	struct rt_perf_sample_id sid;
};

struct rt_perf_tool;

/*
 * Callbacks, each optional.  A non-zero return stops processing and is
 * returned by rt_perf_reader__process().  Embed the tool in your own struct
 * and use container_of-style access for state.
 */
struct rt_perf_tool {
	int (*sample)(struct rt_perf_tool *tool, const struct rt_perf_evsel *evsel,
		      const struct rt_perf_sample *sample);
	int (*mmap)(struct rt_perf_tool *tool, const struct rt_perf_mmap *mmap);
	int (*comm)(struct rt_perf_tool *tool, uint32_t pid, uint32_t tid, const char *comm,
		    bool exec, const struct rt_perf_sample_id *sid);
	int (*fork)(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		    uint32_t ptid, uint64_t time);
	int (*exit)(struct rt_perf_tool *tool, uint32_t pid, uint32_t ppid, uint32_t tid,
		    uint32_t ptid, uint64_t time);
	int (*ksymbol)(struct rt_perf_tool *tool, uint64_t addr, uint32_t len, uint16_t type,
		       bool unregister, const char *name);
	/*
	 * Mappings of data (MMAP/MMAP2 with PERF_RECORD_MISC_MMAP_DATA: not
	 * executable) are counted in the record stats and dropped before time
	 * ordering instead of
	 * reaching ->mmap.  A tool that only names and unwinds code wants this:
	 * with --call-graph dwarf perf records every mmap, and interpreters
	 * map data all the time (90% of the records of a Python recording).
	 */
	bool skip_data_mmaps;
};

/* A build id listed in the BUILD_ID feature or pipe-mode record. */
struct rt_perf_build_id {
	int32_t pid;
	uint16_t misc;
	uint8_t id[20];
	uint8_t size;
	const char *filename;
};

/* Feature-section contents a user needs to trust a recording. */
struct rt_perf_header_info {
	const char *hostname, *os_release, *perf_version, *arch, *cpu_desc, *cpuid;
	uint32_t nr_cpus_available, nr_cpus_online;
	uint64_t total_mem_kb;
	const char *const *cmdline;
	size_t nr_cmdline;
	const struct rt_perf_build_id *build_ids;
	size_t nr_build_ids;
	int32_t clockid;            /* -1 when not recorded */
	uint64_t first_sample_time, last_sample_time;
};

/* Counters kept while processing. */
struct rt_perf_reader_stats {
	uint64_t records[PERF_RECORD_HEADER_MAX];
	uint64_t samples;
	uint64_t bad_samples;       /* body did not match the attribute */
	uint64_t unknown_id_samples;/* sample id not in any attribute */
	uint64_t lost;              /* sum of LOST records */
	uint64_t lost_samples;      /* sum of LOST_SAMPLES records */
	uint64_t unknown_records;
	uint64_t out_of_order;      /* records older than what was flushed */
	/* Limits reached (docs/threat-model.md): */
	uint64_t ids_dropped;       /* event ids past the total cap, not kept */
	uint64_t queue_cap_flushes; /* ordering queue flushed early at its cap */
};

/*
 * How a recording that was cut short ends: perf killed (by an OOM killer or
 * a timeout) before it finished the file, a file truncated at any byte (a
 * full disk, a copy cut off), a pipe broken mid-record.  Every complete
 * record before the cut is delivered.
 */
struct rt_perf_cut {
	bool cut;               /* the recording ends early; false for a whole one */
	bool no_data_size;      /* the header gives no data size (perf never finished it) */
	bool features_lost;     /* feature sections (event names, build ids) past the end */
	uint32_t nr_features_lost; /* how many */
	bool event_names_lost;  /* among them the event names (EVENT_DESC) */
	bool build_ids_lost;    /* among them the build ids */
	uint64_t offset;        /* input offset where the complete records end */
	uint64_t bytes_lost;    /* bytes of an incomplete record from offset on, dropped */
	uint64_t bytes_missing; /* bytes the header's sizes give past the end of the file */
};

struct rt_perf_reader;

/*
 * Open a perf.data file, or standard input when path is "-" (pipe mode is
 * detected from the header, so a regular file in pipe format works too).
 * Reads the header, attributes and features.  On failure returns NULL,
 * sets errno and writes a one-line message naming path and offset into
 * err (size err_size; err may be NULL).
 */
struct rt_perf_reader *rt_perf_reader__open(const char *path, char *err, size_t err_size);
/* Closes the file and frees everything; NULL is a no-op. */
void rt_perf_reader__close(struct rt_perf_reader *reader);

/*
 * Stream all data records, in time order, to tool.  Returns 0 at the end of
 * the data, a callback's non-zero value, or -errno for malformed input
 * (then rt_perf_reader__error() says where).  Data cut short inside a
 * record ends the stream after the last complete record, with 0
 * (rt_perf_reader__cut() says where), unless the reader is strict.
 */
int rt_perf_reader__process(struct rt_perf_reader *reader, struct rt_perf_tool *tool);

/* Strict: data cut short inside a record is an error (-EINVAL), as a
 * corrupted record is.  Call before rt_perf_reader__process(). */
void rt_perf_reader__set_strict(struct rt_perf_reader *reader, bool strict);

/* Whether and where the recording was cut short; complete after process.
 * Borrowed. */
const struct rt_perf_cut *rt_perf_reader__cut(const struct rt_perf_reader *reader);

/* The last error message ("" when none).  Borrowed. */
const char *rt_perf_reader__error(const struct rt_perf_reader *reader);

/* Events, borrowed.  In pipe mode they grow while processing. */
size_t rt_perf_reader__nr_evsels(const struct rt_perf_reader *reader);
const struct rt_perf_evsel *rt_perf_reader__evsel(const struct rt_perf_reader *reader, size_t idx);
/* Feature data (complete in file mode after open, in pipe mode after process). */
const struct rt_perf_header_info *rt_perf_reader__info(const struct rt_perf_reader *reader);
const struct rt_perf_reader_stats *rt_perf_reader__stats(const struct rt_perf_reader *reader);
bool rt_perf_reader__is_pipe(const struct rt_perf_reader *reader);
/* Build id perf recorded for filename (NULL when none). */
const struct rt_perf_build_id *rt_perf_reader__find_build_id(const struct rt_perf_reader *reader,
							     const char *filename);

/*
 * The recording's tracing data (perf's TRACING_DATA feature: the formats of
 * its tracepoints, as libtraceevent reads them), copied into *data (the
 * caller frees it).  A stream has it once its HEADER_TRACING_DATA record
 * was read (before its samples).  Returns 0, -ENOENT when the recording
 * has none (yet), -EINVAL, -EFBIG or -ENOMEM.
 */
int rt_perf_reader__tracing_data(struct rt_perf_reader *reader, void **data, size_t *size);

/* Print the header and feature data in a human-readable form. */
void rt_perf_reader__fprint_header(const struct rt_perf_reader *reader, FILE *out);

/* Human-readable name of a record type ("SAMPLE", "MMAP2", ...). */
const char *rt_perf_record__name(uint32_t type);

#endif
