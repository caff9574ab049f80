/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Finding a running perf record's events, attaching a BPF program to them,
 * and starting perf record for the caller.  See bpf/perfattach.h and
 * docs/attach.md.
 */
#include "bpf/perfattach.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>

#include "bpf/perffd.skel.h"

#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
#define CHANNEL_OPTION "-e bpf-output/no-inherit,name=rt/"

struct rt_perf_session {
	pid_t pid;
	int pidfd;
	struct rt_perf_event *events;
	size_t nr_events;
	bool system_wide;
	unsigned int nr_cpus;
	rt_perf_log_fn log;
	void *log_ctx;

	/* While attached. */
	bool attached;
	int *links;
	size_t nr_links;
	int prog_fd, channel_map_fd, tid_slot_map_fd, stats_fd;
	struct rt_perf_prog_stats base, frozen;
};

#define offsetofend_(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Reads an opts field only if the caller's struct (sz) is big enough to hold it. */
#define OPT(opts, field, dflt)                                                           \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field) \
		 ? (opts)->field : (dflt))

static bool opts_valid(const void *opts, size_t sz, size_t known)
{
	const unsigned char *p = opts;

	if (!opts)
		return true;
	if (sz < sizeof(size_t))
		return false;
	/* A newer caller's extra fields must be zero for us to ignore them. */
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

static void logf_(rt_perf_log_fn fn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(rt_perf_log_fn fn, void *ctx, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fn)
		fn(ctx, buf);
	else
		fprintf(stderr, "rt-bpf: %s\n", buf);
}

#define slog(s, ...) logf_((s)->log, (s)->log_ctx, __VA_ARGS__)

/* ---- finding perf's events ---------------------------------------------- */

static int kallsyms_lookup(const char *name, __u64 *addr)
{
	char line[512], sym[256], type;
	unsigned long long a;
	FILE *f = fopen("/proc/kallsyms", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) != 3)
			continue;
		if (strcmp(sym, name) == 0) {
			*addr = a;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

/* Runs the iterator; *out is malloc'ed, one record per perf file. */
static int list_perf_files(rt_perf_log_fn log, void *log_ctx, pid_t tgid,
			   struct rt_perffd_record **out, size_t *nr)
{
	struct perffd_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct rt_perffd_record *recs = NULL;
	size_t n = 0, cap = 0, fill = 0;
	__u64 release = 0;
	int iter_fd = -1, err;

	err = kallsyms_lookup("perf_release", &release);
	if (err || !release) {
		logf_(log, log_ctx, "cannot find perf_release in /proc/kallsyms%s",
		      err ? "" : " (addresses hidden: run as root, kernel.kptr_restrict < 2)");
		return err ? err : -EPERM;
	}

	skel = perffd_bpf__open();
	if (!skel) {
		err = -errno;
		logf_(log, log_ctx, "opening the perf fd iterator: %s", strerror(-err));
		return err;
	}
	skel->rodata->perf_release_addr = release;
	skel->rodata->target_tgid = tgid > 0 ? (__u32)tgid : 0;
	err = perffd_bpf__load(skel);
	if (err) {
		logf_(log, log_ctx, "loading the perf fd iterator: %s", strerror(-err));
		goto cleanup;
	}
	link = bpf_program__attach_iter(skel->progs.rt_perffd_dump, NULL);
	if (!link) {
		err = -errno;
		logf_(log, log_ctx, "attaching the perf fd iterator: %s", strerror(-err));
		goto cleanup;
	}
	iter_fd = bpf_iter_create(bpf_link__fd(link));
	if (iter_fd < 0) {
		err = -errno;
		logf_(log, log_ctx, "starting the perf fd iterator: %s", strerror(-err));
		goto cleanup;
	}
	for (;;) {
		ssize_t got;

		if (fill + sizeof(*recs) > cap * sizeof(*recs)) {
			size_t ncap = cap ? 2 * cap : 64;
			void *p = realloc(recs, ncap * sizeof(*recs));

			if (!p) {
				err = -ENOMEM;
				goto cleanup;
			}
			recs = p;
			cap = ncap;
		}
		got = read(iter_fd, (char *)recs + fill, cap * sizeof(*recs) - fill);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			logf_(log, log_ctx, "reading the perf fd iterator: %s", strerror(-err));
			goto cleanup;
		}
		if (got == 0)
			break;
		fill += (size_t)got;
	}
	n = fill / sizeof(*recs);
	*out = recs;
	*nr = n;
	recs = NULL;
	err = 0;
cleanup:
	free(recs);
	if (iter_fd >= 0)
		close(iter_fd);
	bpf_link__destroy(link);
	perffd_bpf__destroy(skel);
	return err;
}

static bool is_channel(const struct rt_perffd_record *r)
{
	return r->attr_type == PERF_TYPE_SOFTWARE && r->config == PERF_COUNT_SW_BPF_OUTPUT;
}

static bool is_cpu_clock(const struct rt_perffd_record *r)
{
	/* New kernels give cpu-clock its own pmu: attr type/config alone miss it. */
	return strcmp(r->pmu_name, "cpu_clock") == 0 ||
	       (r->attr_type == PERF_TYPE_SOFTWARE && r->config == PERF_COUNT_SW_CPU_CLOCK);
}

static enum rt_perf_event_role classify(const struct rt_perffd_record *r)
{
	if (is_channel(r))
		return RT_PERF_EVENT_CHANNEL;
	if (!r->sample_period)
		return RT_PERF_EVENT_OTHER; /* counting only */
	if (is_cpu_clock(r))
		return RT_PERF_EVENT_SAMPLING;
	if (r->attr_type == PERF_TYPE_SOFTWARE && r->config == PERF_COUNT_SW_DUMMY)
		return RT_PERF_EVENT_OTHER;
	if (r->attr_type == PERF_TYPE_TRACEPOINT || r->attr_type == PERF_TYPE_BREAKPOINT)
		return RT_PERF_EVENT_OTHER;
	/* task-clock, hardware and raw PMU events sample too. */
	return RT_PERF_EVENT_SAMPLING;
}

static int cmp_tgid(const void *a, const void *b)
{
	const struct rt_perffd_record *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

bool rt_perfattach__is_perf(pid_t pid)
{
	char link[64], exe[PATH_MAX];
	const char *base;
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0 || stat(link, &st))
		return false;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strcmp(base, "perf") && (strncmp(base, "perf_", 5) || !isdigit((unsigned char)base[5])))
		return false;
	return S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Picks perf's tgid among the records (sorted by tgid). */
static int pick_perf(rt_perf_log_fn log, void *log_ctx, const struct rt_perffd_record *r,
		     size_t n, pid_t want, pid_t *out)
{
	char pids[256] = "";
	size_t len = 0;
	int found = 0;
	pid_t self = getpid(), last = 0;

	for (size_t i = 0; i < n; i++) {
		pid_t t = (pid_t)r[i].tgid;
		bool sampling = false;

		if (t == last || t == self)
			continue;
		if (want && t != want)
			continue;
		for (size_t j = i; j < n && (pid_t)r[j].tgid == t; j++)
			if (classify(&r[j]) == RT_PERF_EVENT_SAMPLING)
				sampling = true;
		last = t;
		/* Without a pid, only an installed perf counts: other tools
		 * sample too, and any user can name a process "perf". */
		if (!sampling || (!want && (strncmp(r[i].comm, "perf", 4) != 0 ||
					    !rt_perfattach__is_perf(t))))
			continue;
		found++;
		*out = t;
		if (len < sizeof(pids) - 16)
			len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d",
						len ? " " : "", (int)t);
	}
	if (found == 1)
		return 0;
	if (found > 1) {
		logf_(log, log_ctx, "several perf record processes are running (pids %s): say which one",
		      pids);
		return -EEXIST;
	}
	if (want)
		logf_(log, log_ctx,
		      "process %d holds no sampling perf events (not perf record, or not started yet)",
		      (int)want);
	else
		logf_(log, log_ctx, "no perf record is running; start one with: perf record -a -g "
		      "-k mono -e cpu-clock " CHANNEL_OPTION " ...");
	return -ESRCH;
}

