/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rtbpf/dsocache.h"
#include "perfglue/grow.h"
#include "perfglue/safefile.h"
#include "symbolize/symbolize.h"

/* mkdir -p of @dir (modified in place and restored). */
static int make_dirs(char *dir)
{
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			*p = c;
			return -errno;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/* A path that names a place under the cache and nothing else: absolute, no
 * "." or ".." component, no control characters, not a deleted file. */
static bool path_usable(const char *path)
{
	size_t n = strlen(path);

	if (path[0] != '/' || n > 2048 || strstr(path, "/../") || strstr(path, "/./") ||
	    strstr(path, "//") || (n >= 3 && !strcmp(path + n - 3, "/..")) ||
	    (n >= 2 && !strcmp(path + n - 2, "/.")) || strstr(path, " (deleted)"))
		return false;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int copy_fd(int in, const char *to)
{
	char tmp[PATH_MAX], buf[1 << 16];
	ssize_t n;
	int out, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", to, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0)
		return -errno;
	if (lseek(in, 0, SEEK_SET) < 0)
		err = -errno;
	while (!err && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0) {
				err = -errno;
				break;
			}
			done += w;
		}
	}
	if (close(out) && !err)
		err = -errno;
	if (!err && rename(tmp, to))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/*
 * Copies the separate debug file of the build @hexid (@id, @n bytes) from
 * the process's own /usr/lib/debug/.build-id into @to, when the process's
 * root has one whose build id matches: a stripped interpreter in a container
 * is named (its eval loop's hot and cold parts included) only through it.
 * Returns 1 when copied, 0 when there is none or it does not match.
 */
static int cache_debug(pid_t pid, const char *hexid, const uint8_t *id, int n, const char *to)
{
	char path[PATH_MAX];
	uint8_t got[20];
	struct stat st;
	int fd, m, err;

	if (!lstat(to, &st))
		return 0;
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hexid, hexid + 2);
	fd = rt_safefile__open_in_root(pid, path, 0, &st);
	if (fd < 0)
		return fd == -ESRCH ? fd : 0;
	m = rt_elf__build_id_fd(fd, got, sizeof(got));
	if (m != n || memcmp(got, id, (size_t)n)) {
		close(fd);
		return 0;
	}
	err = copy_fd(fd, to);
	close(fd);
	return err ? err : 1;
}

/* Caches one mapped file (and its separate debug file, when the process's
 * root has it); 1 when copied, 0 when already there or skipped. */
static int cache_one(const char *cache, pid_t pid, uint64_t start, uint64_t end, const char *path)
{
	char hexid[41], link[PATH_MAX], dir[PATH_MAX], file[PATH_MAX], target[PATH_MAX];
	uint8_t id[20];
	struct stat st;
	int fd, n, err;

	if (!path_usable(path))
		return 0;
	fd = rt_safefile__open_mapped(pid, start, end, 0, &st);
	if (fd < 0)
		return fd == -ESRCH ? fd : 0;
	n = rt_elf__build_id_fd(fd, id, sizeof(id));
	if (n < 2) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < n; i++)
		snprintf(hexid + 2 * i, 3, "%02x", id[i]);
	if (snprintf(link, sizeof(link), "%s/.build-id/%.2s/%s", cache, hexid, hexid + 2) >=
		    (int)sizeof(link) ||
	    snprintf(dir, sizeof(dir), "%s%s/%s", cache, path, hexid) >= (int)sizeof(dir) ||
	    snprintf(file, sizeof(file), "%s/elf", dir) >= (int)sizeof(file) ||
	    snprintf(target, sizeof(target), "../..%s/%s", path, hexid) >= (int)sizeof(target)) {
		close(fd);
		return 0;
	}
	if (!lstat(link, &st)) {
		/* the binary is there (maybe under another path): its debug file
		 * may not be, when an earlier copy was made without it */
		close(fd);
		if (snprintf(file, sizeof(file), "%s/debug", link) >= (int)sizeof(file))
			return 0;
		return cache_debug(pid, hexid, id, n, file);
	}
	err = make_dirs(dir);
	if (!err && lstat(file, &st))
		err = copy_fd(fd, file);
	close(fd);
	if (err)
		return err;
	if (snprintf(file, sizeof(file), "%s/debug", dir) < (int)sizeof(file)) {
		err = cache_debug(pid, hexid, id, n, file);
		if (err == -ESRCH)
			return err;
	}
	/* the link's directory: CACHE/.build-id/xx */
	if (snprintf(dir, sizeof(dir), "%s/.build-id/%.2s", cache, hexid) >= (int)sizeof(dir))
		return 0;
	if ((err = make_dirs(dir)))
		return err;
	if (symlink(target, link) && errno != EEXIST)
		return -errno;
	return 1;
}

