/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtbpf/perflive.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "perfglue/safefile.h"
#include "bpf/record.h"

#define PIPE_MAGIC 0x32454c4946524550ULL /* "PERFILE2" */
#define FEAT_EVENT_DESC 12               /* HEADER_EVENT_DESC */
/* The target's dummy event never opens: an id no kernel event has. */
#define TARGET_DUMMY_ID (~0ULL - 1)

/* libperf's perf_evsel__delete() frees the evsel alone: the ids
 * perf_evlist__mmap() gave it and its references to the CPU and thread
 * maps stay, as perf's own tool releases them.  This one is exported by
 * libperf, declared only in its internal headers. */
void perf_evsel__free_id(struct perf_evsel *evsel);

/* One event's per-CPU kernel ids and our fds of them. */
struct live_event {
	struct perf_evsel *evsel;
	uint64_t *ids;
	int *fds;
};

struct rt_perf_live {
	struct perf_evlist *evlist;
	struct live_event sampling, channel;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	int nr_cpus;
	struct rt_perf_live_stats stats;
	bool mapped;
};

/* libperf's own messages: its debug lines would land on the terminal. */
static int quiet_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int write_all(int fd, const void *buf, size_t size)
{
	const char *p = buf;

	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* Sample fields both events carry; the sampling event adds its callchain. */
#define COMMON_SAMPLE_TYPE (PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | \
			    PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD)

/* The kernel's id of each CPU's event: a read with PERF_FORMAT_ID. */
static int event_ids(struct rt_perf_live *live, struct live_event *ev)
{
	for (int i = 0; i < live->nr_cpus; i++) {
		struct perf_counts_values c;
		int err = perf_evsel__read(ev->evsel, i, 0, &c);

		if (err)
			return err < 0 ? err : -EIO;
		ev->ids[i] = c.id;
	}
	return 0;
}

/*
 * Our fd of each CPU's event, for the BPF program's links and its channel
 * map: libperf keeps its fds to itself, so each perf file this process
 * holds is asked for its id (PERF_EVENT_IOC_ID) and matched to the ids
 * libperf read back.
 */
static int event_fds(struct rt_perf_live *live)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int found = 0;

	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		char link[64], target[64];
		uint64_t id;
		long fd = strtol(d->d_name, NULL, 10);
		ssize_t n;

		if (fd < 0 || (fd == 0 && d->d_name[0] != '0') || fd == dirfd(dir))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[perf_event]") || ioctl((int)fd, PERF_EVENT_IOC_ID, &id))
			continue;
		for (int i = 0; i < live->nr_cpus; i++) {
			if (live->sampling.ids[i] == id && live->sampling.fds[i] < 0) {
				live->sampling.fds[i] = (int)fd;
				found++;
			} else if (live->channel.ids[i] == id && live->channel.fds[i] < 0) {
				live->channel.fds[i] = (int)fd;
				found++;
			}
		}
	}
	closedir(dir);
	return found == 2 * live->nr_cpus ? 0 : -ENOENT;
}

/* What both events share: software, disabled until enabled, with ids in
 * their reads and samples, trailers on other records, CLOCK_MONOTONIC. */
static void attr_common(struct perf_event_attr *attr)
{
	*attr = (struct perf_event_attr){
		.size = sizeof(struct perf_event_attr),
		.type = PERF_TYPE_SOFTWARE,
		.sample_type = COMMON_SAMPLE_TYPE,
		.read_format = PERF_FORMAT_ID,
		.disabled = 1,
		.sample_id_all = 1,
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
	};
}

static int live_event_alloc(struct live_event *ev, struct perf_event_attr *attr, int nr_cpus)
{
	ev->evsel = perf_evsel__new(attr);
	ev->ids = calloc((size_t)nr_cpus, sizeof(*ev->ids));
	ev->fds = malloc((size_t)nr_cpus * sizeof(*ev->fds));
	if (!ev->evsel || !ev->ids || !ev->fds)
		return -ENOMEM;
	for (int i = 0; i < nr_cpus; i++)
		ev->fds[i] = -1;
	return 0;
}