struct rt_perf_session *rt_perf_session__find(const struct rt_perf_find_opts *opts)
{
	rt_perf_log_fn log = OPT(opts, log, NULL);
	void *log_ctx = OPT(opts, log_ctx, NULL);
	pid_t want = OPT(opts, perf_pid, 0);
	struct rt_perffd_record *recs = NULL;
	struct rt_perf_session *s = NULL;
	size_t nr = 0, first = 0, nr_channels = 0, nr_inherit = 0, nr_sampling = 0;
	pid_t pid = 0;
	int err;

	if (!opts_valid(opts, opts ? opts->sz : 0,
			offsetofend_(struct rt_perf_find_opts, rt_perf_find_opts__last_field))) {
		errno = EINVAL;
		return NULL;
	}
	if (geteuid() != 0) {
		logf_(log, log_ctx, "attaching to perf needs root (BPF, perf events and "
		      "duplicating perf's file descriptors)");
		errno = EPERM;
		return NULL;
	}
	if (access(BTF_VMLINUX, R_OK) != 0) {
		logf_(log, log_ctx, "this kernel has no BTF (" BTF_VMLINUX "): it needs "
		      "CONFIG_DEBUG_INFO_BTF=y");
		errno = ENOTSUP;
		return NULL;
	}

	err = list_perf_files(log, log_ctx, want, &recs, &nr);
	if (err)
		goto fail;
	qsort(recs, nr, sizeof(*recs), cmp_tgid);
	err = pick_perf(log, log_ctx, recs, nr, want, &pid);
	if (err)
		goto fail;
	while (first < nr && (pid_t)recs[first].tgid != pid)
		first++;