/* Files already looked at, by device and inode as /proc/PID/maps gives them. */
struct seen_file {
	unsigned int major, minor;
	uint64_t ino;
};

struct rt_dsocache {
	char dir[PATH_MAX];
	pthread_mutex_t lock;
	pid_t *pids;                    /* watched processes */
	size_t nr_pids, cap_pids;
	struct seen_file *seen;
	size_t nr_seen, cap_seen;
};

static bool seen_before(const struct rt_dsocache *c, const struct seen_file *f)
{
	for (size_t i = 0; c && i < c->nr_seen; i++)
		if (c->seen[i].ino == f->ino && c->seen[i].major == f->major &&
		    c->seen[i].minor == f->minor)
			return true;
	return false;
}

static int cache_dir_of(const char *cache_dir, char *out, size_t size)
{
	const char *home = getenv("HOME");

	if (cache_dir)
		snprintf(out, size, "%s", cache_dir);
	else if (home && home[0] == '/')
		snprintf(out, size, "%s/.debug", home);
	else
		return -ENOENT;
	return 0;
}

/*
 * One pass over @pid's executable file mappings into @cache; files @c
 * has seen are skipped, and files looked at are added to it (@c may be
 * NULL).  A mapping that vanished between reading the maps and opening it
 * (the dynamic loader is still at work) is left for the next pass.
 * Returns the number copied, or -errno (-ESRCH: the process is gone).
 */
static int scan_process(struct rt_dsocache *c, const char *cache, pid_t pid)
{
	char maps[64], line[4096 + 256], last[4096] = "";
	int copied = 0;
	ssize_t len;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((len = rt_safefile__getline(f, line, sizeof(line))) != -1) {
		struct seen_file file;
		uint64_t start, end;
		char perms[8];
		int pos = 0, err;

		if (len < 0 || sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %x:%x %" SCNu64 " %n",
				      &start, &end, perms, &file.major, &file.minor, &file.ino,
				      &pos) != 6 || !pos || perms[2] != 'x' || line[pos] != '/')
			continue;
		/* a file maps several times in a row: look at it once */
		if (!strcmp(line + pos, last) || seen_before(c, &file))
			continue;
		snprintf(last, sizeof(last), "%s", line + pos);
		err = cache_one(cache, pid, start, end, line + pos);
		if (err == -ESRCH) {
			if (kill(pid, 0) && errno == ESRCH) {
				fclose(f);
				return err;
			}
			continue;
		}
		if (err > 0)
			copied++;
		if (c && !RT_ARRAY_GROW(c->seen, c->cap_seen, c->nr_seen + 1, 64))
			c->seen[c->nr_seen++] = file;
	}
	fclose(f);
	return copied;
}

int rt_dsocache__add_process(const char *cache_dir, pid_t pid)
{
	char cache[PATH_MAX];
	int err = cache_dir_of(cache_dir, cache, sizeof(cache));

	return err ? err : scan_process(NULL, cache, pid);
}

struct rt_dsocache *rt_dsocache__new(const char *cache_dir)
{
	struct rt_dsocache *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	err = cache_dir_of(cache_dir, c->dir, sizeof(c->dir));
	if (err) {
		free(c);
		errno = -err;
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void rt_dsocache__free(struct rt_dsocache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->pids);
	free(c->seen);
	free(c);
}

int rt_dsocache__watch(struct rt_dsocache *c, pid_t pid)
{
	size_t i;
	int n;

	if (!rt_dsocache__foreign_root(pid))
		return 0;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nr_pids && c->pids[i] != pid; i++)
		;
	if (i == c->nr_pids && !RT_ARRAY_GROW(c->pids, c->cap_pids, c->nr_pids + 1, 16))
		c->pids[c->nr_pids++] = pid;
	n = scan_process(c, c->dir, pid);
	pthread_mutex_unlock(&c->lock);
	return n;
}

void rt_dsocache__forget(struct rt_dsocache *c, pid_t pid)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nr_pids; i++)
		if (c->pids[i] == pid)
			c->pids[i--] = c->pids[--c->nr_pids];
	pthread_mutex_unlock(&c->lock);
}

int rt_dsocache__rescan(struct rt_dsocache *c)
{
	int copied = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nr_pids; i++) {
		int n = scan_process(c, c->dir, c->pids[i]);

		if (n == -ESRCH)
			c->pids[i--] = c->pids[--c->nr_pids];
		else if (n > 0)
			copied += n;
	}
	pthread_mutex_unlock(&c->lock);
	return copied;
}

bool rt_dsocache__foreign_root(pid_t pid)
{
	char root[64], ns[64];
	struct stat a, b;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
	if (!stat(root, &a) && !stat("/", &b) && (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
		return true;
	return !stat(ns, &a) && !stat("/proc/self/ns/mnt", &b) && a.st_ino != b.st_ino;
}
