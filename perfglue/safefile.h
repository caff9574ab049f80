/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * safefile: the one door through which rtperf opens files that someone else
 * controls: files a target process maps (its container may have planted
 * them), perf maps any local user can write, ELF and debug files named in a
 * perf.data handed over by others.
 *
 * Every open goes through O_PATH first, so a FIFO or a device is looked at
 * with fstat and refused without ever being opened for reading (an open of a
 * FIFO blocks, an open of a device can have side effects); the final path
 * component is never followed when it is a symbolic link; only regular
 * files come back, no larger than a cap the caller chooses.
 *
 * Paths a target names are never resolved on the host: a target's files are
 * reached through /proc/PID/map_files (the mapped file itself) or inside
 * /proc/PID/root with openat2(RESOLVE_IN_ROOT), so an absolute path or a
 * "../.." chain cannot leave the target's root.
 */
#ifndef RT_SAFEFILE_H
#define RT_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Default size cap: larger than any ELF or perf map rtperf expects. */
#define RT_SAFEFILE_MAX_SIZE (8ull << 30)

/*
 * Opens @path (relative to @dirfd, or AT_FDCWD) for reading: regular files
 * only, the last component not followed if it is a symbolic link, at most
 * @max_size bytes (0: RT_SAFEFILE_MAX_SIZE).  Fills @st when not NULL.
 * Returns a file descriptor (O_CLOEXEC) or -errno: -ELOOP for a symbolic
 * link, -EINVAL for a FIFO, socket, device or directory, -EFBIG past the cap.
 */
int rt_safefile__open(int dirfd, const char *path, uint64_t max_size, struct stat *st);

/*
 * Opens @path as process @pid sees it: resolved inside /proc/PID/root, so
 * absolute paths, ".." and symbolic links stay within the process's root
 * directory (its container), and never through /proc magic links.  Same
 * checks and returns as rt_safefile__open(); -ESRCH when the process is gone.
 */
int rt_safefile__open_in_root(pid_t pid, const char *path, uint64_t max_size, struct stat *st);

/*
 * Opens process @pid's root directory (/proc/PID/root) as an O_PATH
 * descriptor, to open its files later with rt_safefile__open_at_root(),
 * also after the process has exited.  Returns the descriptor or -errno
 * (-ESRCH when the process is gone).
 */
int rt_safefile__open_root(pid_t pid);

/*
 * Opens @path inside the root directory @rootfd (rt_safefile__open_root):
 * resolved as rt_safefile__open_in_root() does.  Same checks and returns
 * as rt_safefile__open().
 */
int rt_safefile__open_at_root(int rootfd, const char *path, uint64_t max_size, struct stat *st);

/*
 * Opens the file that process @pid maps at [@start, @end) through
 * /proc/PID/map_files: the very file mapped, in whatever mount namespace.
 * Same checks and returns as rt_safefile__open().
 */
int rt_safefile__open_mapped(pid_t pid, uint64_t start, uint64_t end, uint64_t max_size,
			     struct stat *st);

/*
 * Opens @path following every symbolic link, for the kernel's own links in
 * /proc (a /proc/PID/map_files entry names the mapped file in whatever
 * mount namespace): never for a path someone else wrote.  Same checks and
 * returns as rt_safefile__open().
 */
int rt_safefile__open_proc_link(const char *path, uint64_t max_size, struct stat *st);

/*
 * Creates or truncates @path for writing ("w").  Run as root, an existing
 * symbolic link there is refused (ELOOP) rather than followed: in a shared
 * directory another user could point it at any file root may write.
 * Returns the stream, or NULL with errno set.
 */
FILE *rt_safefile__create(const char *path);

/*
 * Whether the owner of the file @st describes can be trusted not to
 * truncate it while rtperf maps it (a mapping past a file's new end raises
 * SIGBUS): root and the user running rtperf.  Files of anyone else are
 * read, not mapped.
 */
bool rt_safefile__owner_trusted(const struct stat *st);

/*
 * The first @size bytes of the regular file @fd, writable and private
 * (changes never reach the file): mapped when its owner is trusted (see
 * rt_safefile__owner_trusted), else read into anonymous memory, so that a
 * truncation cannot raise SIGBUS.  Release with munmap(ptr, size).  Returns
 * the memory, or NULL with errno set (EIO when the file ended early).
 */
void *rt_safefile__map(int fd, const struct stat *st, size_t size);

/*
 * Reads one line of at most @cap - 1 bytes from @f into @buf, without the
 * newline, NUL-terminated.  A longer line is consumed to its end and
 * reported as too long, so a file without newlines cannot grow memory.
 * Returns the line's length, -E2BIG for a line that was too long (its
 * content is dropped), -1 at the end of the file.
 */
ssize_t rt_safefile__getline(FILE *f, char *buf, size_t cap);

/*
 * Replaces in @s, in place, each byte a line-oriented output would misread:
 * control characters (newline, tab, carriage return, escape and the rest of
 * 0x00-0x1f, 0x7f) become '?'.  Returns the number of bytes replaced.
 */
size_t rt_safefile__sanitize(char *s);

#endif