struct rt_perf_live *rt_perf_live__open(const struct rt_perf_live_opts *opts)
{
	struct rt_perf_live_opts o = { .sz = sizeof(o) };
	struct perf_event_attr sampling, channel;
	struct rt_perf_live *live;
	int err;

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	attr_common(&sampling);
	sampling.config = PERF_COUNT_SW_CPU_CLOCK;
	sampling.sample_type |= PERF_SAMPLE_CALLCHAIN;
	sampling.freq = 1;
	sampling.mmap = sampling.mmap2 = sampling.comm = sampling.comm_exec = sampling.task = 1;
	sampling.build_id = 1;
	sampling.sample_freq = o.freq ? o.freq : 99;
	sampling.exclude_kernel = o.user_only;
	sampling.exclude_callchain_kernel = o.user_only;
	attr_common(&channel);
	channel.config = PERF_COUNT_SW_BPF_OUTPUT;
	channel.sample_type |= PERF_SAMPLE_RAW;
	channel.sample_period = 1;
	live = calloc(1, sizeof(*live));
	if (!live) {
		errno = ENOMEM;
		return NULL;
	}
	libperf_init(quiet_print);
	live->cpus = perf_cpu_map__new_online_cpus();
	live->threads = perf_thread_map__new_dummy();
	if (!live->cpus || !live->threads) {
		err = -ENOMEM;
		goto fail;
	}
	live->nr_cpus = perf_cpu_map__nr(live->cpus);
	err = live_event_alloc(&live->sampling, &sampling, live->nr_cpus);
	if (!err)
		err = live_event_alloc(&live->channel, &channel, live->nr_cpus);
	if (!err && !(live->evlist = perf_evlist__new()))
		err = -ENOMEM;
	if (err)
		goto fail;
	/* the sampling event first: its ring is mapped, the channel's output
	 * joins it (PERF_EVENT_IOC_SET_OUTPUT), as perf record does */
	perf_evlist__add(live->evlist, live->sampling.evsel);
	perf_evlist__add(live->evlist, live->channel.evsel);
	perf_evlist__set_maps(live->evlist, live->cpus, live->threads);
	err = perf_evlist__open(live->evlist);
	if (err) {
		err = err < 0 ? err : -EINVAL;
		goto fail;
	}
	err = perf_evlist__mmap(live->evlist, o.pages ? (int)o.pages : 256);
	if (err) {
		err = errno ? -errno : -ENOMEM;
		goto fail;
	}
	live->mapped = true;
	err = event_ids(live, &live->sampling);
	if (!err)
		err = event_ids(live, &live->channel);
	if (!err)
		err = event_fds(live);
	if (err)
		goto fail;
	return live;
fail:
	rt_perf_live__close(live);
	errno = -err;
	return NULL;
}

static void live_event_free(struct live_event *ev, bool in_evlist)
{
	if (!in_evlist)
		perf_evsel__delete(ev->evsel);
	free(ev->ids);
	free(ev->fds);
}

void rt_perf_live__close(struct rt_perf_live *live)
{
	struct perf_evsel *evsel;

	if (!live)
		return;
	if (live->evlist) {
		perf_evlist__disable(live->evlist);
		if (live->mapped)
			perf_evlist__munmap(live->evlist);
		perf_evlist__close(live->evlist);
		perf_evlist__for_each_evsel(live->evlist, evsel) {
			perf_evsel__free_id(evsel);
			perf_cpu_map__put(perf_evsel__cpus(evsel));
			perf_thread_map__put(perf_evsel__threads(evsel));
		}
		/* deletes the evsels it holds */
		perf_evlist__delete(live->evlist);
	}
	live_event_free(&live->sampling, live->evlist);
	live_event_free(&live->channel, live->evlist);
	perf_cpu_map__put(live->cpus);
	perf_thread_map__put(live->threads);
	free(live);
}

