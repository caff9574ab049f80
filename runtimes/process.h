/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process inspection that the CPython (python/inspect.c) and CRuby (ruby/inspect.c)
 * support share: reading a process's memory, finding the ELF file mapped
 * into it that defines a runtime's symbols (and where it is loaded), and a
 * tracker that learns of processes in scope from process events (exec,
 * fork, exit, a runtime library mapped) and from full /proc scans, hands
 * each new process image to a runtime's check once and reports the ones it
 * found when they go.
 */
#ifndef RT_RUNTIMES_PROCESS_H
#define RT_RUNTIMES_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads @len bytes at @addr of process @pid.  Returns 0 or -errno (-EFAULT
 * for a short read).
 */
int rt_process__read(pid_t pid, uint64_t addr, void *buf, size_t len);

/*
 * Parses a /proc/PID/maps line in place; *@path points at the rest of the
 * line (it may hold spaces), without its newline.  False for lines without
 * a path (anonymous memory) or not in the format.
 */
bool rt_process__parse_maps_line(char *line, unsigned long *start, unsigned long *end,
				 unsigned long *offset, char **path);

/* A symbol to look up in an ELF file's .symtab and .dynsym. */
struct rt_process_symbol {
	const char *name;
	int type; /* STT_* the symbol must have, or -1 for any */
};

#define RT_PROCESS_SYMBOLS_MAX 8

/* A candidate ELF image, as rt_process__find_image() offers it; every
 * pointer is valid during the call only. */
struct rt_process_image {
	pid_t pid;
	const char *exe;        /* target of /proc/PID/exe */
	const char *path;       /* the file as /proc/PID/maps names it */
	const char *file;       /* /proc/PID/map_files/START-END: the mapped file
				 * itself, also across mount namespaces */
	uint64_t bias;          /* a symbol's address in the process: bias + st_value */
	const uint64_t *values; /* st_value of each symbol asked for, 0 when absent */
	uint64_t start, end;    /* the mapping of its file offset 0 */
};

/*
 * What rt_process__find_image() read from ELF files, kept by the file's
 * identity (device, inode, size, modification time) and the symbol list
 * asked for: the same executable or library in many processes, or one
 * process checked again, is read once.  Owned by its user (rt-bpf keeps
 * one for all its trackers); safe to share between threads.
 */
struct rt_image_cache;

/* Creates an empty cache.  Returns NULL and sets errno on failure. */
struct rt_image_cache *rt_image_cache__new(void);

/* Frees the cache.  NULL is a no-op. */
void rt_image_cache__free(struct rt_image_cache *cache);

struct rt_process_image_opts {
	struct rt_image_cache *cache; /* where files' symbols are kept; NULL: none */
	const char *lib_name; /* besides the executable, files whose base name contains this */
	const struct rt_process_symbol *syms; /* at most RT_PROCESS_SYMBOLS_MAX */
	size_t nr_syms;
	/* true when @values (one per symbol) make the file a candidate */
	bool (*has_symbols)(const uint64_t *values);
	/* 0 takes @image and ends the search; nonzero looks on */
	int (*take)(void *ctx, const struct rt_process_image *image);
	void *ctx;
};

/*
 * Looks through the files mapped from offset 0 into process @pid, in the
 * order of /proc/PID/maps, for the runtime's image: its executable or a
 * library named like @opts->lib_name whose .symtab or .dynsym has the
 * symbols @opts->has_symbols wants.  Each one is offered to @opts->take.
 * Returns 0 when one was taken, -ENOENT when none was, -ESRCH when the
 * process is gone, -EINVAL for too many symbols, another -errno (-EACCES,
 * -EPERM) when it cannot be looked at.
 */
int rt_process__find_image(pid_t pid, const struct rt_process_image_opts *opts);

enum rt_process_scope {
	RT_PROCESS_ALL,  /* every process */
	RT_PROCESS_PID,  /* only the given pids */
	RT_PROCESS_TREE, /* the given pids and their descendants */
};

/* Retries of a process whose runtime may not be mapped yet are spaced from
 * RT_PROCESS_RETRY_FIRST_MS, doubling, to RT_PROCESS_RETRY_MAX_MS apart: a
 * runtime library mapped or a VM booted just after exec is seen within
 * milliseconds, a slow one still within the retries' span. */
#define RT_PROCESS_RETRY_FIRST_MS 2
#define RT_PROCESS_RETRY_MAX_MS   100

/* A process image a tracker looks at, as its check callback sees it. */
struct rt_tracked_process {
	pid_t pid;
	bool found;           /* runs the runtime sought: set by check; gone is
			       * called when the process ends or execs */
	unsigned int retries; /* later retries on which check runs again (from
			       * 2 ms to 100 ms apart, and one on each full
			       * scan); check may change it */
	void *state;          /* ops' state_size bytes, zeroed for a new process
			       * image (and for a check after one that left it
			       * not found without retries: the state is freed
			       * then); NULL when state_size is 0 */
};

