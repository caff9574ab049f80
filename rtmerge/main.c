/* SPDX-License-Identifier: GPL-2.0-only */
/* rtmerge: perf.data to folded stacks or an SVG flamegraph. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfglue/perfdata.h"
#include "perfglue/safefile.h"
#include "rtmerge/diff.h"
#include "rtmerge/export.h"
#include "rtmerge/flamegraph.h"
#include "rtmerge/merge.h"

#define RTMERGE_VERSION "0.1"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rtmerge [OPTIONS] [perf.data | -]\n"
"       rtmerge --diff [OPTIONS] BEFORE.data AFTER.data\n"
"Turn a perf.data file (or a `perf record -o -` stream on stdin) into folded\n"
"stacks for flamegraph.pl, a self-contained SVG flamegraph, a speedscope file\n"
"or a pprof profile.\n"
"With -f svg the input may also be a file of folded text (rtmerge -f svg\n"
"folded.txt; with -o, --title, --period and -q only).\n"
"\n"
"Output:\n"
"  -o, --output FILE      write to FILE instead of standard output (- is standard\n"
"                         output; the input itself is refused)\n"
"  -f, --format FORMAT    folded (default), svg, speedscope (JSON for speedscope:\n"
"                         one profile per thread) or pprof (gzipped profile.proto\n"
"                         for go tool pprof, Pyroscope, Parca; binary: use -o)\n"
"      --diff             compare two recordings (-f folded or svg): BEFORE scaled\n"
"                         to AFTER's total; folded lines \"stack BEFORE AFTER\", SVG\n"
"                         frames red where AFTER's share grew, blue where it shrank\n"
"      --title TEXT       title of the SVG flamegraph\n"
"      --period           weight stacks by sample period instead of sample count\n"
"                         (speedscope: in nanoseconds for cpu-clock/task-clock;\n"
"                         pprof always has counts and, for those, CPU time)\n"
"      --header           print the recording's header (events, build ids, cmdline,\n"
"                         os release, cpus) and exit\n"
"      --per-sample FILE  also write one line per sample: \"TID TIME stack\"\n"
"  -q, --quiet            no summary on standard error\n"
"      --strict           refuse a recording cut short inside a record (perf\n"
"                         killed, file truncated, pipe cut) instead of folding\n"
"                         every complete record before the cut\n"
"\n"
"Frames (stackcollapse-perf.pl conventions):\n"
"      --pid              root frame is comm-PID\n"
"      --tid              root frame is comm-PID/TID\n"
"      --kernel           annotate kernel frames with _[k]\n"
"      --jit              annotate JIT frames (perf maps) with _[j]\n"
"      --all              --kernel and --jit\n"
"      --addrs            show addresses of unresolved frames: [dso <addr>]\n"
"      --native-only      native frames only (drop interpreter frames)\n"
"      --interp-only      interpreter frames only (drop native frames)\n"
"      --no-lines         one frame per interpreter function: \"f (file.py)\"\n"
"                         instead of one per line \"f (file.py:12)\"\n"
"      --inline           functions inlined into native code as frames of their own,\n"
"                         from the binaries' DWARF (.debug_info, or their debug\n"
"                         files found by build id or .gnu_debuglink), as perf\n"
"                         script shows them: \"Py_BytesMain;pymain_main;...\"\n"
"  The SVG colours kernel frames (named with _[k] there) and Ruby C methods\n"
"  apart; folded output adds _[k] only with --kernel.\n"
"\n"
"Views (--off-cpu and --wall: recordings of rt-bpf record --off-cpu, weights in\n"
"microseconds; --gil: any rt-bpf record of CPython, weights in samples):\n"
"      --off-cpu          time threads spent off the CPU, by stack; the leaf says\n"
"                         why: [syscall] NAME, [gil wait], [gvl wait], [preempted], [sleep]\n"
"      --wall             wall-clock time: on-CPU samples weighted by their period\n"
"                         plus the off-CPU intervals\n"
"      --gil              on-CPU samples of Python threads that held the GIL\n"
"      --leaf-field FIELD a tracepoint field's value as the leaf frame, FIELD=VALUE\n"
"                         (with --event EVENT; the recording's own formats; a\n"
"                         system call number is named); --per-sample adds every\n"
"                         field of a tracepoint sample after a tab\n"
"\n"
"Filters:\n"
"  -e, --event NAME       fold samples of this event only (default: the first\n"
"                         sampling event; NAME matches NAME:MODIFIERS too, as\n"
"                         cpu-clock:u; --event-filter=NAME is an alias)\n"
"  -p, --filter-pid LIST  only these process ids (comma separated)\n"
"  -t, --filter-tid LIST  only these thread ids (comma separated)\n"
"  -c, --comm COMM        only threads named COMM\n"
"      --all-processes    every process recorded: a recording by rt-bpf record -p PID\n"
"                         or -- CMD names its target, and by default only the\n"
"                         target and the processes it forks are folded\n"
"\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"\n"
"The input defaults to ./perf.data. A summary of samples read, lost and\n"
"frames left unresolved (by reason) goes to standard error.\n"
"\n"
"Exit status: 0 success; 1 unreadable input (one line naming the file and\n"
"offset); 2 usage error; 3 a recording cut short: the output holds every\n"
"complete record before the cut, and one warning names the offset and the\n"
"bytes lost.\n");
}

enum {
	OPT_PID = 256, OPT_TID, OPT_KERNEL, OPT_JIT, OPT_ALL, OPT_ADDRS, OPT_PERIOD, OPT_HEADER,
	OPT_PER_SAMPLE, OPT_TITLE, OPT_NATIVE_ONLY, OPT_INTERP_ONLY, OPT_ALL_PROCESSES, OPT_NO_LINES,
	OPT_STRICT,
	OPT_INLINE,
	OPT_DIFF,
	OPT_OFFCPU, OPT_WALL, OPT_GIL, OPT_LEAF_FIELD,
};

static int parse_list(const char *arg, uint32_t **list, size_t *nr)
{
	char *copy = strdup(arg), *tok, *save = NULL;

	if (!copy)
		return -ENOMEM;
	if (!*copy || copy[strspn(copy, ",")] == '\0') {
		free(copy);
		return -EINVAL; /* "" or ",": no id at all */
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);
		uint32_t *n;

		if (*end || end == tok || v > UINT32_MAX) {
			free(copy);
			return -EINVAL;
		}
		n = realloc(*list, (*nr + 1) * sizeof(**list));
		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		*list = n;
		(*list)[(*nr)++] = (uint32_t)v;
	}
	free(copy);
	return 0;
}

