/* SPDX-License-Identifier: GPL-2.0-only */
/* Test driver: folded stacks on stdin -> SVG flamegraph on stdout.
 * Usage: mkflame [title [subtitle [min_width]]]; exits 2 on a bad line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtmerge/flamegraph.h"

int main(int argc, char **argv)
{
	struct rt_flamegraph_opts opts = { .sz = sizeof(opts) };
	struct rt_flamegraph *fg;
	struct timespec t0, t1;
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int err;

	opts.title = argc > 1 ? argv[1] : NULL;
	opts.subtitle = argc > 2 ? argv[2] : NULL;
	opts.min_width = argc > 3 ? atof(argv[3]) : 0;
	fg = rt_flamegraph__new(&opts);
	if (!fg) {
		perror("mkflame: rt_flamegraph__new");
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0) {
		lineno++;
		err = rt_flamegraph__add_folded(fg, line);
		if (err) {
			fprintf(stderr, "mkflame: line %ld: %s\n", lineno, strerror(-err));
			return 2;
		}
	}
	free(line);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = rt_flamegraph__write_svg(fg, stdout);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err) {
		fprintf(stderr, "mkflame: writing: %s\n", strerror(-err));
		return 1;
	}
	fprintf(stderr, "mkflame: %ld lines, write %.0f ms\n", lineno,
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	rt_flamegraph__free(fg);
	return 0;
}