	s = calloc(1, sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		goto fail;
	}
	s->pid = pid;
	s->log = log;
	s->log_ctx = log_ctx;
	s->pidfd = -1;
	s->prog_fd = s->channel_map_fd = s->tid_slot_map_fd = s->stats_fd = -1;
	err = libbpf_num_possible_cpus();
	if (err < 0)
		goto fail;
	s->nr_cpus = (unsigned int)err;
	s->events = calloc(nr - first, sizeof(*s->events));
	if (!s->events) {
		err = -ENOMEM;
		goto fail;
	}
	s->pidfd = pidfd_open(pid, 0);
	if (s->pidfd < 0) {
		err = -errno;
		slog(s, "pidfd_open(%d): %s", (int)pid, strerror(-err));
		goto fail;
	}
	s->system_wide = true;
	for (size_t i = first; i < nr && (pid_t)recs[i].tgid == pid; i++) {
		struct rt_perf_event *e = &s->events[s->nr_events];
		__u64 id = 0;
		int fd = pidfd_getfd(s->pidfd, (int)recs[i].fd, 0);

		if (fd < 0) {
			err = -errno;
			slog(s, "duplicating fd %u of perf %d: %s", recs[i].fd, (int)pid,
			     strerror(-err));
			goto fail;
		}
		/* The fd number may have been reused since the iterator ran. */
		if (ioctl(fd, PERF_EVENT_IOC_ID, &id) != 0 || id != recs[i].id) {
			close(fd);
			slog(s, "perf %d changed its fd %u while we looked: retry", (int)pid,
			     recs[i].fd);
			err = -EAGAIN;
			goto fail;
		}
		e->info = recs[i];
		e->fd = fd;
		e->role = classify(&recs[i]);
		s->nr_events++;
		if (e->role == RT_PERF_EVENT_SAMPLING)
			nr_sampling++;
		if (e->role == RT_PERF_EVENT_CHANNEL) {
			nr_channels++;
			if (e->info.flags & RT_PERFFD_INHERIT)
				nr_inherit++;
			if (e->info.target_tid > 0)
				s->system_wide = false;
		}
	}
	if (!nr_channels && !OPT(opts, allow_no_channel, false)) {
		slog(s, "perf %d has no bpf-output channel: add " CHANNEL_OPTION " to its options",
		     (int)pid);
		err = -ENOENT;
		goto fail;
	}
	if (nr_inherit) {
		slog(s, "perf %d's bpf-output event inherits to children, which a BPF map "
		     "cannot hold: use " CHANNEL_OPTION, (int)pid);
		err = -EINVAL;
		goto fail;
	}
	free(recs);
	return s;
fail:
	free(recs);
	rt_perf_session__free(s);
	errno = -err;
	return NULL;
}

/* ---- attaching -------------------------------------------------------- */

static int read_prog_stats(int prog_fd, struct rt_perf_prog_stats *st)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
		return -errno;
	st->run_cnt = info.run_cnt;
	st->run_time_ns = info.run_time_ns;
	return 0;
}

static void clear_channels(struct rt_perf_session *s)
{
	__u32 slot = 0;

	for (size_t i = 0; i < s->nr_events; i++) {
		const struct rt_perf_event *e = &s->events[i];
		__u32 key;

		if (e->role != RT_PERF_EVENT_CHANNEL)
			continue;
		key = s->system_wide ? (__u32)e->info.cpu : slot++;
		bpf_map_delete_elem(s->channel_map_fd, &key);
		if (s->system_wide || s->tid_slot_map_fd < 0)
			continue;
		for (unsigned int c = 0; c < s->nr_cpus; c++) {
			struct rt_perf_channel_key k = { (__u32)e->info.target_tid, c };

			if (e->info.cpu < 0 || (unsigned int)e->info.cpu == c)
				bpf_map_delete_elem(s->tid_slot_map_fd, &k);
		}
	}
}

static int fill_channels(struct rt_perf_session *s)
{
	__u32 slot = 0;
	bool dup_note = false;

	for (size_t i = 0; i < s->nr_events; i++) {
		struct rt_perf_event *e = &s->events[i];
		__u32 key, probe;

		if (e->role != RT_PERF_EVENT_CHANNEL)
			continue;
		if (s->system_wide) {
			if (e->info.cpu < 0) {
				slog(s, "perf's bpf-output event %llu has neither cpu nor thread",
				     (unsigned long long)e->info.id);
				return -EINVAL;
			}
			key = (__u32)e->info.cpu;
			/* Several bpf-output events: the first one per cpu is ours. */
			if (bpf_map_lookup_elem(s->channel_map_fd, &key, &probe) == 0) {
				if (!dup_note)
					slog(s, "perf has several bpf-output events; using the "
					     "first on each cpu");
				dup_note = true;
				continue;
			}
		} else {
			key = slot++;
			for (unsigned int c = 0; c < s->nr_cpus; c++) {
				struct rt_perf_channel_key k = { (__u32)e->info.target_tid, c };

				if (e->info.cpu >= 0 && (unsigned int)e->info.cpu != c)
					continue;
				if (bpf_map_update_elem(s->tid_slot_map_fd, &k, &key, BPF_ANY)) {
					int err = -errno;

					slog(s, "filling the tid->slot map (tid %u cpu %u): %s%s", k.tid,
					     c, strerror(-err), err == -E2BIG ? ": size it with "
					     "rt_perf_session__tid_slot_entries()" : "");
					return err;
				}
			}
		}
		if (bpf_map_update_elem(s->channel_map_fd, &key, &e->fd, BPF_ANY)) {
			int err = -errno;

			slog(s, "putting perf's bpf-output event (cpu %d tid %d) into slot %u: %s%s",
			     e->info.cpu, e->info.target_tid, key, strerror(-err),
			     err == -E2BIG ? ": size the map with rt_perf_session__channel_slots()"
			     : err == -EOPNOTSUPP ? ": use " CHANNEL_OPTION : "");
			return err;
		}
	}
	return 0;
}