/* Notes option @c in *@seen, the one given of a group that excludes each
 * other; false, said with @why, when another of the group came first. */
static bool only_one(int *seen, int c, const char *why)
{
	if (*seen && *seen != c) {
		fprintf(stderr, "rtmerge: %s\n", why);
		return false;
	}
	*seen = c;
	return true;
}

static int write_svg(const struct rt_stacks *stacks, const char *title, const char *subtitle,
		     const struct rt_merge_opts *mo, FILE *out)
{
	struct rt_flamegraph_opts fopts = {
		.sz = sizeof(fopts),
		.title = title,
		.subtitle = subtitle,
		.count_name = rt_merge__weight_unit(mo),
	};
	bool by_period = mo->by_period;
	struct rt_flamegraph *fg = rt_flamegraph__new(&fopts);
	/* every frame: a deep stack's leaf is where its time went */
	const char **names = malloc(((size_t)rt_stacks__deepest(stacks) + 1) * sizeof(*names));
	size_t i, n = rt_stacks__nr(stacks);
	int err = fg && names ? 0 : -ENOMEM;

	for (i = 0; i < n && !err; i++) {
		struct rt_stack st;

		rt_stacks__get(stacks, i, &st);
		for (uint32_t j = 0; j < st.nr_frames; j++)
			names[j] = rt_stacks__name(stacks, st.frames[j]);
		err = rt_flamegraph__add(fg, names, st.nr_frames, by_period ? st.period : st.count);
	}
	if (!err)
		err = rt_flamegraph__write_svg(fg, out);
	rt_flamegraph__free(fg);
	free(names);
	return err;
}

/* --header: the recording's header to @output (NULL: standard output),
 * and a warning when perf did not finish the file.  Returns the exit
 * status. */
