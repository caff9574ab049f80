/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * diff: two profiles of one program compared (rtmerge --diff BEFORE AFTER),
 * as difffolded.pl -n and flamegraph.pl draw it: the earlier profile is
 * scaled to the later one's total, so a frame's change is a change of its
 * share, not of the recording's length.
 */
#ifndef RT_DIFF_H
#define RT_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rtmerge/flamegraph.h"
#include "rtmerge/merge.h"
#include "rtmerge/stacks.h"

/*
 * Writes "a;b;c BEFORE AFTER" lines sorted by their text, every stack of
 * either profile once: BEFORE scaled to AFTER's total (rounded), as
 * difffolded.pl -n writes them; by_period compares periods.  0 or -errno.
 */
int rt_diff__write_folded(const struct rt_stacks *before, const struct rt_stacks *after,
			  bool by_period, FILE *out);

/*
 * Writes the differential flamegraph: AFTER's shape, each frame red when
 * its share grew, blue when it shrank (see rt_flamegraph__add_diff()).
 * @opts as for rt_flamegraph__new().  0 or -errno.
 */
int rt_diff__write_svg(const struct rt_stacks *before, const struct rt_stacks *after,
		       bool by_period, const struct rt_flamegraph_opts *opts, FILE *out);

/* What rtmerge --diff was asked for. */
struct rt_diff_run {
	const char *before, *after;     /* perf.data paths */
	const struct rt_merge_opts *merge_opts; /* the same for both */
	bool svg;                       /* else folded */
	const char *title;              /* SVG title; NULL: a default */
	const char *output;             /* NULL: standard output */
	bool quiet;                     /* no summaries on standard error */
	bool strict;                    /* a recording cut short is an error */
};

/* rtmerge --diff: merges both recordings and writes the comparison.
 * Reports failures on standard error; returns the exit status (as rtmerge's
 * own: RT_MERGE_EXIT_CUT when either recording was cut short). */
int rt_diff__run(const struct rt_diff_run *run);

#endif
