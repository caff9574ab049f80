/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dsocache: copies the files a process maps executable into perf's build-id
 * cache ($HOME/.debug by default), read through the process itself, so that
 * rtmerge finds them by build id after the process, and its container's
 * root directory, are gone.  perf record does that for host files at the
 * end of a recording, but not for a process that ran in another mount
 * namespace and has exited by then, and not at all with --buildid-mmap.
 */
#ifndef RT_RTBPF_DSOCACHE_H
#define RT_RTBPF_DSOCACHE_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Copies each executable file mapping of process @pid not yet in the cache
 * at @cache_dir (NULL: $HOME/.debug) in perf's layout:
 * CACHE/<path>/<build id>/elf and the link CACHE/.build-id/xx/<rest> to its
 * directory, <path> being the file as /proc/PID/maps names it.  Files are
 * opened through /proc/PID/map_files (the mapped file itself, in whatever
 * mount namespace) and named by the build id read from that same file;
 * files without one are skipped.  A file's separate debug file, when the
 * process's root has one for its build id under /usr/lib/debug/.build-id,
 * goes beside it as CACHE/<path>/<build id>/debug.  Returns the number of
 * files copied, or
 * -errno (-ESRCH when the process is gone).
 */
int rt_dsocache__add_process(const char *cache_dir, pid_t pid);

/*
 * A watcher of container processes: a process keeps mapping files after
 * it was found (the dynamic loader's libraries, then dlopen'd extensions
 * such as Ruby's zlib.so with its libz), so each watched process is looked
 * at again on every rt_dsocache__rescan() until it is gone.  Files already
 * looked at are remembered by device and inode and not opened again.  Safe
 * to call from several threads.
 */
struct rt_dsocache;

/* A watcher filling @cache_dir (NULL: $HOME/.debug).  NULL with errno set
 * (ENOENT: no cache directory known). */
struct rt_dsocache *rt_dsocache__new(const char *cache_dir);
void rt_dsocache__free(struct rt_dsocache *c);
/* Watches process @pid when it runs in another root or mount namespace
 * (rt_dsocache__foreign_root), caching its files now.  Returns the number
 * of files copied (0 for a host process), or -errno. */
int rt_dsocache__watch(struct rt_dsocache *c, pid_t pid);
/* Stops watching @pid (gone, or another program now). */
void rt_dsocache__forget(struct rt_dsocache *c, pid_t pid);
/* Caches what the watched processes mapped since they were last looked at,
 * and forgets those that are gone.  Returns the number of files copied. */
int rt_dsocache__rescan(struct rt_dsocache *c);

/* True when process @pid sees another root directory or mount namespace
 * than this process: its files are not at their paths here. */
bool rt_dsocache__foreign_root(pid_t pid);

#endif
