/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf: puts CPython and CRuby frames into an unmodified `perf record`.
 *   rt-bpf attach [--perf-pid PID] [-p PID...]
 *   rt-bpf record [-F HZ] [-g | --call-graph fp|dwarf[,BYTES]] [-o FILE] [-d SECONDS]
 *                 (-p PID | -a | [-a] -- CMD ARGS...)
 *   rt-bpf top [-F HZ] (-p PID | -a | -- CMD ARGS...)
 *   rt-bpf async [--threshold-ms N] [--json FILE] (-p PID | -- CMD ARGS...)
 * Parses the subcommand and the global flags (before or after it) and
 * dispatches; nothing else.
 * Each subcommand is its own file (attach.c, record.c, top.c); what they share is
 * in rtbpf.h.  The walker is bpf/walker.bpf.c, process inspection
 * runtimes/, perf's side rtbpf/perfsession.c.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* The global options' paragraph, after the modes' help. */
static void usage_global(FILE *f)
{
	fprintf(f,
		"global options, before or after the command: -v (--verbose) says more: the\n"
		"        processes found and walked; --layout FILE walks CPython processes of\n"
		"        FILE's version with that layout file (docs/layouts.md); 3.13+ checks\n"
		"        it against the process's _Py_DebugOffsets; -h (--help) this help\n"
		"        (rt-bpf --help: every command's).\n"
		"Read the perf.data of record and attach with rtmerge; trace writes a\n"
		"CodeTracer directory, async and top print their own reports.  Needs root and\n"
		"kernel BTF.  Environment: PERF names the perf binary (run directly, never\n"
		"through a shell; found on PATH).\n");
}

/* @cmd's help, or every command's (@cmd NULL). */
static void usage(FILE *f, const struct rt_bpf_cmd *cmd)
{
	bool first = true;

	for (size_t i = 0; i < NR_CMDS; i++) {
		if (cmd && cmds[i] != cmd)
			continue;
		fprintf(f, "%s rt-bpf %s", first ? "usage:" : "      ", cmds[i]->synopsis);
		first = false;
	}
	if (!cmd)
		fprintf(f, "       rt-bpf --version\n");
	fputc('\n', f);
	for (size_t i = 0; i < NR_CMDS; i++)
		if (!cmd || cmds[i] == cmd)
			fputs(cmds[i]->help, f);
	usage_global(f);
}

static const struct rt_bpf_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

/*
 * Parses the global flags and @cmd's own, from argv[@first] on, into @app
 * and @opts.  Returns 0, 1 after --help, or -EINVAL after saying why.
 */
static int parse_options(const struct rt_bpf_cmd *cmd, struct rt_bpf_app *app, void *opts,
			 int argc, char **argv, int first)
{
	struct option longopts[MAX_LONGOPTS] = { 0 };
	char shortopts[64];
	unsigned long pid;
	size_t n = 0;
	int c;

	memcpy(longopts, global_longopts, sizeof(global_longopts));
	n = NR_GLOBAL_LONGOPTS;
	for (const struct option *o = cmd->longopts; o && o->name && n + 1 < MAX_LONGOPTS; o++)
		longopts[n++] = *o;
	snprintf(shortopts, sizeof(shortopts), "+p:vh%s", cmd->shortopts ? cmd->shortopts : "");
	/* getopt names argv[0] in its messages: the house's "rt-bpf: ..." */
	argv[0] = (char *)"rt-bpf";
	optind = first;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (rt_bpf__parse_number(optarg, 1, INT_MAX, &pid)) {
				fprintf(stderr, "rt-bpf: bad -p %s (a process id)\n", optarg);
				return -EINVAL;
			}
			if (app->nr_pids == sizeof(app->pids) / sizeof(app->pids[0])) {
				fprintf(stderr, "rt-bpf: too many -p (at most %zu)\n",
					sizeof(app->pids) / sizeof(app->pids[0]));
				return -EINVAL;
			}
			app->pids[app->nr_pids++] = (pid_t)pid;
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
			usage(stdout, cmd);
			return 1;
		case '?':
			/* getopt said what was wrong; the help is one command away */
			fprintf(stderr, "rt-bpf: see 'rt-bpf %s --help'\n", cmd->name);
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

/*
 * The global options before the command (rt-bpf -v record ...), into @app.
 * Returns the command's index in argv, 0 after --help or --version (exit
 * 0), or -1 after saying why (exit 2).
 */
static int parse_leading_options(struct rt_bpf_app *app, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout, NULL);
			return 0;
		}
		if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
			printf("rt-bpf %s\n", RT_BPF_VERSION);
			return 0;
		}
		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			app->verbose = true;
		} else if (!strncmp(arg, "--layout=", 9) || !strcmp(arg, "--layout")) {
			const char *file = arg[8] ? arg + 9 : i + 1 < argc ? argv[++i] : NULL;

			if (!file) {
				fprintf(stderr, "rt-bpf: --layout needs a file\n");
				return -1;
			}
			app->layout = rt_bpf__read_layout(file);
			if (!app->layout)
				return -1;
		} else {
			/* most likely a command's option: name the command when one follows */
			const struct rt_bpf_cmd *cmd = NULL;

			for (int j = i + 1; j < argc && !cmd; j++)
				cmd = find_cmd(argv[j]);
			fprintf(stderr, "rt-bpf: unknown option '%s'; options go after the command: "
				"rt-bpf %s %s ...\n", arg, cmd ? cmd->name : "MODE", arg);
			return -1;
		}
	}
	if (i == argc) {
		/* the synopses; the whole help is a screenful per command */
		for (size_t c = 0; c < NR_CMDS; c++)
			fprintf(stderr, "%s rt-bpf %s", c ? "      " : "usage:", cmds[c]->synopsis);
		fprintf(stderr, "rt-bpf: see 'rt-bpf --help' or 'rt-bpf MODE --help'\n");
		return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	struct rt_bpf_app app = { .scope = RT_PROCESS_ALL };
	const struct rt_bpf_cmd *cmd;
	void *opts;
	int err, first;

	/* a write to a perf that died (its control fifo) is an EPIPE to say,
	 * not a signal that kills rt-bpf before it cleans up (probes, files) */
	rt_bpf__ignore_sigpipe();
	first = parse_leading_options(&app, argc, argv);
	if (first <= 0)
		return first ? 2 : 0;
	cmd = find_cmd(argv[first]);
	if (!cmd) {
		fprintf(stderr, "rt-bpf: unknown command '%s' (try rt-bpf --help)\n", argv[first]);
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
	err = parse_options(cmd, &app, opts, argc, argv, first + 1);
	if (!err)
		err = cmd->check(&app, opts, argc - optind, argv + optind);
	if (err) {
		free(opts);
		return err > 0 ? 0 : 2;
	}
	err = cmd->run(&app, opts, argc - optind, argv + optind);
	rt_bpf_app__free(&app);
	free(opts);
	/* a positive value is the command's own exit status (record -- CMD) */
	return err < 0 ? 1 : err;
}