int rt_perf_session__attach(struct rt_perf_session *s, int prog_fd, int channel_map_fd,
			    int tid_slot_map_fd)
{
	size_t nr_sampling = rt_perf_session__nr_role(s, RT_PERF_EVENT_SAMPLING);
	int err;

	if (!s || prog_fd < 0)
		return -EINVAL;
	if (s->attached)
		return -EBUSY;
	if (!nr_sampling) {
		slog(s, "perf %d has no sampling event to attach to (use -e cpu-clock -F HZ)",
		     (int)s->pid);
		return -ENOENT;
	}
	if (rt_perf_session__nr_role(s, RT_PERF_EVENT_CHANNEL) && channel_map_fd < 0)
		return -EINVAL;
	if (!s->system_wide && tid_slot_map_fd < 0) {
		slog(s, "perf %d records per thread: the program needs a tid->slot map", (int)s->pid);
		return -EINVAL;
	}
	s->links = calloc(nr_sampling, sizeof(*s->links));
	if (!s->links)
		return -ENOMEM;
	/* Keep our own references: the stats and the cleanup outlive the caller's fds. */
	s->prog_fd = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
	s->channel_map_fd = channel_map_fd >= 0 ? fcntl(channel_map_fd, F_DUPFD_CLOEXEC, 3) : -1;
	s->tid_slot_map_fd = tid_slot_map_fd >= 0 ? fcntl(tid_slot_map_fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (s->prog_fd < 0 || (channel_map_fd >= 0 && s->channel_map_fd < 0) ||
	    (tid_slot_map_fd >= 0 && s->tid_slot_map_fd < 0)) {
		err = -errno;
		goto fail;
	}
	if (s->channel_map_fd >= 0) {
		err = fill_channels(s);
		if (err)
			goto fail;
	}

	/* Statistics first, so the baseline precedes the first run. */
	s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	s->base.valid = s->stats_fd >= 0 && read_prog_stats(s->prog_fd, &s->base) == 0;
	if (!s->base.valid)
		slog(s, "kernel BPF statistics unavailable: %s", strerror(errno));

	for (size_t i = 0; i < s->nr_events; i++) {
		const struct rt_perf_event *e = &s->events[i];
		int link;

		if (e->role != RT_PERF_EVENT_SAMPLING)
			continue;
		link = bpf_link_create(s->prog_fd, e->fd, BPF_PERF_EVENT, NULL);
		if (link < 0) {
			err = -errno;
			slog(s, "linking the program to perf's %s event (cpu %d tid %d): %s%s",
			     e->info.pmu_name, e->info.cpu, e->info.target_tid, strerror(-err),
			     err == -EEXIST ? " (another program is attached: another rt-bpf?)" : "");
			goto fail;
		}
		s->links[s->nr_links++] = link;
	}
	s->attached = true;
	return 0;
fail:
	s->attached = true; /* let detach undo the partial work */
	rt_perf_session__detach(s);
	return err;
}

int rt_perf_session__detach(struct rt_perf_session *s)
{
	if (!s)
		return -EINVAL;
	if (!s->attached)
		return 0;
	for (size_t i = 0; i < s->nr_links; i++)
		close(s->links[i]);
	free(s->links);
	s->links = NULL;
	s->nr_links = 0;
	/* Links are gone: the counters no longer move, so this is the final figure. */
	if (s->base.valid && read_prog_stats(s->prog_fd, &s->frozen) == 0) {
		s->frozen.run_cnt -= s->base.run_cnt;
		s->frozen.run_time_ns -= s->base.run_time_ns;
		s->frozen.valid = true;
	}
	if (s->channel_map_fd >= 0)
		clear_channels(s);
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	if (s->prog_fd >= 0)
		close(s->prog_fd);
	if (s->channel_map_fd >= 0)
		close(s->channel_map_fd);
	if (s->tid_slot_map_fd >= 0)
		close(s->tid_slot_map_fd);
	s->stats_fd = s->prog_fd = s->channel_map_fd = s->tid_slot_map_fd = -1;
	s->attached = false;
	return 0;
}

void rt_perf_session__free(struct rt_perf_session *s)
{
	if (!s)
		return;
	rt_perf_session__detach(s);
	for (size_t i = 0; i < s->nr_events; i++)
		close(s->events[i].fd);
	free(s->events);
	if (s->pidfd >= 0)
		close(s->pidfd);
	free(s);
}

int rt_perf_session__prog_stats(const struct rt_perf_session *s, struct rt_perf_prog_stats *out)
{
	struct rt_perf_prog_stats now;
	int err;

	if (!s || !out)
		return -EINVAL;
	if (!s->attached) {
		*out = s->frozen;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (!s->base.valid)
		return 0;
	err = read_prog_stats(s->prog_fd, &now);
	if (err)
		return err;
	out->run_cnt = now.run_cnt - s->base.run_cnt;
	out->run_time_ns = now.run_time_ns - s->base.run_time_ns;
	out->valid = true;
	return 0;
}

pid_t rt_perf_session__pid(const struct rt_perf_session *s)
{
	return s->pid;
}

int rt_perf_session__pidfd(const struct rt_perf_session *s)
{
	return s->pidfd;
}

bool rt_perf_session__perf_exited(const struct rt_perf_session *s)
{
	struct pollfd p = { .fd = s->pidfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

size_t rt_perf_session__nr_events(const struct rt_perf_session *s)
{
	return s->nr_events;
}

const struct rt_perf_event *rt_perf_session__event(const struct rt_perf_session *s, size_t i)
{
	return i < s->nr_events ? &s->events[i] : NULL;
}

size_t rt_perf_session__nr_role(const struct rt_perf_session *s, enum rt_perf_event_role role)
{
	size_t n = 0;

	for (size_t i = 0; s && i < s->nr_events; i++)
		n += s->events[i].role == role;
	return n;
}

bool rt_perf_session__system_wide(const struct rt_perf_session *s)
{
	return s->system_wide;
}

unsigned int rt_perf_session__channel_slots(const struct rt_perf_session *s)
{
	unsigned int n = 0;

	for (size_t i = 0; i < s->nr_events; i++) {
		const struct rt_perf_event *e = &s->events[i];

		if (e->role != RT_PERF_EVENT_CHANNEL)
			continue;
		if (!s->system_wide)
			n++;
		else if (e->info.cpu >= 0 && (unsigned int)e->info.cpu + 1 > n)
			n = (unsigned int)e->info.cpu + 1;
	}
	return n ? n : 1;
}

unsigned int rt_perf_session__tid_slot_entries(const struct rt_perf_session *s)
{
	unsigned int n = 0;

	if (s->system_wide)
		return 0;
	for (size_t i = 0; i < s->nr_events; i++)
		if (s->events[i].role == RT_PERF_EVENT_CHANNEL)
			n += s->events[i].info.cpu >= 0 ? 1 : s->nr_cpus;
	return n;
}

/* ---- running perf record ------------------------------------------------ */

int rt_perf_version__parse(const char *text)
{
	const char *p = text ? strstr(text, "version ") : NULL;
	char *end;
	long major, minor;

	if (!p)
		return -EINVAL;
	p += strlen("version ");
	major = strtol(p, &end, 10);
	if (end == p || *end != '.' || major < 0 || major > 1000)
		return -EINVAL;
	p = end + 1;
	minor = strtol(p, &end, 10);
	if (end == p || minor < 0 || minor > 999)
		return -EINVAL;
	return (int)(major * 1000 + minor);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `perf version` and checks it; returns the version or -errno. */
static int check_perf(const char *perf, rt_perf_log_fn log, void *log_ctx,
		      const sigset_t *child_mask)
{
	char out[256];
	size_t len = 0;
	int fds[2], status, version;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, child_mask, NULL);
		dup2(fds[1], STDOUT_FILENO);
		execlp(perf, perf, "version", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t got = read(fds[0], out + len, sizeof(out) - 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
		logf_(log, log_ctx, "cannot run '%s version': install perf (Debian: linux-perf) "
		      "or point $PERF at it", perf);
		return -ENOENT;
	}
	version = rt_perf_version__parse(out);
	if (version < 0) {
		logf_(log, log_ctx, "cannot understand '%s version' output: %.80s", perf, out);
		return -EINVAL;
	}
	if (version < RT_PERF_MIN_VERSION) {
		logf_(log, log_ctx, "perf %d.%d is too old: rt-bpf needs %d.%d or newer "
		      "(--control ping, -D -1)", version / 1000, version % 1000,
		      RT_PERF_MIN_VERSION / 1000, RT_PERF_MIN_VERSION % 1000);
		return -ENOTSUP;
	}
	return version;
}

/*
 * Sends a control command and waits for perf's "ack", watching perf's pidfd
 * so a perf that dies does not leave us waiting.
 */
static int perf_control(int ctl_fd, int ack_fd, int perf_pidfd, const char *cmd, int timeout_ms)
{
	char buf[64];
	size_t len = strlen(cmd), got_len = 0;
	long long deadline = now_ms() + timeout_ms;

	if (write(ctl_fd, cmd, len) != (ssize_t)len)
		return -errno ? -errno : -EIO;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = ack_fd, .events = POLLIN },
			{ .fd = perf_pidfd, .events = POLLIN },
		};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[0].revents & POLLIN) {
			ssize_t r = read(ack_fd, buf + got_len, sizeof(buf) - 1 - got_len);

			if (r <= 0)
				return -EPIPE;
			got_len += (size_t)r;
			buf[got_len] = 0;
			if (strstr(buf, "ack\n"))
				return 0;
			if (got_len == sizeof(buf) - 1)
				return -EPROTO;
			continue;
		}
		if (p[1].revents || (p[0].revents & (POLLHUP | POLLERR)))
			return -ECHILD;
	}
}

static int wait_exit(int pidfd, pid_t pid, int timeout_ms, int *status)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Stops perf the way Ctrl-C does, so it writes a complete perf.data. */
static int stop_perf(int pidfd, pid_t pid, int *status)
{
	kill(pid, SIGINT);
	if (wait_exit(pidfd, pid, 60000, status) == 0)
		return 0;
	kill(pid, SIGKILL);
	return wait_exit(pidfd, pid, -1, status);
}

struct record_run {
	const struct rt_perf_record_opts *opts;
	rt_perf_log_fn log;
	void *log_ctx;
	sigset_t old_mask;
	int ctl[2], ack[2], gate[2];
	int sig_fd;
	pid_t perf_pid, cmd_pid, target_pid;
	int perf_pidfd, cmd_pidfd, target_pidfd;
	int perf_err[2];        /* perf's stderr, read by the filter thread */
	pthread_t err_filter;
	bool err_filter_running;
};

static pid_t spawn_gated_command(struct record_run *r)
{
	pid_t pid;

	if (pipe2(r->gate, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid != 0)
		return pid;
	/* Child: wait for the parent's go, so not one instruction runs unsampled. */
	char go = 0;

	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	close(r->gate[1]);
	while (read(r->gate[0], &go, 1) < 0 && errno == EINTR)
		;
	if (go != 'g')
		_exit(126);
	execvp(r->opts->argv[0], r->opts->argv);
	fprintf(stderr, "rt-bpf: cannot run %s: %s\n", r->opts->argv[0], strerror(errno));
	_exit(127);
}

static pid_t spawn_perf(struct record_run *r, const char *perf, const char *output)
{
	const struct rt_perf_record_opts *o = r->opts;
	char control[64], freq[16], channel[128], pid_arg[16], marker[64], clock[64];
	const char *argv[32 + 2 * RT_PERF_MAX_EXTRA_EVENTS];
	const char *const *extra = OPT(o, extra_events, NULL);
	int n = 0;
	pid_t pid;

	snprintf(control, sizeof(control), "fd:%d,%d", r->ctl[0], r->ack[1]);
	snprintf(freq, sizeof(freq), "%u", OPT(o, freq, 0u) ? OPT(o, freq, 0u) : 99u);
	/* call-graph=no: the native sample keeps its stack (see walker.bpf.c). */
	snprintf(channel, sizeof(channel), "bpf-output/no-inherit,name=%s%s/",
		 OPT(o, channel_name, NULL) ? OPT(o, channel_name, NULL) : "rt",
		 OPT(o, channel_callchain, false) ? "" : ",call-graph=no");
	argv[n++] = perf;
	argv[n++] = "record";
	argv[n++] = "-D";
	argv[n++] = "-1";
	argv[n++] = "--control";
	argv[n++] = control;
	argv[n++] = "-k";
	argv[n++] = "mono";
	argv[n++] = "-e";
	if (extra && extra[0]) {
		/* -F would sample the extra events too; tracepoints keep their
		 * default period of 1 (every event) without it */
		snprintf(clock, sizeof(clock), "cpu-clock/freq=%s,name=cpu-clock/", freq);
		argv[n++] = clock;
	} else {
		argv[n++] = "cpu-clock";
		argv[n++] = "-F";
		argv[n++] = freq;
	}
	switch (OPT(o, call_graph, RT_PERF_CALL_GRAPH_FP)) {
	case RT_PERF_CALL_GRAPH_FP:
		argv[n++] = "-g";
		break;
	case RT_PERF_CALL_GRAPH_DWARF:
		argv[n++] = "--call-graph";
		argv[n++] = "dwarf";
		break;
	default:
		break;
	}
	for (int i = 0; extra && extra[i] && i < RT_PERF_MAX_EXTRA_EVENTS; i++) {
		argv[n++] = "-e";
		argv[n++] = extra[i];
	}
	argv[n++] = "-e";
	argv[n++] = channel;
	/* build ids in the MMAP2 events, read by the kernel from the mapped
	 * file itself: a container's files have paths the host does not
	 * resolve, and perf's end-of-record build-id pass skips them */
	argv[n++] = "--buildid-mmap";
	argv[n++] = "-o";
	argv[n++] = output;
	if (OPT(o, target, RT_PERF_RECORD_SYSTEM) == RT_PERF_RECORD_PID) {
		snprintf(pid_arg, sizeof(pid_arg), "%d", (int)OPT(o, pid, 0));
		argv[n++] = "-p";
		argv[n++] = pid_arg;
	} else {
		argv[n++] = "-a";
	}
	if (OPT(o, mark_target, false) && r->target_pid > 0) {
		snprintf(marker, sizeof(marker), "dummy/name=" RT_PERF_TARGET_PREFIX "%d/",
			 (int)r->target_pid);
		argv[n++] = "-e";
		argv[n++] = marker;
	}
	argv[n] = NULL;

	pid = fork();
	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	/* perf's ends of the control pipes survive exec; ours do not. */
	fcntl(r->ctl[0], F_SETFD, 0);
	fcntl(r->ack[1], F_SETFD, 0);
	if (OPT(o, quiet, false)) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
	} else if (r->perf_err[1] >= 0) {
		dup2(r->perf_err[1], STDERR_FILENO);
	}
	execvp(perf, (char *const *)argv);
	fprintf(stderr, "rt-bpf: cannot run %s: %s\n", perf, strerror(errno));
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Copies perf's stderr to ours without the "Events disabled" and "Events
 * enabled" lines perf prints when the control fd toggles it: those are
 * rt_perf_record()'s doing, not news for the user.  Ends at EOF, when perf
 * has exited.
 */
static void *perf_stderr_filter(void *arg)
{
	FILE *in = fdopen((int)(intptr_t)arg, "r");
	char line[1024];

	if (!in) {
		close((int)(intptr_t)arg);
		return NULL;
	}
	while (fgets(line, sizeof(line), in))
		if (strcmp(line, "Events disabled\n") && strcmp(line, "Events enabled\n"))
			fputs(line, stderr);
	fclose(in);
	return NULL;
}

int rt_perf_record(const struct rt_perf_record_opts *opts, struct rt_perf_record_result *res)
{
	struct record_run r = {
		.opts = opts,
		.ctl = { -1, -1 }, .ack = { -1, -1 }, .gate = { -1, -1 },
		.sig_fd = -1, .perf_pidfd = -1, .cmd_pidfd = -1, .target_pidfd = -1,
		.perf_err = { -1, -1 },
	};
	struct rt_perf_session *s = NULL;
	const char *perf, *output;
	enum rt_perf_record_target target;
	rt_perf_attach_fn attach;
	unsigned int duration_ms;
	sigset_t block;
	int err, perf_status = -1, cmd_status = -1;
	bool mask_set = false;
	pid_t target_pid = 0;

	if (!opts || !opts_valid(opts, opts->sz,
				 offsetofend_(struct rt_perf_record_opts, rt_perf_record_opts__last_field)))
		return -EINVAL;
	r.log = OPT(opts, log, NULL);
	r.log_ctx = OPT(opts, log_ctx, NULL);
	perf = OPT(opts, perf, NULL);
	if (!perf)
		perf = getenv("PERF");
	if (!perf || !*perf)
		perf = "perf";
	output = OPT(opts, output, NULL) ? OPT(opts, output, NULL) : "perf.data";
	target = OPT(opts, target, RT_PERF_RECORD_SYSTEM);
	attach = OPT(opts, attach, NULL);
	duration_ms = OPT(opts, duration_ms, 0u);
	if (res) {
		memset(res, 0, sizeof(*res));
		res->perf_status = res->target_status = -1;
	}
	if (target == RT_PERF_RECORD_COMMAND &&
	    (!OPT(opts, argv, NULL) || !OPT(opts, argv, NULL)[0])) {
		logf_(r.log, r.log_ctx, "no command to run");
		return -EINVAL;
	}
	if ((target == RT_PERF_RECORD_PID || target == RT_PERF_RECORD_PROCESS) &&
	    OPT(opts, pid, 0) <= 0) {
		logf_(r.log, r.log_ctx, "no pid to record");
		return -EINVAL;
	}
	if (geteuid() != 0) {
		logf_(r.log, r.log_ctx, "recording with rt-bpf needs root");
		return -EPERM;
	}

	/* SIGINT/SIGTERM end the recording cleanly instead of killing us mid-way. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &r.old_mask))
		return -errno;
	mask_set = true;
	err = check_perf(perf, r.log, r.log_ctx, &r.old_mask);
	if (err < 0)
		goto cleanup;
	r.sig_fd = signalfd(-1, &block, SFD_CLOEXEC);
	if (r.sig_fd < 0 || pipe2(r.ctl, O_CLOEXEC) || pipe2(r.ack, O_CLOEXEC)) {
		err = -errno;
		goto cleanup;
	}

	if (target == RT_PERF_RECORD_COMMAND) {
		r.cmd_pid = spawn_gated_command(&r);
		if (r.cmd_pid < 0) {
			err = -errno;
			goto cleanup;
		}
		close_fd(&r.gate[0]);
		r.cmd_pidfd = pidfd_open(r.cmd_pid, 0);
		r.target_pidfd = r.cmd_pidfd;
		target_pid = r.cmd_pid;
	} else if (target == RT_PERF_RECORD_PID || target == RT_PERF_RECORD_PROCESS) {
		target_pid = OPT(opts, pid, 0);
		r.target_pidfd = pidfd_open(target_pid, 0);
		if (r.target_pidfd < 0) {
			err = -errno;
			logf_(r.log, r.log_ctx, "process %d: %s", (int)target_pid, strerror(-err));
			goto cleanup;
		}
	}

	r.target_pid = target_pid;
	if (!OPT(opts, quiet, false) && pipe2(r.perf_err, O_CLOEXEC))
		r.perf_err[0] = r.perf_err[1] = -1; /* then perf writes to our stderr */
	r.perf_pid = spawn_perf(&r, perf, output);
	if (r.perf_pid < 0) {
		err = -errno;
		goto cleanup;
	}
	close_fd(&r.perf_err[1]);
	if (r.perf_err[0] >= 0 &&
	    !pthread_create(&r.err_filter, NULL, perf_stderr_filter, (void *)(intptr_t)r.perf_err[0])) {
		r.err_filter_running = true;
		r.perf_err[0] = -1; /* the thread's now */
	}
	close_fd(&r.ctl[0]);
	close_fd(&r.ack[1]);
	r.perf_pidfd = pidfd_open(r.perf_pid, 0);
	if (r.perf_pidfd < 0) {
		err = -errno;
		goto cleanup;
	}

	/* perf answers ping from its main loop, i.e. once every event is open. */
	err = perf_control(r.ctl[1], r.ack[0], r.perf_pidfd, "ping\n", 60000);
	if (err) {
		logf_(r.log, r.log_ctx, "perf record did not start%s",
		      err == -ECHILD ? " (it exited; see its messages)" : ": no answer in 60 s");
		goto cleanup;
	}
	{
		struct rt_perf_find_opts fo = {
			.sz = sizeof(fo), .perf_pid = r.perf_pid, .log = r.log, .log_ctx = r.log_ctx,
		};

		s = rt_perf_session__find(&fo);
		if (!s) {
			err = -errno;
			goto cleanup;
		}
	}
	if (attach) {
		err = attach(s, target_pid, OPT(opts, attach_ctx, NULL));
		if (err)
			goto cleanup;
	}
	err = perf_control(r.ctl[1], r.ack[0], r.perf_pidfd, "enable\n", 10000);
	if (err) {
		logf_(r.log, r.log_ctx, "perf did not acknowledge 'enable': %s", strerror(-err));
		goto cleanup;
	}
	if (r.cmd_pid > 0) {
		if (write(r.gate[1], "g", 1) != 1) {
			err = -errno;
			goto cleanup;
		}
		close_fd(&r.gate[1]);
	}

	{
		long long deadline = duration_ms ? now_ms() + duration_ms : 0;

		for (;;) {
			struct pollfd p[3] = {
				{ .fd = r.sig_fd, .events = POLLIN },
				{ .fd = r.perf_pidfd, .events = POLLIN },
				{ .fd = r.target_pidfd, .events = POLLIN },
			};
			int timeout = -1, n;

			if (deadline) {
				long long left = deadline - now_ms();

				if (left <= 0)
					break;
				timeout = (int)left;
			}
			n = poll(p, r.target_pidfd >= 0 ? 3 : 2, timeout);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err = -errno;
				break;
			}
			if (p[0].revents & POLLIN) {
				struct signalfd_siginfo si;

				if (read(r.sig_fd, &si, sizeof(si)) > 0 && r.cmd_pid > 0)
					kill(r.cmd_pid, (int)si.ssi_signo);
				break;
			}
			if (r.target_pidfd >= 0 && p[2].revents)
				break;
			if (p[1].revents) {
				logf_(r.log, r.log_ctx, "perf record exited before the target");
				break;
			}
		}
	}
	err = 0;

cleanup:
	close_fd(&r.gate[1]); /* an unreleased command exits on EOF */
	if (r.perf_pid > 0) {
		int e = r.perf_pidfd >= 0 ? stop_perf(r.perf_pidfd, r.perf_pid, &perf_status)
					  : (int)(waitpid(r.perf_pid, &perf_status, 0) < 0 ? -errno : 0);

		/* perf re-raises the SIGINT it handled: that death is its clean exit. */
		bool clean = (WIFEXITED(perf_status) && WEXITSTATUS(perf_status) == 0) ||
			     (WIFSIGNALED(perf_status) && WTERMSIG(perf_status) == SIGINT);

		if (e == 0 && !err && !clean) {
			logf_(r.log, r.log_ctx, "perf record failed (status 0x%x)", perf_status);
			err = -EIO;
		}
	}
	close_fd(&r.perf_err[1]);
	if (r.err_filter_running)
		pthread_join(r.err_filter, NULL); /* perf is gone: its stderr ends */
	close_fd(&r.perf_err[0]);
	if (r.cmd_pid > 0) {
		/* Recording is over (duration, signal or perf gone): end the command too. */
		if (r.cmd_pidfd >= 0 && wait_exit(r.cmd_pidfd, r.cmd_pid, 0, &cmd_status)) {
			kill(r.cmd_pid, SIGTERM);
			if (wait_exit(r.cmd_pidfd, r.cmd_pid, 5000, &cmd_status) == 0)
				r.cmd_pid = 0;
		} else if (r.cmd_pidfd >= 0) {
			r.cmd_pid = 0;
		}
		if (r.cmd_pid > 0) {
			kill(r.cmd_pid, SIGKILL);
			waitpid(r.cmd_pid, &cmd_status, 0);
		}
	}
	if (s) {
		rt_perf_session__detach(s);
		if (res)
			rt_perf_session__prog_stats(s, &res->stats);
		rt_perf_session__free(s);
	}
	if (res) {
		res->perf_status = perf_status;
		res->target_status = cmd_status;
		if (!realpath(output, res->output))
			snprintf(res->output, sizeof(res->output), "%s", output);
	}
	close_fd(&r.ctl[0]);
	close_fd(&r.ctl[1]);
	close_fd(&r.ack[0]);
	close_fd(&r.ack[1]);
	close_fd(&r.gate[0]);
	close_fd(&r.sig_fd);
	close_fd(&r.perf_pidfd);
	close_fd(&r.cmd_pidfd);
	if (target == RT_PERF_RECORD_PID || target == RT_PERF_RECORD_PROCESS)
		close_fd(&r.target_pidfd);
	if (mask_set) {
		/* Drop a SIGINT that arrived while blocked: it has been handled. */
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&block, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &r.old_mask, NULL);
	}
	return err;
}
