/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Finding a running perf record's events and attaching a BPF program to
 * them.  Starting perf record is perfrun.c.  See rtbpf/perfsession.h and
 * docs/attach.md.
 */
#include "rtbpf/perfsession.h"
#include "rtbpf/perfinternal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>

#include "bpf/perffd.skel.h"
#include "rtbpf/iter.h"

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

void rt_perf__logf(rt_perf_log_fn fn, void *ctx, const char *fmt, ...)
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

#define slog(s, ...) rt_perf__logf((s)->log, (s)->log_ctx, __VA_ARGS__)

/* ---- finding perf's events ---------------------------------------------- */

/* Runs the perf fd iterator: @prog if given (loaded by the caller, over
 * every process), else bpf/perffd.bpf.c loaded for this search (over
 * @tgid's files only, unless 0).  *out is malloc'ed, one record per perf
 * file. */
static int list_perf_files(rt_perf_log_fn log, void *log_ctx, pid_t tgid,
			   const struct bpf_program *prog, struct rt_perffd_record **out, size_t *nr)
{
	struct perffd_bpf *skel = NULL;
	void *recs;
	int err;

	if (!prog) {
		skel = perffd_bpf__open();
		if (!skel) {
			err = -errno;
			rt_perf__logf(log, log_ctx, "opening the perf fd iterator: %s", strerror(-err));
			return err;
		}
		skel->rodata->target_tgid = tgid > 0 ? (__u32)tgid : 0;
		err = perffd_bpf__load(skel);
		if (err) {
			rt_perf__logf(log, log_ctx, "loading the perf fd iterator: %s", strerror(-err));
			perffd_bpf__destroy(skel);
			return err;
		}
		prog = skel->progs.rt_perffd_dump;
	}
	err = rt_bpf_iter__read(prog, sizeof(**out), &recs, nr);
	if (err)
		rt_perf__logf(log, log_ctx, "running the perf fd iterator: %s", strerror(-err));
	else
		*out = recs;
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

bool rt_perf__is_perf(pid_t pid)
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
					    !rt_perf__is_perf(t))))
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
		rt_perf__logf(log, log_ctx, "several perf record processes are running (pids %s): say which one",
		      pids);
		return -EEXIST;
	}
	if (want && kill(want, 0) && errno == ESRCH)
		rt_perf__logf(log, log_ctx, "no process %d", (int)want);
	else if (want)
		rt_perf__logf(log, log_ctx,
		      "process %d holds no sampling perf events (not perf record, or not started yet)",
		      (int)want);
	else
		rt_perf__logf(log, log_ctx, "no perf record is running; start one with: perf record -a -g "
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
		rt_perf__logf(log, log_ctx, "attaching to perf needs root (BPF, perf events and "
		      "duplicating perf's file descriptors)");
		errno = EPERM;
		return NULL;
	}
	if (access(BTF_VMLINUX, R_OK) != 0) {
		rt_perf__logf(log, log_ctx, "this kernel has no BTF (" BTF_VMLINUX "): it needs "
		      "CONFIG_DEBUG_INFO_BTF=y");
		errno = ENOTSUP;
		return NULL;
	}

	err = list_perf_files(log, log_ctx, want, OPT(opts, perf_files, NULL), &recs, &nr);
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
