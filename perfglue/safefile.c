/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "perfglue/safefile.h"

/* Turns an O_PATH descriptor into a readable one once fstat has shown a
 * regular file: reopening through /proc/self/fd names the same inode, so
 * nothing can be swapped in between the check and the open. */
static int reopen_checked(int pathfd, uint64_t max_size, struct stat *out)
{
	char link[64];
	struct stat st;
	int fd;

	if (fstat(pathfd, &st) < 0) {
		fd = -errno;
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		fd = -ELOOP;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fd = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > (max_size ? max_size : RT_SAFEFILE_MAX_SIZE)) {
		fd = -EFBIG;
		goto out;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", pathfd);
	fd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		fd = -errno;
	else if (out)
		*out = st;
out:
	close(pathfd);
	return fd;
}

int rt_safefile__open(int dirfd, const char *path, uint64_t max_size, struct stat *st)
{
	int pathfd = openat(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (pathfd < 0)
		return -errno;
	return reopen_checked(pathfd, max_size, st);
}

int rt_safefile__open_root(pid_t pid)
{
	char root[64];
	int rootfd;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return rootfd;
}

int rt_safefile__open_at_root(int rootfd, const char *path, uint64_t max_size, struct stat *st)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int pathfd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	if (pathfd < 0)
		return -errno;
	return reopen_checked(pathfd, max_size, st);
}

int rt_safefile__open_in_root(pid_t pid, const char *path, uint64_t max_size, struct stat *st)
{
	int rootfd = rt_safefile__open_root(pid), fd;

	if (rootfd < 0)
		return rootfd;
	fd = rt_safefile__open_at_root(rootfd, path, max_size, st);
	close(rootfd);
	return fd;
}

int rt_safefile__open_mapped(pid_t pid, uint64_t start, uint64_t end, uint64_t max_size,
			     struct stat *st)
{
	char path[96];
	int pathfd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)start, (unsigned long long)end);
	pathfd = rt_safefile__open_proc_link(path, max_size, st);
	return pathfd == -ENOENT ? -ESRCH : pathfd;
}

int rt_safefile__open_proc_link(const char *path, uint64_t max_size, struct stat *st)
{
	/* Magic links: O_PATH follows them to the file itself, which
	 * reopen_checked then checks like any other (O_PATH never blocks). */
	int pathfd = open(path, O_PATH | O_CLOEXEC);

	if (pathfd < 0)
		return -errno;
	return reopen_checked(pathfd, max_size, st);
}

FILE *rt_safefile__create(const char *path)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (geteuid() == 0 ? O_NOFOLLOW : 0);
	int fd = open(path, flags, 0666);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		int err = errno;

		close(fd);
		errno = err;
	}
	return f;
}

bool rt_safefile__owner_trusted(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

void *rt_safefile__map(int fd, const struct stat *st, size_t size)
{
	uint8_t *p;
	size_t done = 0;

	if (rt_safefile__owner_trusted(st)) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	while (done < size) {
		ssize_t got = pread(fd, p + done, size - done, (off_t)done);

		if (got <= 0) {
			int err = got < 0 ? errno : EIO;

			munmap(p, size);
			errno = err;
			return NULL;
		}
		done += (size_t)got;
	}
	return p;
}

ssize_t rt_safefile__getline(FILE *f, char *buf, size_t cap)
{
	size_t len = 0;
	bool too_long = false;
	int c;

	if (!cap)
		return -EINVAL;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (len + 1 < cap)
			buf[len++] = (char)c;
		else
			too_long = true;
	}
	buf[too_long ? 0 : len] = '\0';
	if (c == EOF && !len && !too_long)
		return -1;
	return too_long ? -E2BIG : (ssize_t)len;
}

size_t rt_safefile__sanitize(char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			*s = '?';
			n++;
		}
	}
	return n;
}