int rt_perf_live__nr_cpus(const struct rt_perf_live *live)
{
	return live->nr_cpus;
}

int rt_perf_live__cpu(const struct rt_perf_live *live, int idx)
{
	return perf_cpu_map__cpu(live->cpus, idx).cpu;
}

int rt_perf_live__sampling_fd(const struct rt_perf_live *live, int idx)
{
	return live->sampling.fds[idx];
}

int rt_perf_live__channel_fd(const struct rt_perf_live *live, int idx)
{
	return live->channel.fds[idx];
}

/* A HEADER_ATTR record: the attribute, then its ids. */
static int write_attr(int fd, const struct perf_event_attr *attr, const uint64_t *ids, size_t nr)
{
	struct perf_event_header h = {
		.type = PERF_RECORD_HEADER_ATTR,
		.size = (uint16_t)(sizeof(h) + sizeof(*attr) + nr * sizeof(*ids)),
	};
	int err = write_all(fd, &h, sizeof(h));

	if (!err)
		err = write_all(fd, attr, sizeof(*attr));
	if (!err && nr)
		err = write_all(fd, ids, nr * sizeof(*ids));
	return err;
}

/* Appends the EVENT_DESC entry of one event to @buf (room checked by the caller). */
static size_t event_desc(uint8_t *buf, const struct perf_event_attr *attr, const char *name,
			 const uint64_t *ids, uint32_t nr)
{
	uint32_t len = (uint32_t)((strlen(name) + 1 + 7) & ~7ul);
	size_t n = 0;

	memcpy(buf + n, attr, sizeof(*attr));
	n += sizeof(*attr);
	memcpy(buf + n, &nr, 4);
	n += 4;
	memcpy(buf + n, &len, 4);
	n += 4;
	memset(buf + n, 0, len);
	memcpy(buf + n, name, strlen(name));
	n += len;
	memcpy(buf + n, ids, nr * sizeof(*ids));
	return n + nr * sizeof(*ids);
}

