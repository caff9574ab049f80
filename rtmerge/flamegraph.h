/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flamegraph: a self-contained interactive SVG flamegraph from folded stacks.
 *
 * The SVG embeds its own script: tooltips/titles with counts and
 * percentages, click to zoom, search with match percentage, reset; colours
 * by frame kind, read from the frame text: "_[k]" kernel, "_[j]" JIT,
 * "name (file.py:N)" Python, "name (file.rb:N)" Ruby, "[dso]"/"[unknown]"
 * unresolved, anything else native.
 */
#ifndef RT_FLAMEGRAPH_H
#define RT_FLAMEGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rt_flamegraph_opts {
	size_t sz;              /* sizeof(struct rt_flamegraph_opts) */
	const char *title;      /* default "Flame Graph" */
	const char *subtitle;   /* optional, e.g. the perf.data path */
	const char *count_name; /* default "samples" */
	unsigned int width;     /* pixels, default 1200 */
	double min_width;       /* frames narrower than this (px) are omitted, default 0.1
				 * (0 = default; a tiny positive value keeps all) */
};

struct rt_flamegraph;

/* Returns a new, empty flamegraph or NULL with errno set (EINVAL for bad
 * opts, ENOMEM).  opts may be NULL; its strings are copied.  Free with
 * rt_flamegraph__free(). */
struct rt_flamegraph *rt_flamegraph__new(const struct rt_flamegraph_opts *opts);
/* Frees the flamegraph and every name it holds; NULL is a no-op. */
void rt_flamegraph__free(struct rt_flamegraph *flamegraph);

/* Add one stack, root first, with its count.  Frames are copied.  0 (also
 * for count 0, which adds nothing), -EINVAL (no frames, a NULL frame),
 * -EOVERFLOW (total over 2^64), -ENOMEM. */
int rt_flamegraph__add(struct rt_flamegraph *flamegraph, const char *const *frames,
		       size_t nr_frames, uint64_t count);

/* Differential graphs (rtmerge --diff): adds one stack with its count in
 * the earlier profile (@before, already scaled to this one's total by the
 * caller) and in this one (@after).  Widths come from @after; each frame
 * is coloured by its change instead of its kind: red grew, blue shrank,
 * deeper for a larger change, and the legend says so.  A stack with
 * @after 0 still counts in its callers' change.  0 or -errno as for
 * rt_flamegraph__add(). */
int rt_flamegraph__add_diff(struct rt_flamegraph *flamegraph, const char *const *frames,
			    size_t nr_frames, uint64_t before, uint64_t after);

/* Add one folded line "a;b;c 123" (trailing newline allowed): the count is
 * the last space-separated field, frames may contain spaces.  0 or -EINVAL
 * (also -EOVERFLOW, -ENOMEM as for rt_flamegraph__add). */
int rt_flamegraph__add_folded(struct rt_flamegraph *flamegraph, const char *line);

/* Write the SVG document (self-contained, deterministic for a given input;
 * see docs/flamegraph.md).  0 or -errno (-EIO if out reports an error). */
int rt_flamegraph__write_svg(struct rt_flamegraph *flamegraph, FILE *out);

#endif
