/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/process.h"
#include "perfglue/hash.h"
#include "perfglue/safefile.h"

int rt_process__read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Fills @values from .symtab and .dynsym (a stripped library keeps only the
 * latter; a later definition wins) and @first_load_vaddr from the PT_LOAD
 * segment at file offset 0, which gives the load bias. */
static int elf_find_symbols(int fd, const struct stat *st, const struct rt_process_symbol *syms,
			    size_t nr_syms, uint64_t *values, uint64_t *first_load_vaddr)
{
	Elf_Scn *scn = NULL;
	size_t nphdr;
	bool have_load = false;
	Elf *elf;

	memset(values, 0, nr_syms * sizeof(*values));
	*first_load_vaddr = 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, rt_safefile__owner_trusted(st) ? ELF_C_READ_MMAP : ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	if (!elf_getphdrnum(elf, &nphdr)) {
		for (size_t i = 0; i < nphdr; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
				*first_load_vaddr = ph.p_vaddr;
				have_load = true;
				break;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			for (size_t k = 0; k < nr_syms; k++) {
				if (name[0] != syms[k].name[0] || strcmp(name, syms[k].name) ||
				    (syms[k].type >= 0 && GELF_ST_TYPE(sym.st_info) != syms[k].type))
					continue;
				values[k] = sym.st_value;
				break;
			}
		}
	}
out:
	if (elf)
		elf_end(elf);
	return have_load ? 0 : -ENOENT;
}

/* What elf_find_symbols() found in one file (struct rt_image_cache).
 * Direct-mapped, so its size is fixed. */
#define IMAGE_CACHE_SIZE 256

struct image_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	const struct rt_process_symbol *syms;
	size_t nr_syms;
	int err;
	uint64_t first_load_vaddr;
	uint64_t values[RT_PROCESS_SYMBOLS_MAX];
};

struct rt_image_cache {
	pthread_mutex_t lock; /* rt-bpf's scanner thread and its main thread both look */
	struct image_entry entries[IMAGE_CACHE_SIZE];
};

struct rt_image_cache *rt_image_cache__new(void)
{
	struct rt_image_cache *cache = calloc(1, sizeof(*cache));
	int err;

	if (!cache)
		return NULL;
	err = pthread_mutex_init(&cache->lock, NULL);
	if (err) {
		free(cache);
		errno = err;
		return NULL;
	}
	return cache;
}