struct rt_process_tracker_ops {
	const char *exe_name;  /* a new process whose executable's name contains this... */
	unsigned int retries;  /* ...starts with this many retries (its runtime may not
				* be mapped yet), any other with none */
	size_t state_size;
	/* Looks at @proc: when its image is new, when it maps a runtime
	 * library while not found, then on each retry while it has retries
	 * left (each retry takes one first). */
	void (*check)(void *ctx, struct rt_tracked_process *proc);
	/* A process check had found ended or exec'd. */
	void (*gone)(void *ctx, pid_t pid);
	void *ctx;
};

struct rt_process_tracker;

/*
 * Creates a tracker over @scope with @nr_pids roots in @pids (copied) and
 * callbacks @ops (copied).  Returns NULL and sets errno on failure.
 */
struct rt_process_tracker *rt_process_tracker__new(enum rt_process_scope scope, const pid_t *pids,
						   size_t nr_pids,
						   const struct rt_process_tracker_ops *ops);

/*
 * Rescans /proc in full: checks new process images (and images changed
 * without an event: pid reused, exec), retries those with retries left,
 * reports the found ones that went.  Returns the number of processes found
 * and still tracked, or -errno.  One /proc read per process plus one
 * stat() per process in scope; checks only for new images.
 */
int rt_process_tracker__scan(struct rt_process_tracker *tr);

/*
 * Every process's parent, start time and executable, read once for the
 * full scans of several trackers (one per runtime) that run one after the
 * other: each would otherwise read the same /proc files again.  The
 * executables are read when a scan first asks for them.
 */
struct rt_process_table;

/* Reads the processes of /proc; NULL with errno set. */
struct rt_process_table *rt_process_table__read(void);

/* One process as a kernel listing gives it (rt-bpf's task iterator). */
struct rt_process_row {
	pid_t pid, ppid;
	unsigned long long start_ns; /* ns after boot */
	uint64_t exe; /* the executable's identity within the listing (equal
		       * for processes running one file), 0 for none (kernel
		       * thread) */
};

/*
 * The table from a kernel listing of @nr @rows (any order) instead of
 * /proc: only one process per executable is stat()ed, and the others
 * running the same file take its identity and path.  NULL with errno set.
 */
struct rt_process_table *rt_process_table__from_rows(const struct rt_process_row *rows, size_t nr);

void rt_process_table__free(struct rt_process_table *t);

/* What narrows a full scan: the processes that map a runtime library. */
struct rt_process_candidates {
	const pid_t *pids; /* sorted: the processes mapping a file whose base name
			    * starts with a runtime's library name (libpython,
			    * libruby) */
	size_t nr;
	uint64_t taken_ns; /* CLOCK_BOOTTIME just before they were listed */
	/* the processes as read for this round of scans; NULL: the scan
	 * reads them itself */
	struct rt_process_table *table;
};

/*
 * rt_process_tracker__scan(), which checks every new process image (its
 * maps read), reading only what @c does not answer: a new image outside
 * @c with no retries (its executable not named like the runtime's) whose
 * executable another such process of this scan was found not to hold a
 * runtime in is noted as checked at @c->taken_ns, unread.  @c NULL: a
 * plain scan.  A library mapped after @c was listed comes as an event.
 */
int rt_process_tracker__scan_candidates(struct rt_process_tracker *tr,
					const struct rt_process_candidates *c);

enum rt_process_event_type {
	RT_PROCESS_EXEC,   /* pid runs a new image */
	RT_PROCESS_FORK,   /* pid is a new process, a child of ppid */
	RT_PROCESS_EXIT,   /* pid ended */
	RT_PROCESS_MAPPED, /* pid mapped a library that may hold a runtime */
};

/* What the kernel told about a process (bpf/discovery.bpf.c). */
struct rt_process_event {
	enum rt_process_event_type type;
	pid_t pid;
	pid_t ppid;        /* FORK: the parent */
	uint64_t time_ns;  /* when, CLOCK_BOOTTIME */
	uint64_t start_ns; /* EXEC, FORK: the process's start, ns after boot; 0 unknown */
};

/*
 * Applies @ev: a new image in scope is checked at once (a forked child of a
 * process known to be no runtime's is only noted), an ended one forgotten
 * (reported gone when found), a mapping makes a not-found process checked
 * again.  Events older than the process's last check change nothing.
 */
void rt_process_tracker__event(struct rt_process_tracker *tr, const struct rt_process_event *ev);

/*
 * Checks the processes whose next retry is due.  Returns the milliseconds
 * until the next one is, or -1 when no process has retries left.
 */
int rt_process_tracker__retry(struct rt_process_tracker *tr);

/* Frees the tracker.  NULL is a no-op. */
void rt_process_tracker__free(struct rt_process_tracker *tr);

#endif
