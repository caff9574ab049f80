/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * structlayout: writes the layout file (docs/layouts.md) of one CPython
 * build from the DWARF of its executable or libpython.
 *   structlayout -r python [-v X.Y.Z] [-o OUT] FILE
 * The version is read from FILE; -v states what it must be (or supplies it
 * when FILE does not tell).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "layouts/dwarftypes.h"
#include "layouts/layoutfile.h"
#include "layouts/pyversion.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: structlayout -r python [-v X.Y.Z] [-o OUT] ELF-FILE\n"
		   "Writes the struct offsets rt-bpf's walker needs, read from ELF-FILE's DWARF.\n");
}

int main(int argc, char **argv)
{
	const char *runtime = NULL, *want = NULL, *output = NULL, *path, *missing = "";
	struct rt_pyversion version, given;
	struct rt_layout_file lf;
	struct rt_dwarf_types *types;
	FILE *out = stdout;
	int c, err;

	while ((c = getopt(argc, argv, "r:v:o:h")) != -1) {
		switch (c) {
		case 'r': runtime = optarg; break;
		case 'v': want = optarg; break;
		case 'o': output = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !runtime) {
		usage(stderr);
		return 2;
	}
	if (strcmp(runtime, "python") && strcmp(runtime, "cpython")) {
		fprintf(stderr, "structlayout: unknown runtime '%s' (known: python)\n", runtime);
		return 2;
	}
	path = argv[optind];
	if (want && rt_pyversion__parse(want, &given)) {
		fprintf(stderr, "structlayout: bad version '%s' (want X.Y.Z)\n", want);
		return 2;
	}
	err = rt_pyversion__from_elf(path, &version);
	if (err && !want) {
		fprintf(stderr, "structlayout: %s: cannot read the CPython version from the file (%s); "
			"give it with -v\n", path,
			err == -ENOENT ? "no Py_Version or Py_GetVersion with a version string" : strerror(-err));
		return 1;
	}
	if (!err && want && (version.major != given.major || version.minor != given.minor ||
			     version.patch != given.patch)) {
		fprintf(stderr, "structlayout: %s is CPython %d.%d.%d, not %s\n", path, version.major,
			version.minor, version.patch, want);
		return 1;
	}
	if (err)
		version = given;
	types = rt_dwarf_types__open(path);
	if (!types) {
		fprintf(stderr, "structlayout: %s: %s\n", path,
			errno == ENODATA ? "no DWARF debug information (use an unstripped build)" :
					   strerror(errno));
		return 1;
	}
	err = rt_layout_file__from_dwarf(types, &version, path, &lf, &missing);
	rt_dwarf_types__close(types);
	if (err) {
		fprintf(stderr, "structlayout: %s: no '%s' in its DWARF: not a CPython this tool knows\n",
			path, missing);
		return 1;
	}
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "structlayout: %s: %s\n", output, strerror(errno));
		return 1;
	}
	err = rt_layout_file__write(out, &lf);
	if ((out != stdout && fclose(out)) || err) {
		fprintf(stderr, "structlayout: write failed\n");
		return 1;
	}
	return 0;
}