static int print_header(const struct rt_perf_reader *reader, const char *input, const char *output)
{
	const struct rt_perf_cut *cut = rt_perf_reader__cut(reader);
	FILE *out = output ? rt_safefile__create(output) : stdout;
	int err = 0;

	if (!out) {
		fprintf(stderr, "rtmerge: cannot write %s: %s\n", output, strerror(errno));
		return 1;
	}
	rt_perf_reader__fprint_header(reader, out);
	errno = 0;
	if (fflush(out) || ferror(out))
		err = errno ? errno : EIO;
	if (out != stdout && fclose(out) && !err)
		err = errno;
	if (err) {
		fprintf(stderr, "rtmerge: writing %s failed: %s\n", output ? output : "output",
			strerror(err));
		return 1;
	}
	if (cut->cut || cut->no_data_size || cut->features_lost || cut->bytes_missing) {
		fprintf(stderr, "rtmerge: warning: %s: recording cut short (perf killed, file "
			"truncated or pipe cut): the header holds what perf wrote before%s; exit "
			"status %d\n", strcmp(input, "-") ? input : "<stdin>",
			cut->features_lost ? ", without the feature sections lost" : "",
			RT_MERGE_EXIT_CUT);
		return RT_MERGE_EXIT_CUT;
	}
	return 0;
}

/* Whether @a and @b name one existing file (- is a stream, never one). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return strcmp(a, "-") && strcmp(b, "-") && !stat(a, &sa) && !stat(b, &sb) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Whether @path, the file option @opt writes (NULL: none), is one of the
 * @nr @inputs (perf.data when there are none), said. */
static bool overwrites_input(const char *opt, const char *path, char *const *inputs, int nr)
{
	static char *const dflt[] = { "perf.data" };

	if (nr <= 0) {
		inputs = dflt;
		nr = 1;
	}
	for (int i = 0; path && i < nr; i++)
		if (same_file(inputs[i], path)) {
			fprintf(stderr, "rtmerge: %s %s is the input %s: it would be overwritten\n", opt,
				path, inputs[i]);
			return true;
		}
	return false;
}

/* true unless @path opens and does not start with perf.data's magic. */
static bool is_perf_data(const char *path)
{
	char magic[8];
	int fd = rt_safefile__open(AT_FDCWD, path, 0, NULL);
	ssize_t n;
	bool perf;

	if (fd < 0)
		return true; /* the reader says why */
	n = read(fd, magic, sizeof(magic));
	/* a folded line may be shorter than the magic ("a;b 1"); an empty or
	 * unreadable file is the reader's to explain */
	perf = n < (ssize_t)sizeof(magic) ? n <= 0 :
	       !memcmp(magic, "PERFILE2", sizeof(magic)) || !memcmp(magic, "2ELIFREP", sizeof(magic));
	close(fd);
	return perf;
}

/*
 * rtmerge -f svg folded.txt: folded lines ("a;b;c 12"), as rtmerge or
 * stackcollapse-perf.pl write them, perhaps filtered with grep, to an SVG.
 * Returns the exit status.
 */
static int folded_to_svg(const char *path, const char *output, const char *title, bool by_period)
{
	struct rt_flamegraph_opts fopts = {
		.sz = sizeof(fopts),
		.title = title ? title : "rtperf flame graph",
		.subtitle = path,
		.count_name = by_period ? "period" : "samples",
	};
	size_t cap = 1 << 20, lineno = 0, bad = 0, first_bad = 0;
	char *line = malloc(cap);
	int fd = rt_safefile__open(AT_FDCWD, path, 0, NULL);
	FILE *in = fd >= 0 ? fdopen(fd, "r") : NULL, *out = stdout;
	struct rt_flamegraph *fg = rt_flamegraph__new(&fopts);
	ssize_t len;
	int err = 0, ret = 1;

	if (!in || !line || !fg) {
		fprintf(stderr, "rtmerge: %s: %s\n", path, strerror(fd < 0 ? -fd : errno));
		goto out;
	}
	while ((len = rt_safefile__getline(in, line, cap)) != -1) {
		lineno++;
		if (len == 0)
			continue;
		err = len < 0 ? -EINVAL : rt_flamegraph__add_folded(fg, line);
		if (err == -ENOMEM || err == -EOVERFLOW)
			break;
		if (err && !bad++)
			first_bad = lineno;
		err = 0;
	}
	if (err) {
		fprintf(stderr, "rtmerge: %s: %s\n", path, strerror(-err));
		goto out;
	}
	/* a few stray lines (a grep's, a comment) are skipped; a file of
	 * mostly other text is not folded stacks at all */
	if (lineno && bad * 2 > lineno) {
		fprintf(stderr, "rtmerge: %s is neither perf.data nor folded stacks (%zu of %zu "
			"lines are not \"frames count\")\n", path, bad, lineno);
		goto out;
	}
	if (bad)
		fprintf(stderr, "rtmerge: %s:%zu: not a folded line (\"frames count\"); skipped\n",
			path, first_bad);
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "rtmerge: cannot write %s: %s\n", output, strerror(errno));
		out = stdout;
		goto out;
	}
	err = rt_flamegraph__write_svg(fg, out);
	if (!err && fflush(out))
		err = -errno;
	if (err)
		fprintf(stderr, "rtmerge: writing %s failed: %s\n", output ? output : "output",
			strerror(-err));
	else
		ret = 0;
	if (bad)
		fprintf(stderr, "rtmerge: %zu of %zu lines were not folded stacks\n", bad, lineno);