void rt_image_cache__free(struct rt_image_cache *cache)
{
	if (!cache)
		return;
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

static bool image_entry_is(const struct image_entry *e, const struct stat *st,
			   const struct rt_process_symbol *syms, size_t nr_syms)
{
	return e->syms == syms && e->nr_syms == nr_syms && e->dev == st->st_dev &&
	       e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* elf_find_symbols() through @cache (NULL: none), for the open file @fd. */
static int cached_find_symbols(struct rt_image_cache *cache, int fd, const struct stat *st,
			       const struct rt_process_symbol *syms, size_t nr_syms, uint64_t *values,
			       uint64_t *first_load_vaddr)
{
	struct image_entry *e;
	int err;

	if (!cache)
		return elf_find_symbols(fd, st, syms, nr_syms, values, first_load_vaddr);
	e = &cache->entries[rt_hash64((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ull ^ st->st_ino ^
				      (uint64_t)(uintptr_t)syms) % IMAGE_CACHE_SIZE];
	pthread_mutex_lock(&cache->lock);
	if (image_entry_is(e, st, syms, nr_syms)) {
		memcpy(values, e->values, nr_syms * sizeof(*values));
		*first_load_vaddr = e->first_load_vaddr;
		err = e->err;
		pthread_mutex_unlock(&cache->lock);
		return err;
	}
	pthread_mutex_unlock(&cache->lock);
	err = elf_find_symbols(fd, st, syms, nr_syms, values, first_load_vaddr);
	if (err && err != -ENOENT)
		return err; /* could not read it: may work next time */
	pthread_mutex_lock(&cache->lock);
	*e = (struct image_entry){
		.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim,
		.syms = syms, .nr_syms = nr_syms, .err = err, .first_load_vaddr = *first_load_vaddr,
	};
	memcpy(e->values, values, nr_syms * sizeof(*values));
	pthread_mutex_unlock(&cache->lock);
	return err;
}

/*
 * Looks up the file @pid maps at [@start, @end), named @path in its maps;
 * 0 when it is a candidate.  The file is reached through map_files, or
 * failing that resolved inside the process's root: never by @path on the
 * host, where a container could have planted a FIFO or anything else.
 */
static int image_symbols(pid_t pid, unsigned long start, unsigned long end, const char *path,
			 const struct rt_process_image_opts *opts, uint64_t *values,
			 uint64_t *first_load_vaddr)
{
	struct stat st;
	int fd = rt_safefile__open_mapped(pid, start, end, 0, &st), err;

	if (fd < 0 && fd != -ESRCH && fd != -EINVAL && fd != -ELOOP)
		fd = rt_safefile__open_in_root(pid, path, 0, &st);
	if (fd < 0)
		return fd;
	err = cached_find_symbols(opts->cache, fd, &st, opts->syms, opts->nr_syms, values,
				  first_load_vaddr);
	close(fd);
	if (err)
		return err;
	return opts->has_symbols(values) ? 0 : -ENOENT;
}

bool rt_process__parse_maps_line(char *line, unsigned long *start, unsigned long *end,
				 unsigned long *offset, char **path)
{
	int at = -1;
	size_t len;

	if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", start, end, offset, &at) != 3 || at < 0)
		return false;
	*path = line + at;
	len = strlen(*path);
	if (len && (*path)[len - 1] == '\n')
		(*path)[--len] = '\0';
	return len > 0;
}

int rt_process__find_image(pid_t pid, const struct rt_process_image_opts *opts)
{
	char maps_path[64], line[PATH_MAX + 128], exe_link[64], exe[PATH_MAX];
	uint64_t values[RT_PROCESS_SYMBOLS_MAX];
	FILE *maps;
	ssize_t n;
	int err = -ENOENT;

	if (opts->nr_syms > RT_PROCESS_SYMBOLS_MAX)
		return -EINVAL;
	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	n = readlink(exe_link, exe, sizeof(exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	exe[n] = '\0';
	snprintf(maps_path, sizeof(maps_path), "/proc/%d/maps", pid);
	maps = fopen(maps_path, "re");
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	/* The runtime is in the executable (static build) or in a mapped
	 * library; the first mapping at file offset 0 gives the load bias. */
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end, offset;
		char *path, file[PATH_MAX + 64], *name = strchr(line, '/'), *nl;
		struct rt_process_image image;
		uint64_t first_load_vaddr;
		const char *base;

		/* No field before the path holds a '/': the name is matched
		 * before the line is parsed, as nearly every line of nearly
		 * every process is not a candidate (parsing them all was most
		 * of the first full scan's CPU). */
		if (!name)
			continue;
		nl = strchr(name, '\n');
		if (nl)
			*nl = '\0';
		base = strrchr(name, '/') + 1;
		if (strcmp(name, exe) && !strstr(base, opts->lib_name))
			continue;
		if (!rt_process__parse_maps_line(line, &start, &end, &offset, &path) || offset != 0 ||
		    path[0] != '/')
			continue;
		/* map_files reaches the mapped file even across mount namespaces */
		snprintf(file, sizeof(file), "/proc/%d/map_files/%lx-%lx", pid, start, end);
		if (image_symbols(pid, start, end, path, opts, values, &first_load_vaddr))
			continue;
		image = (struct rt_process_image){
			.pid = pid,
			.exe = exe,
			.path = path,
			.file = file,
			.bias = start - (first_load_vaddr & ~0xfffull),
			.values = values,
			.start = start,
			.end = end,
		};
		if (!opts->take(opts->ctx, &image)) {
			err = 0;
			break;
		}
	}
	fclose(maps);
	return err;
}

/* One process image the tracker has looked at, in an open-addressing
 * table keyed by pid (pid 0: an empty slot). */
struct tracked {
	struct rt_tracked_process proc;
	unsigned long long start_time; /* clock ticks after boot (/proc/PID/stat field
					* 22): tells reused pids apart */
	dev_t exe_dev;                 /* the executable's file: an exec that */
	ino_t exe_ino;                 /* events missed shows as a change */
	uint64_t checked_ns;           /* CLOCK_BOOTTIME of the last check: older
					* events are already seen */
	uint64_t due_ns;               /* next retry */
	uint32_t backoff_ms;
	bool alive;                    /* seen in the current full scan */
};

struct rt_process_tracker {
	enum rt_process_scope scope;
	pid_t *roots;
	size_t nr_roots;
	struct rt_process_tracker_ops ops;
	struct tracked *slots;
	size_t nr, cap;    /* cap: a power of two, at least twice nr */
	size_t nr_pending; /* entries with retries left */
	unsigned long long ns_per_tick;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ns per clock tick, the unit of /proc/PID/stat's start time. */
static unsigned long long ns_per_tick(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return 1000000000ull / (unsigned long long)(hz > 0 ? hz : 100);
}

struct rt_process_tracker *rt_process_tracker__new(enum rt_process_scope scope, const pid_t *pids,
						   size_t nr_pids,
						   const struct rt_process_tracker_ops *ops)
{
	struct rt_process_tracker *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->scope = scope;
	tr->ops = *ops;
	tr->ns_per_tick = ns_per_tick();
	tr->cap = 64;
	tr->slots = calloc(tr->cap, sizeof(*tr->slots));
	if (!tr->slots)
		goto fail;
	if (nr_pids) {
		tr->roots = calloc(nr_pids, sizeof(*pids));
		if (!tr->roots)
			goto fail;
		memcpy(tr->roots, pids, nr_pids * sizeof(*pids));
		tr->nr_roots = nr_pids;
	}
	return tr;
fail:
	free(tr->slots);
	free(tr);
	errno = ENOMEM;
	return NULL;
}

void rt_process_tracker__free(struct rt_process_tracker *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < tr->cap; i++)
		free(tr->slots[i].proc.state);
	free(tr->roots);
	free(tr->slots);
	free(tr);
}

static size_t slot_of(const struct rt_process_tracker *tr, pid_t pid)
{
	return (size_t)rt_hash64((uint64_t)(uint32_t)pid) & (tr->cap - 1);
}

static struct tracked *find_tracked(struct rt_process_tracker *tr, pid_t pid)
{
	for (size_t i = slot_of(tr, pid);; i = (i + 1) & (tr->cap - 1)) {
		if (tr->slots[i].proc.pid == pid)
			return &tr->slots[i];
		if (!tr->slots[i].proc.pid)
			return NULL;
	}
}

/* Doubles the table; 0 or -ENOMEM.  Moves every entry. */
static int grow(struct rt_process_tracker *tr)
{
	struct tracked *old = tr->slots;
	size_t old_cap = tr->cap;

	tr->slots = calloc(old_cap * 2, sizeof(*tr->slots));
	if (!tr->slots) {
		tr->slots = old;
		return -ENOMEM;
	}
	tr->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++) {
		size_t k;

		if (!old[i].proc.pid)
			continue;
		for (k = slot_of(tr, old[i].proc.pid); tr->slots[k].proc.pid; k = (k + 1) & (tr->cap - 1))
			;
		tr->slots[k] = old[i];
	}
	free(old);
	return 0;
}

/* Forgets @t (reporting it gone when it was found); later entries of its
 * probe run move back so that lookups still reach them. */
static void forget(struct rt_process_tracker *tr, struct tracked *t)
{
	size_t hole = (size_t)(t - tr->slots);

	if (t->proc.found)
		tr->ops.gone(tr->ops.ctx, t->proc.pid);
	if (t->proc.retries)
		tr->nr_pending--;
	free(t->proc.state);
	memset(t, 0, sizeof(*t));
	tr->nr--;
	for (size_t i = (hole + 1) & (tr->cap - 1); tr->slots[i].proc.pid; i = (i + 1) & (tr->cap - 1)) {
		size_t home = slot_of(tr, tr->slots[i].proc.pid);

		/* the entry may fill the hole when its home is not after the
		 * hole (cyclically, up to i) */
		if (((i - home) & (tr->cap - 1)) >= ((i - hole) & (tr->cap - 1))) {
			tr->slots[hole] = tr->slots[i];
			memset(&tr->slots[i], 0, sizeof(tr->slots[i]));
			hole = i;
		}
	}
}

/* The path of @pid's executable into @name.  0 or -errno. */
static int read_exe_path(pid_t pid, char *name, size_t name_size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, name, name_size - 1);
	if (n < 0)
		return -errno;
	name[n] = '\0';
	return 0;
}

/* The executable of @pid: its file's identity and, when @name is given,
 * its path.  0, or -errno (a kernel thread has none). */
static int read_exe(pid_t pid, dev_t *dev, ino_t *ino, char *name, size_t name_size)
{
	char link[64];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (stat(link, &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return name ? read_exe_path(pid, name, name_size) : 0;
}

/* Starts tracking the new process image @pid with executable @exe (for
 * the name match; NULL: none); NULL when out of memory (a later event or
 * scan looks again).  Other entries may move. */
static struct tracked *track(struct rt_process_tracker *tr, pid_t pid, unsigned long long start,
			     dev_t dev, ino_t ino, const char *exe)
{
	const char *base = exe ? strrchr(exe, '/') : NULL;
	struct tracked *t;
	size_t i;

	if ((tr->nr + 1) * 2 > tr->cap && grow(tr))
		return NULL;
	for (i = slot_of(tr, pid); tr->slots[i].proc.pid; i = (i + 1) & (tr->cap - 1))
		;
	t = &tr->slots[i];
	t->proc.pid = pid;
	t->start_time = start;
	t->exe_dev = dev;
	t->exe_ino = ino;
	t->proc.retries = base && strstr(base, tr->ops.exe_name) ? tr->ops.retries : 0;
	t->backoff_ms = RT_PROCESS_RETRY_FIRST_MS;
	tr->nr_pending += t->proc.retries > 0;
	tr->nr++;
	return t;
}

/* Runs the check on @t: its state exists only while the process is found
 * or has retries left, so that memory follows interpreter processes, not
 * every process on the host. */
static void run_check(struct rt_process_tracker *tr, struct tracked *t)
{
	bool pending = t->proc.retries > 0;

	if (tr->ops.state_size && !t->proc.state) {
		t->proc.state = calloc(1, tr->ops.state_size);
		if (!t->proc.state)
			return;
	}
	tr->ops.check(tr->ops.ctx, &t->proc);
	t->checked_ns = now_ns();
	if (!t->proc.found && !t->proc.retries) {
		free(t->proc.state);
		t->proc.state = NULL;
	}
	if (t->proc.retries && !pending)
		t->backoff_ms = RT_PROCESS_RETRY_FIRST_MS;
	t->due_ns = t->checked_ns + (uint64_t)t->backoff_ms * 1000000ull;
	tr->nr_pending += (t->proc.retries > 0) - pending;
}

/* A retry: takes one of @t's retries and checks it. */
static void retry(struct rt_process_tracker *tr, struct tracked *t)
{
	t->proc.retries--;
	if (!t->proc.retries)
		tr->nr_pending--;
	t->backoff_ms = t->backoff_ms * 2 < RT_PROCESS_RETRY_MAX_MS ? t->backoff_ms * 2 : RT_PROCESS_RETRY_MAX_MS;
	run_check(tr, t);
}

static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *start_time)
{
	char path[64], buf[1024], *p, *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
	if (!p || p[1] != ' ')
		return -EIO;
	/* fields 3 (state) to 22 (starttime), one space apart: walked by hand,
	 * as sscanf's %*s were a good part of a full scan's CPU */
	p += 2;
	for (int field = 3; field < 22; field++) {
		if (field == 4)
			*ppid = (pid_t)strtol(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*start_time = strtoull(p, &end, 10);
	return end == p ? -EIO : 0;
}

static bool is_root(const struct rt_process_tracker *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nr_roots; i++)
		if (tr->roots[i] == pid)
			return true;
	return false;
}

/* Tracks and checks @pid as a new image when it is in scope (@in_tree: it
 * was tracked already, or its parent @ppid is when known, else 0). */
static void start_image(struct rt_process_tracker *tr, pid_t pid, bool in_tree, pid_t ppid,
			unsigned long long start)
{
	char exe[PATH_MAX];
	struct tracked *t;
	dev_t dev;
	ino_t ino;
	pid_t pp;

	if (pid == getpid())
		return;
	if (ppid > 0 && (is_root(tr, ppid) || find_tracked(tr, ppid)))
		in_tree = true;
	if (tr->scope != RT_PROCESS_ALL && !is_root(tr, pid) &&
	    !(tr->scope == RT_PROCESS_TREE && in_tree))
		return;
	if (read_exe(pid, &dev, &ino, exe, sizeof(exe)))
		return; /* gone, or a kernel thread */
	if (!start && read_stat(pid, &pp, &start))
		return;
	t = track(tr, pid, start, dev, ino, exe);
	if (t)
		run_check(tr, t);
}

void rt_process_tracker__event(struct rt_process_tracker *tr, const struct rt_process_event *ev)
{
	struct tracked *t = find_tracked(tr, ev->pid), *parent;
	unsigned long long start = ev->start_ns / tr->ns_per_tick;

	/* a check after the event already saw its outcome */
	if (t && t->checked_ns > ev->time_ns)
		return;
	switch (ev->type) {
	case RT_PROCESS_EXIT:
		if (t)
			forget(tr, t);
		return;
	case RT_PROCESS_MAPPED:
		if (t && !t->proc.found)
			run_check(tr, t);
		else if (!t)
			start_image(tr, ev->pid, false, 0, 0);
		return;
	case RT_PROCESS_EXEC:
		if (t)
			forget(tr, t);
		start_image(tr, ev->pid, t != NULL, 0, start);
		return;
	case RT_PROCESS_FORK:
		if (t)
			forget(tr, t); /* its pid was reused: the exit went unseen */
		parent = find_tracked(tr, ev->ppid);
		/* the child runs its parent's image: a parent known not to
		 * be an interpreter (nor waiting for one) needs no look */
		if (parent && !parent->proc.found && !parent->proc.retries) {
			dev_t dev = parent->exe_dev;
			ino_t ino = parent->exe_ino;

			if (ev->pid != getpid())
				track(tr, ev->pid, start, dev, ino, NULL);
			return;
		}
		start_image(tr, ev->pid, false, ev->ppid, start);
		return;
	}
}

int rt_process_tracker__retry(struct rt_process_tracker *tr)
{
	uint64_t now, next = UINT64_MAX;

	if (!tr->nr_pending)
		return -1;
	now = now_ns();
	for (size_t i = 0; i < tr->cap && tr->nr_pending; i++) {
		struct tracked *t = &tr->slots[i];

		if (!t->proc.pid || !t->proc.retries)
			continue;
		if (t->due_ns <= now)
			retry(tr, t);
		if (t->proc.retries && t->due_ns < next)
			next = t->due_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* A process as the full scan reads it. */
struct scanned {
	pid_t pid, ppid;
	unsigned long long start;
};

static int scanned_cmp(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Whether @s (of the @nr in @all, sorted by pid) descends from a root. */
static bool in_tree(const struct rt_process_tracker *tr, const struct scanned *all, size_t nr,
		    const struct scanned *s)
{
	pid_t p = s->ppid;

	/* bounded: pid cycles cannot exist, but a racing reparent could
	 * make the walk long */
	for (int depth = 0; depth < 64 && p > 1; depth++) {
		struct scanned key = { .pid = p }, *up;

		if (is_root(tr, p))
			return true;
		up = bsearch(&key, all, nr, sizeof(*all), scanned_cmp);
		p = up ? up->ppid : 0;
	}
	return false;
}

/* Reads every process's parent and start time; sorted by pid. */
static int read_all(struct scanned **out, size_t *nr_out)
{
	struct scanned *all = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10), ppid;
		unsigned long long start;

		if (pid <= 0 || read_stat(pid, &ppid, &start))
			continue;
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 512;
			struct scanned *n = realloc(all, ncap * sizeof(*all));

			if (!n) {
				closedir(dir);
				free(all);
				return -ENOMEM;
			}
			all = n;
			cap = ncap;
		}
		all[nr++] = (struct scanned){ pid, ppid, start };
	}
	closedir(dir);
	if (nr)
		qsort(all, nr, sizeof(*all), scanned_cmp);
	*out = all;
	*nr_out = nr;
	return 0;
}

/* A process's executable as the table keeps it once read. */
struct table_exe {
	int err; /* EXE_UNREAD, or read_exe()'s answer */
	dev_t dev;
	ino_t ino;
	char *path;    /* NULL until asked for */
	uint64_t key;  /* from a kernel listing: equal for one file, 0: none */
	size_t leader; /* from a kernel listing: the first entry with this key */
};

#define EXE_UNREAD 1

struct rt_process_table {
	struct scanned *all; /* sorted by pid */
	size_t nr;
	struct table_exe *exes; /* one per entry of all; NULL: not kept */
	bool keyed;             /* exes' key and leader are set */
};

struct rt_process_table *rt_process_table__read(void)
{
	struct rt_process_table *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	err = read_all(&t->all, &t->nr);
	if (!err && t->nr && !(t->exes = calloc(t->nr, sizeof(*t->exes))))
		err = -ENOMEM;
	if (err) {
		rt_process_table__free(t);
		errno = -err;
		return NULL;
	}
	for (size_t i = 0; i < t->nr; i++)
		t->exes[i].err = EXE_UNREAD;
	return t;
}

/* Table entries ordered by executable key, then position. */
struct keyed {
	uint64_t key;
	size_t i;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* A listed process with its executable's key, sorted by pid (scanned
 * first: scanned_cmp orders these too). */
struct listed {
	struct scanned s;
	uint64_t key;
};

struct rt_process_table *rt_process_table__from_rows(const struct rt_process_row *rows, size_t nr)
{
	struct rt_process_table *t = calloc(1, sizeof(*t));
	unsigned long long tick = ns_per_tick();
	struct listed *listed = NULL;
	struct keyed *order = NULL;
	size_t n = 0;

	if (!t)
		return NULL;
	t->keyed = true;
	if (!nr)
		return t;
	t->all = calloc(nr, sizeof(*t->all));
	t->exes = calloc(nr, sizeof(*t->exes));
	listed = calloc(nr, sizeof(*listed));
	order = calloc(nr, sizeof(*order));
	if (!t->all || !t->exes || !listed || !order) {
		free(listed);
		free(order);
		rt_process_table__free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < nr; i++)
		if (rows[i].pid > 0) /* start as /proc/PID/stat says it: ticks */
			listed[n++] = (struct listed){
				{ rows[i].pid, rows[i].ppid, rows[i].start_ns / tick },
				rows[i].exe };
	qsort(listed, n, sizeof(*listed), scanned_cmp);
	for (size_t i = 0; i < n; i++) {
		t->all[i] = listed[i].s;
		t->exes[i].key = listed[i].key;
		t->exes[i].err = EXE_UNREAD;
		order[i] = (struct keyed){ listed[i].key, i };
	}
	t->nr = n;
	free(listed);
	/* each entry's leader: the first entry running the same file */
	qsort(order, n, sizeof(*order), keyed_cmp);
	for (size_t i = 0; i < n; i++)
		t->exes[order[i].i].leader = i && order[i].key == order[i - 1].key ?
						     t->exes[order[i - 1].i].leader :
						     order[i].i;
	free(order);
	return t;
}

void rt_process_table__free(struct rt_process_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->exes && i < t->nr; i++)
		free(t->exes[i].path);
	free(t->exes);
	free(t->all);
	free(t);
}

/* Reads the executable of entry @i of a table from a kernel listing: from
 * its leader (the first entry running the same file) when that one is
 * readable, else its own; a key of 0 has none (kernel thread). */
static int keyed_exe(struct rt_process_table *t, size_t i)
{
	struct table_exe *e = &t->exes[i], *l = &t->exes[e->leader];

	if (!e->key)
		return -ENOENT;
	if (l != e) {
		if (l->err == EXE_UNREAD)
			l->err = read_exe(t->all[e->leader].pid, &l->dev, &l->ino, NULL, 0);
		if (!l->err) {
			e->dev = l->dev;
			e->ino = l->ino;
			return 0;
		}
	}
	return read_exe(t->all[i].pid, &e->dev, &e->ino, NULL, 0);
}

/* The path of entry @i's executable, kept in the table; a table from a
 * kernel listing reads it once per file (the leader's). */
static const char *table_exe_path(struct rt_process_table *t, size_t i)
{
	struct table_exe *e = &t->exes[i];
	char path[PATH_MAX];

	if (e->path)
		return e->path;
	if (t->keyed && e->leader != i && !t->exes[e->leader].err) {
		const char *lp = table_exe_path(t, e->leader);

		if (lp)
			return e->path = strdup(lp);
	}
	if (read_exe_path(t->all[i].pid, path, sizeof(path)))
		return NULL;
	return e->path = strdup(path);
}

/* read_exe() of entry @i of @t, from what an earlier scan of the table
 * read where it can. */
static int table_exe(struct rt_process_table *t, size_t i, dev_t *dev, ino_t *ino, char *name,
		     size_t name_size)
{
	struct table_exe *e;
	const char *path;

	if (!t->exes)
		return read_exe(t->all[i].pid, dev, ino, name, name_size);
	e = &t->exes[i];
	if (e->err == EXE_UNREAD)
		e->err = t->keyed ? keyed_exe(t, i) : read_exe(t->all[i].pid, &e->dev, &e->ino, NULL, 0);
	if (e->err)
		return e->err;
	*dev = e->dev;
	*ino = e->ino;
	if (!name)
		return 0;
	path = table_exe_path(t, i);
	if (!path)
		return errno ? -errno : -ENOMEM;
	snprintf(name, name_size, "%s", path);
	return 0;
}

/* Executables (device, inode) a scan found no runtime in, for processes
 * that map no runtime library: another such process of the same file
 * holds none either. */
struct empty_exes {
	struct {
		dev_t dev;
		ino_t ino;
	} *v;
	size_t nr, cap;
};

static bool empty_exes__has(const struct empty_exes *e, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < e->nr; i++)
		if (e->v[i].dev == dev && e->v[i].ino == ino)
			return true;
	return false;
}

/* Adds one; out of memory only means checking more processes. */
static void empty_exes__add(struct empty_exes *e, dev_t dev, ino_t ino)
{
	if (e->nr == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 32;
		void *v = realloc(e->v, cap * sizeof(*e->v));

		if (!v)
			return;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->nr].dev = dev;
	e->v[e->nr].ino = ino;
	e->nr++;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static bool is_candidate(const struct rt_process_candidates *c, pid_t pid)
{
	return bsearch(&pid, c->pids, c->nr, sizeof(pid), cmp_pid) != NULL;
}

/* Checks the new image @t, or, when @c says it maps no runtime library and
 * another process of its executable was found to hold none, only notes it
 * as checked when @c was listed (events after that still apply). */
static void check_new(struct rt_process_tracker *tr, struct tracked *t,
		      const struct rt_process_candidates *c, struct empty_exes *empty)
{
	bool plain = c && !t->proc.retries && !is_candidate(c, t->proc.pid);

	if (plain && empty_exes__has(empty, t->exe_dev, t->exe_ino)) {
		t->checked_ns = c->taken_ns;
		return;
	}
	run_check(tr, t);
	if (plain && !t->proc.found && !t->proc.retries)
		empty_exes__add(empty, t->exe_dev, t->exe_ino);
}

int rt_process_tracker__scan(struct rt_process_tracker *tr)
{
	return rt_process_tracker__scan_candidates(tr, NULL);
}

int rt_process_tracker__scan_candidates(struct rt_process_tracker *tr,
					const struct rt_process_candidates *c)
{
	struct empty_exes empty = { 0 };
	struct rt_process_table own = { 0 }, *table = c && c->table ? c->table : &own;
	struct scanned *all;
	size_t nr_all;
	int count = 0;

	if (table == &own) {
		int err = read_all(&own.all, &own.nr);

		if (err)
			return err;
	}
	all = table->all;
	nr_all = table->nr;
	for (size_t i = 0; i < tr->cap; i++)
		tr->slots[i].alive = false;
	for (size_t i = 0; i < nr_all; i++) {
		pid_t pid = all[i].pid;
		char exe[PATH_MAX];
		struct tracked *t;
		dev_t dev;
		ino_t ino;

		if (pid == getpid())
			continue;
		t = find_tracked(tr, pid);
		if (!t && tr->scope != RT_PROCESS_ALL && !is_root(tr, pid) &&
		    !(tr->scope == RT_PROCESS_TREE && in_tree(tr, all, nr_all, &all[i])))
			continue;
		if (table_exe(table, i, &dev, &ino, t ? NULL : exe, sizeof(exe)))
			continue; /* kernel thread or gone */
		if (t && (t->start_time != all[i].start || t->exe_dev != dev || t->exe_ino != ino)) {
			/* pid reused or exec'd unseen: forget the old process image */
			forget(tr, t);
			t = NULL;
			if (table_exe(table, i, &dev, &ino, exe, sizeof(exe)))
				continue;
		}
		if (!t) {
			t = track(tr, pid, all[i].start, dev, ino, exe);
			if (!t)
				continue;
			check_new(tr, t, c, &empty);
		} else if (t->proc.retries) {
			retry(tr, t);
		}
		t->alive = true;
	}
	free(own.all);
	free(empty.v);
	for (size_t i = 0; i < tr->cap;) {
		struct tracked *t = &tr->slots[i];

		/* forgetting moves a later entry into slot i: look at it again */
		if (t->proc.pid && !t->alive) {
			forget(tr, t);
			continue;
		}
		i++;
	}
	for (size_t i = 0; i < tr->cap; i++)
		count += tr->slots[i].proc.pid && tr->slots[i].proc.found;
	return count;
}
