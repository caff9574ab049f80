/* SPDX-License-Identifier: GPL-2.0-only */
/* rt-bpf record -e EVENT: the loader's side (see events.h). */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perfglue/safefile.h"
#include "rtbpf/events.h"
#include "rtbpf/usdt.h"

#define MAX_CANDIDATES 64

static const char *const lib_dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					"/lib64", "/usr/lib64", "/usr/local/lib" };

/* true when ELF file @path has a USDT probe of @provider (@len bytes). */
static bool has_provider(const char *path, const char *provider, size_t len)
{
	int fd = rt_safefile__open(AT_FDCWD, path, 0, NULL);
	bool found;

	if (fd < 0)
		return false;
	found = rt_usdt__has_probe(fd, provider, len, NULL);
	close(fd);
	return found;
}

struct needed {
	char (*out)[PATH_MAX];
	size_t *nr;
};

/* Adds needed library @lib, when found in the usual directories. */
static int add_one_needed(void *ctx, const char *lib)
{
	struct needed *n = ctx;

	for (size_t k = 0; k < sizeof(lib_dirs) / sizeof(lib_dirs[0]) && *n->nr < MAX_CANDIDATES; k++) {
		char found[PATH_MAX];

		snprintf(found, sizeof(found), "%s/%s", lib_dirs[k], lib);
		/* the file itself: sonames are symbolic links, which
		 * rt_safefile__open does not follow */
		if (realpath(found, n->out[*n->nr])) {
			(*n->nr)++;
			break;
		}
	}
	return 0;
}

/* Adds @path's DT_NEEDED libraries found in the usual directories. */
static void add_needed(const char *path, char (*out)[PATH_MAX], size_t *nr)
{
	int fd = rt_safefile__open(AT_FDCWD, path, 0, NULL);
	struct needed n = { .out = out, .nr = nr };

	if (fd < 0)
		return;
	rt_usdt__each_needed(fd, add_one_needed, &n);
	close(fd);
}

/* @name looked up on PATH as execvp would, into @out; 0 or -ENOENT. */
static int find_on_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	struct stat st;

	if (strchr(name, '/'))
		return realpath(name, out) ? 0 : -ENOENT;
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char buf[PATH_MAX];

		snprintf(buf, sizeof(buf), "%.*s/%s", len ? (int)len : 1, len ? path : ".", name);
		if (!stat(buf, &st) && S_ISREG(st.st_mode) && realpath(buf, out))
			return 0;
		path += len + (path[len] == ':');
	}
	(void)size;
	return -ENOENT;
}

/* The executable files process @pid maps. */
static void add_mapped(pid_t pid, char (*out)[PATH_MAX], size_t *nr)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && *nr < MAX_CANDIDATES) {
		char *file = strchr(line, '/'), perms[8];
		bool seen = false;

		if (!file || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		file[strcspn(file, "\n")] = '\0';
		for (size_t i = 0; i < *nr && !seen; i++)
			seen = !strcmp(out[i], file);
		if (!seen)
			snprintf(out[(*nr)++], PATH_MAX, "%s", file);
	}
	fclose(f);
}

/* Probes this process defined (perf probe), removed by rt_events__cleanup. */
static char added[RT_EVENTS_MAX][256];
static size_t nr_added;

/* Runs perf with @a1..@a4 (NULL-terminated early), quietly; 0 or -EIO. */
static int run_perf(const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *perf = getenv("PERF");
	int status;
	pid_t pid;

	if (!perf || !*perf)
		perf = "perf";
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp(perf, perf, a1, a2, a3, a4, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	return 0;
}

/* Defines USDT event @ev of @file for perf: the file into perf's build-id
 * cache (perf probe reads the notes there), then perf probe -x, remembered
 * for removal unless it existed. */
static int define_usdt(const char *ev, const char *file)
{
	if (rt_perf__is_trace_event(ev))
		return 0;
	if (run_perf("buildid-cache", "--add", file, NULL)) {
		fprintf(stderr, "rt-bpf: -e %s: perf buildid-cache --add %s failed\n", ev, file);
		return -EIO;
	}
	if (run_perf("probe", "-x", file, ev)) {
		fprintf(stderr, "rt-bpf: -e %s: perf probe -x %s %s failed\n", ev, file, ev);
		return -EIO;
	}
	snprintf(added[nr_added++], sizeof(added[0]), "%s", ev);
	return 0;
}

void rt_events__cleanup(void)
{
	while (nr_added)
		run_perf("probe", "-d", added[--nr_added], NULL);
}

int rt_events__setup_usdt(const char *const *events, const char *const *cmd, pid_t pid)
{
	static char files[MAX_CANDIDATES][PATH_MAX];
	size_t nr = 0;
	bool listed = false;

	for (size_t e = 0; events && events[e]; e++) {
		const char *ev = events[e], *colon = strchr(ev, ':');
		bool done = false;

		if (strncmp(ev, "sdt_", 4) || !colon)
			continue;
		if (!listed) {
			listed = true;
			if (cmd && cmd[0] && !find_on_path(cmd[0], files[0], sizeof(files[0]))) {
				nr = 1;
				add_needed(files[0], files, &nr);
			}
			if (pid > 0)
				add_mapped(pid, files, &nr);
		}
		for (size_t i = 0; i < nr && !done; i++) {
			if (!has_provider(files[i], ev + 4, (size_t)(colon - ev - 4)))
				continue;
			if (nr_added == RT_EVENTS_MAX || define_usdt(ev, files[i]))
				return -EIO;
			done = true;
		}
		if (!done) {
			fprintf(stderr, "rt-bpf: -e %s: no file of the %s defines provider %.*s (a "
				"stapsdt note; readelf -n shows them)\n", ev,
				pid > 0 ? "process" : "command", (int)(colon - ev - 4), ev + 4);
			return -ENOENT;
		}
	}
	return 0;
}

int rt_events__prepare(struct bpf_program *tp_prog, struct bpf_program *probe_prog)
{
	int err = bpf_program__set_autoload(tp_prog, true);

	return err ? err : bpf_program__set_autoload(probe_prog, true);
}

int rt_events__attach(const struct rt_perf_session *s, int tp_fd, int probe_fd,
		      unsigned long long skip_config, int *links, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rt_perf_session__nr_events(s); i++) {
		const struct rt_perf_event *e = rt_perf_session__event(s, i);
		bool linked = false;
		int link;

		if (e->info.attr_type != PERF_TYPE_TRACEPOINT || e->info.config == skip_config)
			continue;
		/* once per tracepoint: its programs run for every hit */
		for (size_t j = 0; j < i && !linked; j++) {
			const struct rt_perf_event *o = rt_perf_session__event(s, j);

			linked = o->info.attr_type == PERF_TYPE_TRACEPOINT &&
				 o->info.config == e->info.config;
		}
		if (linked)
			continue;
		if (n == max)
			return -E2BIG;
		link = bpf_link_create(tp_fd, e->fd, BPF_PERF_EVENT, NULL);
		/* a probe's trace event takes kprobe-type programs only */
		if (link < 0 && errno == EINVAL)
			link = bpf_link_create(probe_fd, e->fd, BPF_PERF_EVENT, NULL);
		if (link < 0) {
			int err = -errno;

			fprintf(stderr, "rt-bpf: linking the walker to perf's tracepoint %llu: %s\n",
				(unsigned long long)e->info.config, strerror(-err));
			while (n)
				close(links[--n]);
			return err;
		}
		links[n++] = link;
	}
	return (int)n;
}
