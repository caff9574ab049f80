/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pprof: stacks as a gzipped profile.proto, the format of pprof and the
 * continuous profilers that ingest it (Pyroscope, Parca): samples with
 * their count and, for clock events, CPU time; one location per frame,
 * with function, file and line for interpreter frames; mappings with build
 * ids for native frames whose binary is known; labels pid, tid and comm.
 * See docs/outputs.md.
 */
#ifndef RT_PPROF_H
#define RT_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rtmerge/protobuf.h"
#include "rtmerge/stacks.h"

/* The binary a native frame's code came from. */
struct rt_pprof_origin {
	const char *path;
	const uint8_t *build_id;    /* NULL: none known */
	size_t build_id_size;
};

struct rt_pprof_opts {
	size_t sz;                  /* sizeof(struct rt_pprof_opts) */
	/* The periods are nanoseconds of CPU time (cpu-clock, task-clock):
	 * samples get a second value, "cpu" in "nanoseconds". */
	bool cpu_time;
	/* With cpu_time: that value's type and unit instead of "cpu" and
	 * "nanoseconds" (rtmerge --wall, --off-cpu: "wall" or "off_cpu" in
	 * "microseconds"); NULL: CPU time. */
	const char *time_type, *time_unit;
	uint64_t period;            /* nanoseconds between samples, 0: unknown */
	int64_t time_nanos;         /* when the recording started, 0: unknown */
	int64_t duration_nanos;
	const char *const *comments;/* free text lines (tool, event) */
	size_t nr_comments;
	/* Keep merge's "_[k]" on kernel function names (rtmerge --kernel);
	 * either way kernel frames get the kernel's mapping. */
	bool keep_kernel_suffix;
	const uint8_t *kernel_build_id;
	size_t kernel_build_id_size;
	/* Where native frame @frame came from: fills @out and returns true,
	 * or false when unknown.  NULL: no mappings for user frames. */
	bool (*native_origin)(void *ctx, const char *frame, struct rt_pprof_origin *out);
	void *ctx;
};

/*
 * Encodes @stacks, whose root frames are threads ("comm-PID/TID"; the root
 * becomes the labels), as an uncompressed Profile message appended to @pb.
 * Returns 0 or -errno.
 */
int rt_pprof__encode(const struct rt_stacks *stacks, const struct rt_pprof_opts *opts,
		     struct rt_protobuf *pb);

/* rt_pprof__encode() gzipped to @out, as pprof reads it.  0 or -errno. */
int rt_pprof__write(const struct rt_stacks *stacks, const struct rt_pprof_opts *opts, FILE *out);

#endif
