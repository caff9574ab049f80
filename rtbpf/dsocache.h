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

/* True when process @pid sees another root directory or mount namespace
 * than this process: its files are not at their paths here. */
bool rt_dsocache__foreign_root(pid_t pid);

#endif
