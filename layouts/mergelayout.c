/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mergelayout: groups layout files into version ranges and writes the C
 * table rt_layout__find() serves (layouts/gen/cpython.c).
 *   mergelayout [-o OUT] FILE.layout...
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/layoutfile.h"

int main(int argc, char **argv)
{
	const char *output = NULL;
	struct rt_layout_file *files;
	FILE *out = stdout;
	size_t n;
	int c, err;

	while ((c = getopt(argc, argv, "o:h")) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: mergelayout [-o OUT.c] FILE.layout...\n");
			return c == 'h' ? 0 : 2;
		}
	}
	n = (size_t)(argc - optind);
	if (!n) {
		fprintf(stderr, "usage: mergelayout [-o OUT.c] FILE.layout...\n");
		return 2;
	}
	files = calloc(n, sizeof(*files));
	if (!files)
		return 1;
	for (size_t i = 0; i < n; i++) {
		int line = 0;

		err = rt_layout_file__read(argv[optind + i], &files[i], &line);
		if (err) {
			if (err == -EINVAL)
				fprintf(stderr, "mergelayout: %s:%d: malformed layout file (docs/layouts.md)\n",
					argv[optind + i], line);
			else
				fprintf(stderr, "mergelayout: %s: %s\n", argv[optind + i], strerror(-err));
			free(files);
			return 1;
		}
	}
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "mergelayout: %s: %s\n", output, strerror(errno));
		free(files);
		return 1;
	}
	err = rt_layout_file__generate(out, files, n, "mergelayout");
	if (out != stdout && fclose(out))
		err = -EIO;
	free(files);
	if (err) {
		fprintf(stderr, "mergelayout: %s\n", err == -EINVAL ? "two layout files have the same version" :
			"write failed");
		return 1;
	}
	return 0;
}