out:
	if (out != stdout && fclose(out) && !ret) {
		fprintf(stderr, "rtmerge: closing %s failed: %s\n", output, strerror(errno));
		ret = 1;
	}
	if (in)
		fclose(in);
	else if (fd >= 0)
		close(fd);
	free(line);
	rt_flamegraph__free(fg);
	return ret;
}

/* rtmerge --diff BEFORE AFTER: returns the exit status. */
static int run_diff(int nr_inputs, char **inputs, const char *format,
		    const struct rt_merge_opts *opts, const char *title, const char *output,
		    bool quiet, bool strict)
{
	struct rt_diff_run run = {
		.merge_opts = opts,
		.svg = !strcmp(format, "svg"),
		.title = title,
		.output = output,
		.quiet = quiet,
		.strict = strict,
	};
	struct rt_merge_opts svg_opts = *opts;

	if (nr_inputs != 2) {
		fprintf(stderr, "rtmerge: --diff takes two recordings: BEFORE.data AFTER.data\n");
		return 2;
	}
	if (strcmp(format, "folded") && strcmp(format, "svg")) {
		fprintf(stderr, "rtmerge: --diff writes folded or svg, not \"%s\"\n", format);
		return 2;
	}
	if (run.svg) {
		/* Frame names as rtmerge's SVG has them: kernel frames with _[k]. */
		svg_opts.annotate_kernel = true;
		run.merge_opts = &svg_opts;
	}
	run.before = inputs[0];
	run.after = inputs[1];
	return rt_diff__run(&run);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "period", no_argument, NULL, OPT_PERIOD },
		{ "header", no_argument, NULL, OPT_HEADER },
		{ "per-sample", required_argument, NULL, OPT_PER_SAMPLE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "pid", no_argument, NULL, OPT_PID },
		{ "tid", no_argument, NULL, OPT_TID },
		{ "kernel", no_argument, NULL, OPT_KERNEL },
		{ "jit", no_argument, NULL, OPT_JIT },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "addrs", no_argument, NULL, OPT_ADDRS },
		{ "native-only", no_argument, NULL, OPT_NATIVE_ONLY },
		{ "interp-only", no_argument, NULL, OPT_INTERP_ONLY },
		{ "python-only", no_argument, NULL, OPT_INTERP_ONLY },
		{ "event", required_argument, NULL, 'e' },
		{ "event-filter", required_argument, NULL, 'e' },
		{ "filter-pid", required_argument, NULL, 'p' },
		{ "filter-tid", required_argument, NULL, 't' },
		{ "comm", required_argument, NULL, 'c' },
		{ "all-processes", no_argument, NULL, OPT_ALL_PROCESSES },
		{ "no-lines", no_argument, NULL, OPT_NO_LINES },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "inline", no_argument, NULL, OPT_INLINE },
		{ "diff", no_argument, NULL, OPT_DIFF },
		{ "off-cpu", no_argument, NULL, OPT_OFFCPU },
		{ "wall", no_argument, NULL, OPT_WALL },
		{ "gil", no_argument, NULL, OPT_GIL },
		{ "leaf-field", required_argument, NULL, OPT_LEAF_FIELD },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rt_merge_opts opts = { .sz = sizeof(opts) };
	const char *output = NULL, *format = "folded", *title = NULL, *per_sample_path = NULL;
	const char *input = "perf.data";
	bool header = false, quiet = false, strict = false, diff = false;
	struct rt_export *export = NULL;
	uint32_t *pids = NULL, *tids = NULL;
	size_t nr_pids = 0, nr_tids = 0;
	struct rt_perf_reader *reader = NULL;
	struct rt_merge *merge = NULL;
	FILE *out = stdout, *per_sample = NULL;
	char err_msg[512];
	int c, err, ret = 1, frames_opt = 0, view_opt = 0;
	/* the last option given that only perf.data input has use for ("") */
	char perf_only[64] = "";
	int li = -1;

	/* Tables grow by doubling: keep freed memory in the heap for the next
	 * growth instead of returning it and faulting fresh pages in again. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);

	while ((c = getopt_long(argc, argv, "o:f:qe:p:t:c:hV", long_opts, &li)) != -1) {
		if (c != '?' && c != 'o' && c != 'f' && c != OPT_TITLE && c != OPT_PERIOD &&
		    c != 'q') {
			if (li >= 0)
				snprintf(perf_only, sizeof(perf_only), "--%s", long_opts[li].name);
			else
				snprintf(perf_only, sizeof(perf_only), "-%c", c);
		}
		li = -1;
		switch (c) {
		case 'o': output = optarg; break;
		case 'f': format = optarg; break;
		case OPT_TITLE: title = optarg; break;
		case OPT_PERIOD: opts.by_period = true; break;
		case OPT_HEADER: header = true; break;
		case OPT_PER_SAMPLE: per_sample_path = optarg; break;
		case 'q': quiet = true; break;
		case OPT_PID: opts.include_pid = true; break;
		case OPT_TID: opts.include_tid = true; break;
		case OPT_KERNEL: opts.annotate_kernel = true; break;
		case OPT_JIT: opts.annotate_jit = true; break;
		case OPT_ALL: opts.annotate_kernel = opts.annotate_jit = true; break;
		case OPT_ADDRS: opts.include_addrs = true; break;
		case OPT_NATIVE_ONLY:
		case OPT_INTERP_ONLY:
			if (!only_one(&frames_opt, c, "--native-only and --interp-only exclude each "
				      "other")) {
				ret = 2;
				goto out;
			}
			opts.frames = c == OPT_NATIVE_ONLY ? RT_MERGE_FRAMES_NATIVE :
							     RT_MERGE_FRAMES_INTERP;
			break;
		case 'e': opts.event = optarg; break;
		case 'p':
		case 't':
			err = parse_list(optarg, c == 'p' ? &pids : &tids, c == 'p' ? &nr_pids : &nr_tids);
			if (err) {
				fprintf(stderr, "rtmerge: bad id list \"%s\": expected numbers separated "
					"by commas\n", optarg);
				ret = err == -ENOMEM ? 1 : 2;
				goto out;
			}
			break;
		case 'c': opts.comm = optarg; break;
		case OPT_ALL_PROCESSES: opts.all_processes = true; break;
		case OPT_NO_LINES: opts.no_lines = true; break;
		case OPT_STRICT: strict = true; break;
		case OPT_INLINE: opts.inline_frames = true; break;
		case OPT_DIFF: diff = true; break;
		case OPT_OFFCPU:
		case OPT_WALL:
		case OPT_GIL:
			if (!only_one(&view_opt, c, "one view at a time: --off-cpu, --wall or --gil")) {
				ret = 2;
				goto out;
			}
			opts.view = c == OPT_OFFCPU ? RT_MERGE_VIEW_OFFCPU :
				    c == OPT_WALL ? RT_MERGE_VIEW_WALL : RT_MERGE_VIEW_GIL;
			break;
		case OPT_LEAF_FIELD: opts.leaf_field = optarg; break;
		case 'h': usage(stdout); ret = 0; goto out;
		case 'V': printf("rtmerge " RTMERGE_VERSION "\n"); ret = 0; goto out;
		default:
			fprintf(stderr, "Try 'rtmerge --help'.\n");
			ret = 2;
			goto out;
		}
	}
	/* the time views count microseconds, in the period column */
	if (opts.view == RT_MERGE_VIEW_OFFCPU || opts.view == RT_MERGE_VIEW_WALL)
		opts.by_period = true;
	opts.pids = pids;
	opts.nr_pids = nr_pids;
	opts.tids = tids;
	opts.nr_tids = nr_tids;
	/* -o -: standard output, as the input's - is standard input */
	if (output && !strcmp(output, "-"))
		output = NULL;
	/* the files written must not be an input (perf.data when none is given) */
	if (overwrites_input("-o", output, argv + optind, argc - optind) ||
	    overwrites_input("--per-sample", per_sample_path, argv + optind, argc - optind)) {
		ret = 2;
		goto out;
	}
	if (diff && (per_sample_path || header)) {
		fprintf(stderr, "rtmerge: --diff writes one comparison: %s is for one recording\n",
			per_sample_path ? "--per-sample" : "--header");
		ret = 2;
		goto out;
	}
	if (diff) {
		ret = run_diff(argc - optind, argv + optind, format, &opts, title, output, quiet,
			       strict);
		goto out;
	}
	if (optind < argc)
		input = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "rtmerge: one input file at a time (got \"%s\" too)\n", argv[optind]);
		ret = 2;
		goto out;
	}
	if (strcmp(format, "folded") && strcmp(format, "svg") && !rt_export__handles(format)) {
		fprintf(stderr, "rtmerge: unknown format \"%s\" (folded, svg, speedscope or "
			"pprof)\n", format);
		ret = 2;
		goto out;
	}
	if (!strcmp(format, "pprof") && !output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "rtmerge: -f pprof writes gzipped binary: give -o FILE\n");
		ret = 2;
		goto out;
	}
	if (rt_export__handles(format) && !(export = rt_export__new(format, "rtmerge "
								      RTMERGE_VERSION, &opts))) {
		fprintf(stderr, "rtmerge: cannot start: %s\n", strerror(errno));
		goto out;
	}
	if (!strcmp(format, "svg")) {
		/* Kernel frames get their own colour; the SVG names them _[k]. */
		opts.annotate_kernel = true;
		if (strcmp(input, "-") && !is_perf_data(input)) {
			if (perf_only[0]) {
				fprintf(stderr, "rtmerge: %s is folded text: %s applies to perf.data "
					"input only\n", input, perf_only);
				ret = 2;
				goto out;
			}
			ret = folded_to_svg(input, output, title, opts.by_period);
			goto out;
		}
	}
	reader = rt_perf_reader__open(input, err_msg, sizeof(err_msg));
	if (!reader) {
		fprintf(stderr, "rtmerge: %s\n", err_msg);
		goto out;
	}
	rt_perf_reader__set_strict(reader, strict);
	if (header && !rt_perf_reader__is_pipe(reader)) {
		ret = print_header(reader, input, output);
		goto out;
	}
	if (per_sample_path) {
		per_sample = rt_safefile__create(per_sample_path);
		if (!per_sample) {
			fprintf(stderr, "rtmerge: cannot write %s: %s\n", per_sample_path,
				strerror(errno));
			goto out;
		}
		opts.per_sample = per_sample;
	}
	merge = rt_merge__new(&opts);
	if (!merge) {
		fprintf(stderr, "rtmerge: cannot start: %s\n", strerror(errno));
		goto out;
	}
	err = rt_merge__run(merge, reader);
	if (err == RT_MERGE_NO_EVENT) {
		ret = 2; /* said why */
		goto out;
	}
	if (err) {
		const char *msg = rt_perf_reader__error(reader);

		fprintf(stderr, "rtmerge: %s\n", msg[0] ? msg : strerror(-err));
		goto out;
	}
	if (header) {
		/* Pipe mode: the header arrives with the data. */
		ret = print_header(reader, input, output);
		goto out;
	}
	if (output) {
		out = rt_safefile__create(output);
		if (!out) {
			fprintf(stderr, "rtmerge: cannot write %s: %s\n", output, strerror(errno));
			out = stdout;
			goto out;
		}
	}
	if (export)
		err = rt_export__write(export, merge, reader, input, out);
	else if (!strcmp(format, "svg"))
		err = write_svg(rt_merge__stacks(merge), title ? title : "rtperf flame graph",
				input, &opts, out);
	else
		err = rt_stacks__write_folded(rt_merge__stacks(merge), out, opts.by_period);
	if (!err && fflush(out))
		err = -errno;
	if (err) {
		fprintf(stderr, "rtmerge: writing %s failed: %s\n", output ? output : "output",
			strerror(-err));
		goto out;
	}
	if (!quiet)
		rt_merge__print_summary(merge, reader, stderr);
	if (rt_merge__stats(merge)->samples == 0 && !quiet)
		fprintf(stderr, "rtmerge: warning: no samples matched; check --event and filters\n");
	ret = rt_merge__print_cut(reader, strcmp(input, "-") ? input : "<stdin>", stderr) ?
	      RT_MERGE_EXIT_CUT : 0;
out:
	if (out != stdout && out && fclose(out) && !ret) {
		fprintf(stderr, "rtmerge: closing %s failed: %s\n", output, strerror(errno));
		ret = 1;
	}
	if (per_sample) {
		int werr = ferror(per_sample) ? EIO : 0;

		if (fclose(per_sample))
			werr = errno;
		if (werr && (ret == 0 || ret == RT_MERGE_EXIT_CUT)) {
			fprintf(stderr, "rtmerge: writing %s failed: %s\n", per_sample_path,
				strerror(werr));
			ret = 1;
		}
	}
	rt_merge__free(merge);
	rt_export__free(export);
	rt_perf_reader__close(reader);
	free(pids);
	free(tids);
	return ret;
}