int rt_perf_live__write_header(struct rt_perf_live *live, int fd, pid_t target_pid)
{
	struct { uint64_t magic, size; } header = { PIPE_MAGIC, 16 };
	struct perf_event_attr dummy = {
		.size = sizeof(struct perf_event_attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.sample_type = COMMON_SAMPLE_TYPE,
		.sample_id_all = 1,
		.disabled = 1,
	};
	const uint64_t dummy_id = TARGET_DUMMY_ID;
	char target[64];
	uint8_t desc[4096];
	uint32_t nr = target_pid > 0 ? 3 : 2, attr_size = sizeof(struct perf_event_attr);
	uint32_t nr_ids = (uint32_t)live->nr_cpus;
	size_t n = 16 + 8;
	int err;

	snprintf(target, sizeof(target), RT_PERF_TARGET_PREFIX "%d", (int)target_pid);
	err = write_all(fd, &header, sizeof(header));
	if (!err)
		err = write_attr(fd, perf_evsel__attr(live->sampling.evsel), live->sampling.ids, nr_ids);
	if (!err)
		err = write_attr(fd, perf_evsel__attr(live->channel.evsel), live->channel.ids, nr_ids);
	if (!err && target_pid > 0)
		err = write_attr(fd, &dummy, &dummy_id, 1);
	if (err)
		return err;
	/* Names: the reader picks "cpu-clock" to fold, "rt" is the channel. */
	if ((2 * nr_ids + 1) * 8 + 3 * (sizeof(dummy) + 80) + n > sizeof(desc))
		return -E2BIG;
	memcpy(desc + 16, &nr, 4);
	memcpy(desc + 20, &attr_size, 4);
	n += event_desc(desc + n, perf_evsel__attr(live->sampling.evsel), "cpu-clock",
			live->sampling.ids, nr_ids);
	n += event_desc(desc + n, perf_evsel__attr(live->channel.evsel), "rt", live->channel.ids,
			nr_ids);
	if (target_pid > 0)
		n += event_desc(desc + n, &dummy, target, &dummy_id, 1);
	struct perf_event_header h = { .type = PERF_RECORD_HEADER_FEATURE, .size = (uint16_t)n };
	uint64_t feat = FEAT_EVENT_DESC;

	memcpy(desc, &h, sizeof(h));
	memcpy(desc + 8, &feat, 8);
	return write_all(fd, desc, n);
}

/* The sample_id_all trailer of the sampling event's records: pid/tid,
 * time 0, cpu, identifier. */
static size_t trailer(const struct rt_perf_live *live, uint8_t *p, uint32_t pid, uint32_t tid)
{
	uint64_t v[4] = { (uint64_t)tid << 32 | pid, 0, 0, live->sampling.ids[0] };

	memcpy(p, v, sizeof(v));
	return sizeof(v);
}

static int synth_comm(struct rt_perf_live *live, int fd, uint32_t pid, uint32_t tid,
		      const char *comm)
{
	uint8_t rec[128];
	struct perf_event_header h = { .type = PERF_RECORD_COMM };
	size_t len = (strlen(comm) + 1 + 7) & ~7ul, n = sizeof(h);

	if (len > 32)
		len = 32;
	memcpy(rec + n, &pid, 4);
	memcpy(rec + n + 4, &tid, 4);
	n += 8;
	memset(rec + n, 0, len);
	memcpy(rec + n, comm, strnlen(comm, len - 1));
	n += len;
	n += trailer(live, rec + n, pid, tid);
	h.size = (uint16_t)n;
	memcpy(rec, &h, sizeof(h));
	return write_all(fd, rec, n);
}

static int synth_mmap(struct rt_perf_live *live, int fd, uint32_t pid, uint64_t start,
		      uint64_t end, uint64_t pgoff, const char *path, uint32_t prot)
{
	uint8_t rec[8 + 64 + 4096 + 32];
	struct perf_event_header h = { .type = PERF_RECORD_MMAP2, .misc = PERF_RECORD_MISC_USER };
	uint64_t u64s[3] = { start, end - start, pgoff };
	uint32_t zero32[2] = { 0, 0 }, flags = 2 /* MAP_PRIVATE */;
	uint64_t zero64[2] = { 0, 0 };
	size_t plen = strnlen(path, 4095), len = (plen + 1 + 7) & ~7ul, n = sizeof(h);

	memcpy(rec + n, &pid, 4);
	memcpy(rec + n + 4, &pid, 4);
	n += 8;
	memcpy(rec + n, u64s, sizeof(u64s));
	n += sizeof(u64s);
	memcpy(rec + n, zero32, sizeof(zero32));   /* maj, min */
	n += sizeof(zero32);
	memcpy(rec + n, zero64, sizeof(zero64));   /* ino, ino_generation */
	n += sizeof(zero64);
	memcpy(rec + n, &prot, 4);
	memcpy(rec + n + 4, &flags, 4);
	n += 8;
	memset(rec + n, 0, len);
	memcpy(rec + n, path, plen);
	n += len;
	n += trailer(live, rec + n, pid, pid);
	h.size = (uint16_t)n;
	memcpy(rec, &h, sizeof(h));
	return write_all(fd, rec, n);
}

/* The executable mappings of @pid, from /proc/PID/maps. */
static int synth_maps(struct rt_perf_live *live, int fd, pid_t pid)
{
	char path[64], line[4096 + 256];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;   /* gone meanwhile */
	while (!err && rt_safefile__getline(f, line, sizeof(line)) != -1) {
		unsigned long long start, end, pgoff;
		char perms[8];
		int at = -1;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &pgoff,
			   &at) != 4 || at < 0 || perms[2] != 'x')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (!line[at])
			continue;   /* anonymous executable memory: JIT code, named by perf maps */
		err = synth_mmap(live, fd, (uint32_t)pid, start, end, pgoff, line + at,
				 (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | 4);
	}
	fclose(f);
	return err;
}

