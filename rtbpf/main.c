/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf: puts CPython and CRuby frames into an unmodified `perf record`.
 *   rt-bpf attach [--perf-pid PID] [-p PID...]
 *   rt-bpf record [-F HZ] [--call-graph fp|dwarf[,BYTES]] [-o FILE] [-d SECONDS]
 *                 (-p PID | -a | [-a] -- CMD ARGS...)
 *   rt-bpf top [-F HZ] (-p PID | -a | -- CMD ARGS...)
 *   rt-bpf async [--threshold-ms N] [--json FILE] (-p PID | -- CMD ARGS...)
 * Parses the subcommand and the global flags and dispatches; nothing else.
 * Each subcommand is its own file (attach.c, record.c, top.c); what they share is
 * in rtbpf.h.  The walker is bpf/walker.bpf.c, process inspection
 * runtimes/, perf's side rtbpf/perfsession.c.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtbpf/rtbpf.h"

#define RT_BPF_VERSION "0.1"

/* The subcommands, in the order --help lists them. */
static const struct rt_bpf_cmd *const cmds[] = {
	&rt_bpf_cmd_attach,
	&rt_bpf_cmd_record,
	&rt_bpf_cmd_top,
	&rt_bpf_cmd_async,
	&rt_bpf_cmd_trace,
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct option global_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "layout", required_argument, NULL, 'L' },
};
#define NR_GLOBAL_LONGOPTS (sizeof(global_longopts) / sizeof(global_longopts[0]))
#define MAX_LONGOPTS 32

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	for (size_t i = 0; i < NR_CMDS; i++)
		fprintf(f, "%s rt-bpf %s", i ? "      " : "usage:", cmds[i]->synopsis);
	fprintf(f, "       rt-bpf --version\n\n");
	for (size_t i = 0; i < NR_CMDS; i++)
		fputs(cmds[i]->help, f);
	fprintf(f,
		"--layout FILE  walk CPython processes of FILE's version with that layout file\n"
		"        (docs/layouts.md); 3.13+ checks it against the process's _Py_DebugOffsets.\n"
		"Read the result with rtmerge.  Needs root and kernel BTF.  Environment: PERF\n"
		"names the perf binary (run directly, never through a shell; found on PATH).\n");
}

static const struct rt_bpf_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

/*
 * Parses the global flags and @cmd's own into @app and @opts.  Returns 0,
 * 1 after --help, or -EINVAL after saying why.
 */
static int parse_options(const struct rt_bpf_cmd *cmd, struct rt_bpf_app *app, void *opts,
			 int argc, char **argv)
{
	struct option longopts[MAX_LONGOPTS] = { 0 };
	char shortopts[64];
	size_t n = 0;
	int c;

	memcpy(longopts, global_longopts, sizeof(global_longopts));
	n = NR_GLOBAL_LONGOPTS;
	for (const struct option *o = cmd->longopts; o && o->name && n + 1 < MAX_LONGOPTS; o++)
		longopts[n++] = *o;
	snprintf(shortopts, sizeof(shortopts), "+p:vh%s", cmd->shortopts ? cmd->shortopts : "");
	optind = 2;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (app->nr_pids == sizeof(app->pids) / sizeof(app->pids[0]) || atoi(optarg) <= 0) {
				fprintf(stderr, "rt-bpf: bad or too many -p: %s\n", optarg);
				return -EINVAL;
			}
			app->pids[app->nr_pids++] = atoi(optarg);
			break;
		case 'L':
			app->layout = rt_bpf__read_layout(optarg);
			if (!app->layout)
				return -EINVAL;
			break;
		case 'v':
			app->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case '?':
			usage(stderr);
			return -EINVAL;
		default:
			if (cmd->option(opts, c, optarg))
				return -EINVAL;
		}
	}
	if (app->nr_pids)
		app->scope = RT_PROCESS_PID;
	return 0;
}

int main(int argc, char **argv)
{
	struct rt_bpf_app app = { .scope = RT_PROCESS_ALL };
	const struct rt_bpf_cmd *cmd;
	void *opts;
	int err;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("rt-bpf %s\n", RT_BPF_VERSION);
		return 0;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd) {
		fprintf(stderr, "rt-bpf: unknown command '%s' (try rt-bpf --help)\n", argv[1]);
		return 2;
	}
	libbpf_set_print(libbpf_log);
	opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	if (!opts) {
		fprintf(stderr, "rt-bpf: out of memory\n");
		return 1;
	}
	if (cmd->init)
		cmd->init(opts);
	err = parse_options(cmd, &app, opts, argc, argv);
	if (!err)
		err = cmd->check(&app, opts, argc - optind, argv + optind);
	if (err) {
		free(opts);
		return err > 0 ? 0 : 2;
	}
	err = cmd->run(&app, opts, argc - optind, argv + optind);
	rt_bpf_app__free(&app);
	free(opts);
	return err ? 1 : 0;
}