/* COMM records of every thread of @pid, then its mappings. */
static int synth_process(struct rt_perf_live *live, int fd, pid_t pid)
{
	char path[64], comm[64];
	struct dirent *d;
	DIR *dir;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!err && (d = readdir(dir))) {
		long tid = strtol(d->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/comm", (int)pid, tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			err = synth_comm(live, fd, (uint32_t)pid, (uint32_t)tid, comm);
		}
		fclose(f);
	}
	closedir(dir);
	if (!err)
		err = synth_maps(live, fd, pid);
	return err;
}

int rt_perf_live__synthesize(struct rt_perf_live *live, int fd, pid_t pid)
{
	struct dirent *d;
	DIR *dir;
	int err = 0;

	if (pid > 0)
		return synth_process(live, fd, pid);
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while (!err && (d = readdir(dir))) {
		long p = strtol(d->d_name, NULL, 10);

		if (p > 0 && p != getpid())
			err = synth_process(live, fd, (pid_t)p);
	}
	closedir(dir);
	return err;
}

int rt_perf_live__enable(struct rt_perf_live *live)
{
	perf_evlist__enable(live->evlist);
	return 0;
}

void rt_perf_live__disable(struct rt_perf_live *live)
{
	perf_evlist__disable(live->evlist);
}

/* Counted by the pumping thread, read by any other: atomics. */
static void count(struct rt_perf_live *live, const union perf_event *event)
{
	__atomic_add_fetch(&live->stats.records, 1, __ATOMIC_RELAXED);
	switch (event->header.type) {
	case PERF_RECORD_SAMPLE:
		__atomic_add_fetch(&live->stats.samples, 1, __ATOMIC_RELAXED);
		break;
	case PERF_RECORD_LOST:
		__atomic_add_fetch(&live->stats.lost, event->lost.lost, __ATOMIC_RELAXED);
		break;
	case PERF_RECORD_LOST_SAMPLES:
		__atomic_add_fetch(&live->stats.lost_samples, event->lost_samples.lost,
				   __ATOMIC_RELAXED);
		break;
	}
}

int rt_perf_live__pump(struct rt_perf_live *live, int fd, int timeout_ms)
{
	static const struct perf_event_header round = { .type = PERF_RECORD_FINISHED_ROUND,
							.size = sizeof(round) };
	struct perf_mmap *map;
	int copied = 0, err = 0;

	if (timeout_ms)
		perf_evlist__poll(live->evlist, timeout_ms);
	perf_evlist__for_each_mmap(live->evlist, map, false) {
		union perf_event *event;

		if (perf_mmap__read_init(map) < 0)
			continue;
		while (!err && (event = perf_mmap__read_event(map))) {
			count(live, event);
			err = write_all(fd, event, event->header.size);
			perf_mmap__consume(map);
			copied++;
		}
		perf_mmap__read_done(map);
		if (err)
			return err;
	}
	if (copied)
		err = write_all(fd, &round, sizeof(round));
	return err ? err : copied;
}

void rt_perf_live__stats(const struct rt_perf_live *live, struct rt_perf_live_stats *out)
{
	out->records = __atomic_load_n(&live->stats.records, __ATOMIC_RELAXED);
	out->samples = __atomic_load_n(&live->stats.samples, __ATOMIC_RELAXED);
	out->lost = __atomic_load_n(&live->stats.lost, __ATOMIC_RELAXED);
	out->lost_samples = __atomic_load_n(&live->stats.lost_samples, __ATOMIC_RELAXED);
}
