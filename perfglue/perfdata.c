/* SPDX-License-Identifier: GPL-2.0-only */
#include "perfglue/perfdata.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "perfglue/hash.h"
#include "perfglue/safefile.h"

#define PERF_MAGIC2 0x32454c4946524550ULL	/* "PERFILE2" little endian */
#define PERF_MAGIC2_SWAPPED 0x50455246494c4532ULL
#define FILE_HEADER_SIZE 104
#define PIPE_HEADER_SIZE 16
#define MAX_RECORD_SIZE 65536U		/* header.size is 16 bits */
#define MAX_ATTR_SIZE 4096U
#define MAX_EVENTS 4096U
#define MAX_IDS (1U << 22)
#define MAX_FEATURE_SIZE (256U << 20)
/* The ordering queue holds at most this many records or arena bytes: a
 * file without FINISHED_ROUND records cannot make rtmerge hold all of it. */
#define MAX_QUEUED (1U << 22)
#define MAX_QUEUED_BYTES (1ULL << 30)
#define READ_CHUNK (1U << 20)
#define MAP_WINDOW (8U << 20)      /* file mode: data is read through a moving mapping */
#define COPY_WINDOW (4U << 20)     /* ... or read ahead into buffers by a worker */
#define COPY_PIECE (512U << 10)    /* ... in pieces, so that a waiting reader can help */
#define COPY_BUFFERS 3
#define COPY_MIN (32U << 20)       /* the data size from which that is the default */

enum {
	FEAT_TRACING_DATA = 1, FEAT_BUILD_ID, FEAT_HOSTNAME, FEAT_OSRELEASE, FEAT_VERSION,
	FEAT_ARCH, FEAT_NRCPUS, FEAT_CPUDESC, FEAT_CPUID, FEAT_TOTAL_MEM, FEAT_CMDLINE,
	FEAT_EVENT_DESC, FEAT_CPU_TOPOLOGY, FEAT_NUMA_TOPOLOGY, FEAT_BRANCH_STACK,
	FEAT_PMU_MAPPINGS, FEAT_GROUP_DESC, FEAT_AUXTRACE, FEAT_STAT, FEAT_CACHE,
	FEAT_SAMPLE_TIME, FEAT_MEM_TOPOLOGY, FEAT_CLOCKID, FEAT_DIR_FORMAT,
	FEAT_BPF_PROG_INFO, FEAT_BPF_BTF, FEAT_COMPRESSED, FEAT_CPU_PMU_CAPS, FEAT_CLOCK_DATA,
	FEAT_HYBRID_TOPOLOGY, FEAT_PMU_CAPS,
	FEAT_BITS = 256,
};

struct file_section {
	uint64_t offset, size;
};

struct file_header {
	uint64_t magic, size, attr_size;
	struct file_section attrs, data, event_types;
	uint64_t features[FEAT_BITS / 64];
};

/* A record waiting in the time-ordering queue. */
struct queued {
	uint64_t time;
	uint64_t seq;
	uint64_t file_offset;
	size_t arena_offset;
	const uint8_t *mapped;      /* the record in the file mapping, or NULL: in the arena */
	uint32_t size;
};

struct id_slot {
	uint64_t id;
	int evsel;      /* -1 empty */
};

struct evsel_priv {
	struct rt_perf_evsel pub;
	uint64_t *ids;
	char *name;
	int id_pos;     /* u64 index of the id in a sample, -1 none */
	int is_pos;     /* u64 index from the end of a non-sample record, -1 */
	size_t trailer_size;
};

struct rt_perf_reader {
	/* the TRACING_DATA feature section (tracepoint formats), read on demand */
	uint64_t tracing_offset, tracing_size;
	char *path;
	int fd;
	bool pipe;
	bool is_stdin;
	bool swapped;
	uint64_t file_size;

	/* Streaming buffer over [data_start, data_end): in file mode a window
	 * of the file mapped read-only (no copies: a --call-graph dwarf sample
	 * is 8 KiB of which the unwinder reads a little), else read into heap. */
	uint8_t *map;
	size_t map_len;
	bool no_map;
	/* With a second CPU, a worker thread keeps the next window mapped and
	 * its pages faulted in before the reader gets there, and unmaps the
	 * windows the reader is done with (see window_fill()). */
	struct prefault *prefault;
	bool prefault_on;
	bool copy;                  /* the worker reads windows into buffers instead */
	bool map_is_buffer;         /* map is one of the worker's buffers, not a mapping */
	const uint32_t *index;      /* big records of the window (copy mode), to load ahead */
	const uint32_t *nr_index;   /* entries so far, or NULL */
	uint32_t index_pos;         /* the first entry not behind the reader */
	uint32_t index_next;        /* the first entry not loaded yet */
	uint8_t *heap_buf;
	uint8_t *buf;
	size_t buf_len, buf_pos;
	uint64_t buf_file_offset;   /* file offset of buf[0] */
	uint64_t data_start, data_end; /* data_end = UINT64_MAX in pipe mode */
	bool eof;

	/* Each event is allocated on its own: callers keep pointers to events
	 * while later attribute records (pipe mode) grow this array. */
	struct evsel_priv **evsels;
	size_t nr_evsels;
	uint64_t nr_ids_total;      /* ids kept over all events, at most MAX_IDS */
	struct id_slot *id_table;
	size_t id_table_size;       /* power of two */
	size_t nr_id_entries;

	/* Feature data. */
	struct rt_perf_header_info info;
	char **cmdline;
	struct rt_perf_build_id *build_ids;
	size_t build_ids_cap;
	char **strings;             /* owned strings, freed at close */
	size_t nr_strings, strings_cap;

	/* Ordering queue. */
	struct queued *queue;
	size_t queue_len, queue_cap;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint8_t *spare;             /* second arena, for compaction */
	size_t spare_cap;
	struct queued *queue_tmp;   /* merge scratch */
	size_t queue_tmp_cap;
	uint64_t seq;
	uint64_t last_flush_time;
	uint64_t round_max_time;    /* largest time seen in the current round */
	uint64_t prev_round_max;
	bool ordered;

	struct rt_perf_reader_stats stats;
	char error[512];
};

static int set_error(struct rt_perf_reader *r, int err, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_error(struct rt_perf_reader *r, int err, uint64_t offset, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (offset == UINT64_MAX)
		snprintf(r->error, sizeof(r->error), "%s: %s", r->path, msg);
	else
		snprintf(r->error, sizeof(r->error), "%s: offset %" PRIu64 ": %s", r->path, offset, msg);
	return -err;
}

static char *own_string(struct rt_perf_reader *r, const char *s, size_t len)
{
	char *copy;

	if (r->nr_strings == r->strings_cap) {
		size_t cap = r->strings_cap ? r->strings_cap * 2 : 32;
		char **n = realloc(r->strings, cap * sizeof(*n));

		if (!n)
			return NULL;
		r->strings = n;
		r->strings_cap = cap;
	}
	copy = strndup(s, len);
	if (copy)
		r->strings[r->nr_strings++] = copy;
	return copy;
}

/* ---- low-level I/O ---------------------------------------------------- */

static int read_full_at(struct rt_perf_reader *r, void *dst, size_t size, uint64_t offset)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(r->fd, (char *)dst + done, size - done, (off_t)(offset + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return set_error(r, errno, offset + done, "read failed: %s", strerror(errno));
		}
		if (n == 0)
			return set_error(r, EINVAL, offset + done,
					 "file ends inside a section (truncated perf.data?)");
		done += (size_t)n;
	}
	return 0;
}

/* Read from a pipe/stdin exactly size bytes; returns bytes read (< size at EOF). */
static ssize_t read_stream(int fd, void *dst, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, (char *)dst + done, size - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * Make at least `need` bytes available at buf_pos.  Returns 1 when they are,
 * 0 at a clean end of data with nothing pending, and -errno on error or when
 * the data ends inside a record.
 */
static int evacuate_queue(struct rt_perf_reader *r);

/* ---- window worker ------------------------------------------------------ */

#define MAX_RECORD_OVERLAP (1U << 16) /* a record is at most 64 KiB */
#define UNMAP_SLOTS 4
#define STACK_WALK 1024 /* bytes of each stack copy loaded ahead */
#define INDEX_MIN_RECORD 1024U
#define INDEX_MAX (COPY_WINDOW / INDEX_MIN_RECORD)

struct window {
	uint8_t *map;
	size_t len;
	uint64_t start;         /* file offset of map[0] */
	/* Copy mode: offsets in map of the records of INDEX_MIN_RECORD bytes or
	 * more, for the reader to load ahead (the others are near each other). */
	const uint32_t *index;
	const uint32_t *nr_index; /* entries so far, written by the worker as it walks */
};

struct prefault {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, drained;
	int fd;
	uint64_t data_end;
	uint32_t stack_user;    /* sample_stack_user of every event with stack copies, or 0 */
	/* under lock */
	bool stop;
	uint64_t seq;           /* bumped by the reader at each window change */
	bool have_work;
	struct window current;  /* the reader's window: premap the one after it */
	size_t first;           /* walk current from here unless already walked */
	bool walked;
	struct window unmap[UNMAP_SLOTS];
	int nr_unmap;
	struct window next;     /* premapped and walked, map NULL if none */
	/* Copy mode: windows are COPY_BUFFERS heap buffers the worker preads
	 * into, as many windows ahead of the reader as buffers are free. */
	bool copy;
	uint8_t *bufs;          /* the buffers, COPY_WINDOW bytes each */
	uint32_t *indexes;      /* and their record indexes, INDEX_MAX entries each */
	uint32_t nr_indexed[COPY_BUFFERS]; /* entries in each index (atomic) */
	/* under lock */
	uint8_t *free_bufs[COPY_BUFFERS];
	int nr_free;
	bool walking;           /* the worker is indexing the reader's window */
	struct window ahead[COPY_BUFFERS]; /* windows read ahead, in file order */
	int nr_ahead;
	/* The window being read ahead (fill.map NULL if none), in pieces that
	 * the worker and, when it gets there first, the reader claim in turn. */
	struct window fill;
	uint32_t pieces, claimed, done;
	int fill_err;
	bool fill_dropped;      /* the reader wants another window: discard it */
};

/* pread exactly len bytes at offset: 0, or -errno (-EINVAL if the file ends). */
static int pread_full(int fd, uint8_t *dst, size_t len, uint64_t offset)
{
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EINVAL;
		dst += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Where the window after w starts, so that it holds whole any record that
 * crosses w's end; false if w reaches the end of the data. */
static bool window_after(const struct prefault *pf, const struct window *w, size_t max,
			 struct window *next)
{
	if (w->start + w->len >= pf->data_end || w->len <= MAX_RECORD_OVERLAP)
		return false;
	next->start = w->start + w->len - MAX_RECORD_OVERLAP;
	next->len = pf->data_end - next->start;
	if (next->len > max)
		next->len = max;
	return true;
}

/* Indexes the records of w from offset first (a record boundary) on, for the
 * reader working through w at the same time: each entry is published as
 * soon as it is written.  A corrupted size ends the walk. */
static void index_walk(const struct window *w, size_t first, uint32_t *index, uint32_t *nr)
{
	const uint8_t *p = w->map + first, *end = w->map + w->len;
	struct perf_event_header h;
	uint32_t n = 0;

	for (; p + sizeof(h) <= end && n < INDEX_MAX; p += h.size) {
		memcpy(&h, p, sizeof(h));
		if (h.size < sizeof(h) || p + h.size > end)
			break;
		if (h.size >= INDEX_MIN_RECORD) {
			index[n++] = (uint32_t)(p - w->map);
			__atomic_store_n(nr, n, __ATOMIC_RELEASE);
		}
	}
}

static size_t buffer_id(const struct prefault *pf, const uint8_t *buf)
{
	return (size_t)(buf - pf->bufs) / COPY_WINDOW;
}

/* A free buffer, its index emptied (under lock; one is always free). */
static uint8_t *take_buffer(struct prefault *pf, struct window *w)
{
	size_t id;

	w->map = pf->free_bufs[--pf->nr_free];
	id = buffer_id(pf, w->map);
	w->index = pf->indexes + id * INDEX_MAX;
	w->nr_index = &pf->nr_indexed[id];
	__atomic_store_n(&pf->nr_indexed[id], 0, __ATOMIC_RELEASE);
	return w->map;
}

/* Claims and reads pieces of the window being read ahead until none is left
 * (called and returning with the lock held); the last piece done queues the
 * window for the reader. */
static void fill_pieces(struct prefault *pf, bool worker)
{
	/* The worker stops between pieces to index a new reader window first. */
	while (pf->fill.map && pf->claimed < pf->pieces && !pf->stop &&
	       !(worker && pf->have_work)) {
		size_t off = (size_t)pf->claimed++ * COPY_PIECE;
		size_t len = pf->fill.len - off < COPY_PIECE ? pf->fill.len - off : COPY_PIECE;
		uint8_t *dst = pf->fill.map + off;
		uint64_t at = pf->fill.start + off;
		int err;

		pthread_mutex_unlock(&pf->lock);
		err = pread_full(pf->fd, dst, len, at);
		pthread_mutex_lock(&pf->lock);
		if (err)
			pf->fill_err = err;
		if (++pf->done == pf->pieces) {
			if (pf->fill_err || pf->fill_dropped)
				pf->free_bufs[pf->nr_free++] = pf->fill.map;
			else
				pf->ahead[pf->nr_ahead++] = pf->fill;
			pf->fill.map = NULL;
			pthread_cond_broadcast(&pf->drained);
			pthread_cond_signal(&pf->wake);
		}
	}
}

/* The window after the last one read ahead, else after the reader's (under lock). */
static bool window_to_fill(const struct prefault *pf, struct window *next)
{
	const struct window *last = pf->nr_ahead ? &pf->ahead[pf->nr_ahead - 1] : &pf->current;

	return last->map && window_after(pf, last, COPY_WINDOW, next);
}

/* Starts reading ahead the window after the last one read or being read,
 * if a buffer is free (under lock). */
static bool start_fill(struct prefault *pf)
{
	struct window next;

	if (pf->fill.map || !pf->nr_free || !window_to_fill(pf, &next))
		return false;
	take_buffer(pf, &next);
	pf->fill = next;
	pf->pieces = (uint32_t)((next.len + COPY_PIECE - 1) / COPY_PIECE);
	pf->claimed = pf->done = 0;
	pf->fill_err = 0;
	pf->fill_dropped = false;
	return true;
}

/* Drops the windows read ahead and stops the one being read (under lock). */
static void drop_ahead(struct prefault *pf)
{
	while (pf->nr_ahead)
		pf->free_bufs[pf->nr_free++] = pf->ahead[--pf->nr_ahead].map;
	if (!pf->fill.map)
		return;
	if (pf->done == pf->claimed) {
		pf->free_bufs[pf->nr_free++] = pf->fill.map;
		pf->fill.map = NULL;
		return;
	}
	pf->pieces = pf->claimed;
	pf->fill_dropped = true;
	while (pf->fill.map)
		pthread_cond_wait(&pf->drained, &pf->lock);
}

/* Copy mode, called and returning with the lock held: indexes the reader's
 * new window from where the reader stands, then reads windows ahead while
 * buffers are free. */
static void copy_work(struct prefault *pf)
{
	if (pf->have_work) {
		struct window cur = pf->current;
		size_t id = buffer_id(pf, cur.map), first = pf->first;

		pf->have_work = false;
		pf->walking = true;
		start_fill(pf); /* the reader may help with it meanwhile */
		pthread_mutex_unlock(&pf->lock);
		index_walk(&cur, first, pf->indexes + id * INDEX_MAX, &pf->nr_indexed[id]);
		pthread_mutex_lock(&pf->lock);
		pf->walking = false;
		pthread_cond_broadcast(&pf->drained);
	}
	if (pf->fill.map || start_fill(pf))
		fill_pieces(pf, true);
}

static bool copy_work_waiting(const struct prefault *pf)
{
	struct window next;

	if (pf->fill.map)
		return pf->claimed < pf->pieces;
	return pf->nr_free && window_to_fill(pf, &next);
}

static void window_walk(const uint8_t *p, const uint8_t *end, const struct prefault *pf)
{
	volatile uint8_t sink = 0;

#ifdef MADV_POPULATE_READ
	/* Linux 5.14: the kernel fills the page tables in one call. */
	uintptr_t from = (uintptr_t)p & ~(uintptr_t)4095;

	if (!madvise((void *)from, (size_t)((uintptr_t)end - from), MADV_POPULATE_READ))
		return;
#endif
	/* One byte per page: the fault maps it (and its neighbours). */
	p = (const uint8_t *)((uintptr_t)p & ~(uintptr_t)4095);
	for (; p < end; p += 4096) {
		sink += *p;
		if (!((uintptr_t)p & ((1U << 20) - 1)) && __atomic_load_n(&pf->stop, __ATOMIC_RELAXED))
			break;
	}
	(void)sink;
}

/* Loads each record header of [p, end) into the shared cache ahead of the
 * reader, and the top of each sample's user stack copy, which the unwinder
 * reads first; a corrupted size ends the walk. */
static void chain_walk(const uint8_t *p, const uint8_t *end, const struct prefault *pf)
{
	struct perf_event_header h;
	volatile uint8_t sink = 0;

	while (p + sizeof(h) <= end && !__atomic_load_n(&pf->stop, __ATOMIC_RELAXED)) {
		memcpy(&h, p, sizeof(h));
		if (h.size < sizeof(h))
			break;
		if (h.type == PERF_RECORD_SAMPLE && pf->stack_user &&
		    h.size >= pf->stack_user + 3 * sizeof(uint64_t) && p + h.size <= end) {
			/* ... u64 size, size bytes of stack, u64 dyn_size: at the end */
			const uint8_t *data = p + h.size - sizeof(uint64_t) - pf->stack_user;
			uint64_t dyn;

			memcpy(&dyn, p + h.size - sizeof(uint64_t), sizeof(dyn));
			if (dyn > STACK_WALK)
				dyn = STACK_WALK;
			for (uint64_t off = 0; off < dyn; off += 64)
				sink += data[off];
		}
		p += h.size;
	}
	(void)sink;
}

static void *prefault_main(void *arg)
{
	struct prefault *pf = arg;

	pthread_setname_np(pthread_self(), "rtmerge-window");
	/* Windows are unmapped only here, never while this thread walks them. */
	pthread_mutex_lock(&pf->lock);
	for (;;) {
		struct window cur, gone[UNMAP_SLOTS], next = { 0 };
		bool work, walked, published = false;
		int nr_gone;
		uint64_t seq;
		size_t first;

		while (!pf->stop && !pf->have_work && !pf->nr_unmap &&
		       !(pf->copy && copy_work_waiting(pf)))
			pthread_cond_wait(&pf->wake, &pf->lock);
		if (pf->stop)
			break;
		if (pf->copy) {
			copy_work(pf);
			continue;
		}
		nr_gone = pf->nr_unmap;
		memcpy(gone, pf->unmap, sizeof(gone));
		pf->nr_unmap = 0;
		pthread_cond_broadcast(&pf->drained);
		work = pf->have_work;
		cur = pf->current;
		first = pf->first;
		walked = pf->walked;
		seq = pf->seq;
		pf->have_work = false;
		pthread_mutex_unlock(&pf->lock);

		/* The next window starts early enough to hold whole any record that
		 * crosses the end of this one; it is offered to the reader at once,
		 * then the reader's window is walked (ahead of the reader) and the
		 * next one faulted in. */
		if (work && window_after(pf, &cur, MAP_WINDOW, &next)) {
			next.map = mmap(NULL, next.len, PROT_READ, MAP_PRIVATE, pf->fd,
					(off_t)next.start);
			if (next.map == MAP_FAILED) {
				next.map = NULL;
			} else {
				madvise(next.map, next.len, MADV_SEQUENTIAL);
				pthread_mutex_lock(&pf->lock);
				if (pf->seq == seq && !pf->next.map) {
					pf->next = next;
					published = true;
				}
				pthread_mutex_unlock(&pf->lock);
				if (!published)
					munmap(next.map, next.len);
			}
		}
		if (work && !walked)
			window_walk(cur.map + first, cur.map + cur.len, pf);
		if (work)
			chain_walk(cur.map + first, cur.map + cur.len, pf);
		if (published)
			window_walk(next.map, next.map + next.len, pf);
		for (int i = 0; i < nr_gone; i++)
			munmap(gone[i].map, gone[i].len);
		pthread_mutex_lock(&pf->lock);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

/* sample_stack_user of every event with stack copies, or 0 if they differ. */
static uint32_t common_stack_user(const struct rt_perf_reader *r)
{
	uint32_t size = 0;

	for (size_t i = 0; i < r->nr_evsels; i++) {
		const struct perf_event_attr *a = &r->evsels[i]->pub.attr;

		if (!(a->sample_type & PERF_SAMPLE_STACK_USER))
			continue;
		if (size && size != a->sample_stack_user)
			return 0;
		size = a->sample_stack_user;
	}
	return size;
}

static int prefault_new(struct rt_perf_reader *r, bool copy)
{
	struct prefault *pf = calloc(1, sizeof(*pf));

	if (!pf)
		return -ENOMEM;
	if (copy) {
		void *bufs = mmap(NULL, COPY_BUFFERS * (size_t)COPY_WINDOW, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		pf->indexes = malloc(COPY_BUFFERS * INDEX_MAX * sizeof(*pf->indexes));
		if (bufs == MAP_FAILED || !pf->indexes) {
			if (bufs != MAP_FAILED)
				munmap(bufs, COPY_BUFFERS * (size_t)COPY_WINDOW);
			free(pf->indexes);
			free(pf);
			return -ENOMEM;
		}
		/* Huge pages, where the system gives them, spare the reader TLB misses. */
		madvise(bufs, COPY_BUFFERS * (size_t)COPY_WINDOW, MADV_HUGEPAGE);
		pf->copy = true;
		pf->bufs = bufs;
		for (int i = 0; i < COPY_BUFFERS; i++)
			pf->free_bufs[pf->nr_free++] = pf->bufs + (size_t)i * COPY_WINDOW;
	}
	pf->fd = r->fd;
	pf->data_end = r->data_end;
	pf->stack_user = common_stack_user(r);
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->wake, NULL);
	pthread_cond_init(&pf->drained, NULL);
	if (pthread_create(&pf->thread, NULL, prefault_main, pf)) {
		pthread_mutex_destroy(&pf->lock);
		pthread_cond_destroy(&pf->wake);
		pthread_cond_destroy(&pf->drained);
		if (pf->bufs)
			munmap(pf->bufs, COPY_BUFFERS * (size_t)COPY_WINDOW);
		free(pf->indexes);
		free(pf);
		return -EAGAIN;
	}
	r->prefault = pf;
	return 0;
}

/* Stops the worker; every window it holds is unmapped. */
static void prefault_free(struct rt_perf_reader *r)
{
	struct prefault *pf = r->prefault;

	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	__atomic_store_n(&pf->stop, true, __ATOMIC_RELAXED);
	pf->seq++;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	for (int i = 0; i < pf->nr_unmap; i++)
		munmap(pf->unmap[i].map, pf->unmap[i].len);
	free(pf->indexes);
	if (pf->bufs)
		munmap(pf->bufs, COPY_BUFFERS * (size_t)COPY_WINDOW);
	else if (pf->next.map)
		munmap(pf->next.map, pf->next.len);
	pthread_mutex_destroy(&pf->lock);
	pthread_cond_destroy(&pf->wake);
	pthread_cond_destroy(&pf->drained);
	free(pf);
	r->prefault = NULL;
}

/*
 * The reader changes windows (old is what it leaves, NULL map if none):
 * takes the premapped window when it holds [pos, pos + need), hands old to
 * the worker to unmap, and asks for the window after the new one.
 * Returns true when *win was filled from the premapped window.
 */
static bool prefault_switch(struct prefault *pf, const struct window *old, uint64_t pos,
			    size_t need, struct window *win)
{
	bool took = false;

	pthread_mutex_lock(&pf->lock);
	if (pf->copy) {
		/* The old window's buffer is free once the worker is done
		 * indexing it.  The window wanted is the first read ahead, or
		 * the one being read (help, then wait for its last pieces);
		 * anything else (a jump) drops them all, and the reader reads
		 * the window itself into a free buffer. */
		while (pf->walking)
			pthread_cond_wait(&pf->drained, &pf->lock);
		pf->have_work = false;
		pf->current.map = NULL; /* until prefault_follow() */
		if (old->map)
			pf->free_bufs[pf->nr_free++] = old->map;
		for (;;) {
			if (pf->nr_ahead && pf->ahead[0].start <= pos &&
			    pos + need <= pf->ahead[0].start + pf->ahead[0].len) {
				*win = pf->ahead[0];
				memmove(pf->ahead, pf->ahead + 1, --pf->nr_ahead * sizeof(*pf->ahead));
				took = true;
				break;
			}
			if (!pf->nr_ahead && pf->fill.map && pf->fill.start <= pos &&
			    pos + need <= pf->fill.start + pf->fill.len) {
				const uint8_t *filling = pf->fill.map;

				fill_pieces(pf, false);
				while (pf->fill.map == filling)
					pthread_cond_wait(&pf->drained, &pf->lock);
				if (pf->nr_ahead)
					continue;
			}
			drop_ahead(pf);
			take_buffer(pf, win);
			break;
		}
		pthread_cond_signal(&pf->wake);
		pthread_mutex_unlock(&pf->lock);
		return took;
	}
	pf->seq++;
	/* Room for two windows in the worker's unmap list. */
	while (pf->nr_unmap > UNMAP_SLOTS - 2) {
		pthread_cond_signal(&pf->wake);
		pthread_cond_wait(&pf->drained, &pf->lock);
	}
	if (pf->next.map && pf->next.start <= pos && pos + need <= pf->next.start + pf->next.len) {
		*win = pf->next;
		took = true;
	} else if (pf->next.map) {
		pf->unmap[pf->nr_unmap++] = pf->next;
	}
	pf->next.map = NULL;
	if (old->map)
		pf->unmap[pf->nr_unmap++] = *old;
	pthread_mutex_unlock(&pf->lock);
	return took;
}

/* After prefault_switch(): the worker walks *win from offset first (unless it
 * came premapped, hence walked) and premaps the window after it. */
static void prefault_follow(struct prefault *pf, const struct window *win, size_t first,
			    bool walked)
{
	pthread_mutex_lock(&pf->lock);
	pf->current = *win;
	pf->first = first;
	pf->walked = walked;
	pf->have_work = true;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
}

/* File mode: map the window holding [position, position + need). */
static int window_fill(struct rt_perf_reader *r, size_t need)
{
	uint64_t pos = r->buf_file_offset + r->buf_pos;
	long page = sysconf(_SC_PAGESIZE);
	struct window old = { r->map, r->map_len, r->buf_file_offset, NULL, NULL }, win = { 0 };
	bool premapped = false;
	int err;

	if (pos >= r->data_end)
		return 0;
	if (r->data_end - pos < need)
		return -EINVAL;
	/* Queued records still point into the old window: copy them out. */
	err = evacuate_queue(r);
	if (err)
		return err;
	if (!r->prefault && r->prefault_on && r->data_end - pos > MAP_WINDOW)
		r->prefault_on = !prefault_new(r, r->copy);
	if (r->prefault)
		premapped = prefault_switch(r->prefault, &old, pos, need, &win);
	else if (old.map)
		munmap(old.map, old.len);
	r->map = NULL;
	if (!premapped && r->prefault && r->prefault->copy) {
		/* Not read ahead (the first window, or a jump): read it here. */
		win.start = pos;
		win.len = r->data_end - pos;
		if (win.len > COPY_WINDOW)
			win.len = COPY_WINDOW;
		err = pread_full(r->fd, win.map, win.len, win.start);
		if (err)
			return set_error(r, err == -EINVAL ? EIO : -err, pos,
					 "read failed: %s", err == -EINVAL ?
					 "the file is shorter than its header says" : strerror(-err));
	} else if (!premapped) {
		win.start = pos & ~(uint64_t)(page > 0 ? page - 1 : 4095);
		win.len = r->data_end - win.start;
		if (win.len > MAP_WINDOW)
			win.len = MAP_WINDOW;
		win.map = mmap(NULL, (size_t)win.len, PROT_READ, MAP_PRIVATE, r->fd,
			       (off_t)win.start);
		if (win.map == MAP_FAILED)
			return -errno;
		madvise(win.map, win.len, MADV_SEQUENTIAL);
	}
	if (r->prefault)
		prefault_follow(r->prefault, &win, (size_t)(pos - win.start), premapped);
	r->map = win.map;
	r->map_len = win.len;
	r->map_is_buffer = r->prefault && r->prefault->copy;
	r->index = win.index;
	r->nr_index = win.nr_index;
	r->index_pos = r->index_next = 0;
	r->buf = win.map;
	r->buf_file_offset = win.start;
	r->buf_len = win.len;
	r->buf_pos = (size_t)(pos - win.start);
	return 1;
}

static int buffer_fill(struct rt_perf_reader *r, size_t need)
{
	size_t avail = r->buf_len - r->buf_pos;

	if (avail >= need)
		return 1;
	if (!r->pipe && !r->no_map) {
		int got = window_fill(r, need);

		if (got != -ENODEV && got != -EACCES && got != -EINVAL && got != -ENOMEM)
			return got;
		if (got == -EINVAL && r->data_end - (r->buf_file_offset + r->buf_pos) < need)
			return got;
		/* Not mappable here: read instead. */
		r->no_map = true;
		prefault_free(r);
		if (r->map) {
			uint64_t pos = r->buf_file_offset + r->buf_pos;

			if (!r->map_is_buffer)
				munmap(r->map, r->map_len);
			r->map = NULL;
			r->buf = r->heap_buf;
			r->buf_file_offset = pos;
			r->buf_len = r->buf_pos = 0;
			avail = 0;
		}
	}
	if (r->eof)
		return avail ? -EINVAL : 0;
	/* Slide what is left to the front. */
	if (r->buf_pos) {
		memmove(r->buf, r->buf + r->buf_pos, avail);
		r->buf_file_offset += r->buf_pos;
		r->buf_len = avail;
		r->buf_pos = 0;
	}
	while (r->buf_len < need && !r->eof) {
		uint64_t offset = r->buf_file_offset + r->buf_len;
		size_t want = READ_CHUNK - r->buf_len;
		ssize_t n;

		if (!r->pipe) {
			if (offset >= r->data_end) {
				r->eof = true;
				break;
			}
			if (want > r->data_end - offset)
				want = (size_t)(r->data_end - offset);
			n = pread(r->fd, r->buf + r->buf_len, want, (off_t)offset);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return set_error(r, errno, offset, "read failed: %s", strerror(errno));
		} else {
			n = read(r->fd, r->buf + r->buf_len, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return set_error(r, errno, offset, "read failed: %s", strerror(errno));
		}
		if (n == 0)
			r->eof = true;
		r->buf_len += (size_t)n;
	}
	avail = r->buf_len - r->buf_pos;
	if (avail >= need)
		return 1;
	return avail ? -EINVAL : 0;
}

/* ---- events and ids --------------------------------------------------- */

static int id_table_insert(struct rt_perf_reader *r, uint64_t id, int evsel)
{
	size_t mask, i;

	if ((r->nr_id_entries + 1) * 2 > r->id_table_size) {
		size_t size = r->id_table_size ? r->id_table_size * 2 : 64;
		struct id_slot *t = malloc(size * sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (i = 0; i < size; i++)
			t[i].evsel = -1;
		for (i = 0; i < r->id_table_size; i++) {
			struct id_slot *s = &r->id_table[i];
			size_t j;

			if (s->evsel < 0)
				continue;
			for (j = rt_hash64_keyed(s->id) & (size - 1); t[j].evsel >= 0; j = (j + 1) & (size - 1))
				;
			t[j] = *s;
		}
		free(r->id_table);
		r->id_table = t;
		r->id_table_size = size;
	}
	mask = r->id_table_size - 1;
	for (i = rt_hash64_keyed(id) & mask; r->id_table[i].evsel >= 0; i = (i + 1) & mask) {
		if (r->id_table[i].id == id) {
			r->id_table[i].evsel = evsel;
			return 0;
		}
	}
	r->id_table[i].id = id;
	r->id_table[i].evsel = evsel;
	r->nr_id_entries++;
	return 0;
}

static struct evsel_priv *evsel_by_id(struct rt_perf_reader *r, uint64_t id)
{
	size_t mask, i;

	if (!r->id_table_size)
		return NULL;
	mask = r->id_table_size - 1;
	for (i = rt_hash64_keyed(id) & mask; r->id_table[i].evsel >= 0; i = (i + 1) & mask)
		if (r->id_table[i].id == id)
			return r->evsels[r->id_table[i].evsel];
	return NULL;
}

/* Position of the id in a sample, counted in u64 from the start. */
static int sample_id_pos(uint64_t type)
{
	int pos = 0;

	if (type & PERF_SAMPLE_IDENTIFIER)
		return 0;
	if (!(type & PERF_SAMPLE_ID))
		return -1;
	if (type & PERF_SAMPLE_IP)
		pos++;
	if (type & PERF_SAMPLE_TID)
		pos++;
	if (type & PERF_SAMPLE_TIME)
		pos++;
	if (type & PERF_SAMPLE_ADDR)
		pos++;
	return pos;
}

/* Position of the id in a non-sample record's trailer, counted from its end. */
static int trailer_id_pos(uint64_t type)
{
	int pos = 1;

	if (type & PERF_SAMPLE_IDENTIFIER)
		return 1;
	if (!(type & PERF_SAMPLE_ID))
		return -1;
	if (type & PERF_SAMPLE_CPU)
		pos++;
	if (type & PERF_SAMPLE_STREAM_ID)
		pos++;
	return pos;
}

static size_t trailer_size(uint64_t type)
{
	size_t n = 0;

	if (type & PERF_SAMPLE_TID)
		n += 8;
	if (type & PERF_SAMPLE_TIME)
		n += 8;
	if (type & PERF_SAMPLE_ID)
		n += 8;
	if (type & PERF_SAMPLE_STREAM_ID)
		n += 8;
	if (type & PERF_SAMPLE_CPU)
		n += 8;
	if (type & PERF_SAMPLE_IDENTIFIER)
		n += 8;
	return n;
}

static const char *default_event_name(const struct perf_event_attr *attr, char *buf, size_t size)
{
	static const char *const sw[] = {
		"cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations",
		"minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy",
		"bpf-output", "cgroup-switches",
	};
	static const char *const hw[] = {
		"cycles", "instructions", "cache-references", "cache-misses", "branches",
		"branch-misses", "bus-cycles", "stalled-cycles-frontend", "stalled-cycles-backend",
		"ref-cycles",
	};

	if (attr->type == PERF_TYPE_SOFTWARE && attr->config < sizeof(sw) / sizeof(sw[0]))
		return sw[attr->config];
	if (attr->type == PERF_TYPE_HARDWARE && attr->config < sizeof(hw) / sizeof(hw[0]))
		return hw[attr->config];
	snprintf(buf, size, "type%u/config%#llx", attr->type, (unsigned long long)attr->config);
	return buf;
}

/*
 * Add an event.  attr_bytes/attr_size is the on-disk attribute, which may be
 * shorter or longer than this build's struct perf_event_attr.
 */
static int add_evsel(struct rt_perf_reader *r, const void *attr_bytes, size_t attr_size,
		     const uint64_t *ids, size_t nr_ids, uint64_t offset)
{
	struct evsel_priv *ev, **n;
	char namebuf[64];
	size_t i;
	int err;

	if (r->nr_evsels >= MAX_EVENTS)
		return set_error(r, EINVAL, offset, "more than %u events", MAX_EVENTS);
	if (attr_size < PERF_ATTR_SIZE_VER0)
		return set_error(r, EINVAL, offset, "event attribute of %zu bytes is too small",
				 attr_size);
	/* Many events may name one id section: the ids all events keep are
	 * capped together, so a small file cannot make each copy them all. */
	if (nr_ids > MAX_IDS - r->nr_ids_total) {
		r->stats.ids_dropped += nr_ids - (MAX_IDS - r->nr_ids_total);
		nr_ids = MAX_IDS - r->nr_ids_total;
	}
	n = realloc(r->evsels, (r->nr_evsels + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->evsels = n;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	r->evsels[r->nr_evsels] = ev;
	memcpy(&ev->pub.attr, attr_bytes,
	       attr_size < sizeof(ev->pub.attr) ? attr_size : sizeof(ev->pub.attr));
	ev->pub.attr.size = sizeof(ev->pub.attr);
	ev->pub.index = (int)r->nr_evsels;
	if (nr_ids) {
		ev->ids = malloc(nr_ids * sizeof(*ev->ids));
		if (!ev->ids) {
			free(ev);
			return -ENOMEM;
		}
		memcpy(ev->ids, ids, nr_ids * sizeof(*ids));
		r->nr_ids_total += nr_ids;
	}
	ev->pub.ids = ev->ids;
	ev->pub.nr_ids = nr_ids;
	ev->name = strdup(default_event_name(&ev->pub.attr, namebuf, sizeof(namebuf)));
	if (!ev->name) {
		free(ev->ids);
		free(ev);
		return -ENOMEM;
	}
	ev->pub.name = ev->name;
	ev->id_pos = sample_id_pos(ev->pub.attr.sample_type);
	ev->is_pos = trailer_id_pos(ev->pub.attr.sample_type);
	ev->trailer_size = ev->pub.attr.sample_id_all ? trailer_size(ev->pub.attr.sample_type) : 0;
	r->nr_evsels++;
	for (i = 0; i < nr_ids; i++) {
		err = id_table_insert(r, ids[i], ev->pub.index);
		if (err)
			return err;
	}
	return 0;
}

static void set_evsel_name(struct rt_perf_reader *r, uint64_t id, const char *name)
{
	struct evsel_priv *ev = evsel_by_id(r, id);
	char *copy;

	if (!ev || !name[0])
		return;
	copy = strdup(name);
	if (!copy)
		return;
	free(ev->name);
	ev->name = copy;
	ev->pub.name = copy;
}

/* ---- feature sections -------------------------------------------------- */

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint32_t cur_u32(struct cursor *c)
{
	uint32_t v = 0;

	if (c->end - c->p < 4) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, 4);
	c->p += 4;
	return v;
}

static uint64_t cur_u64(struct cursor *c)
{
	uint64_t v = 0;

	if (c->end - c->p < 8) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, 8);
	c->p += 8;
	return v;
}

/* perf's header string: u32 len (padded), bytes, NUL inside. */
static const char *cur_string(struct rt_perf_reader *r, struct cursor *c)
{
	uint32_t len = cur_u32(c);
	const char *s;

	if (c->bad || len > (size_t)(c->end - c->p)) {
		c->bad = true;
		c->p = c->end;
		return NULL;
	}
	s = own_string(r, (const char *)c->p, strnlen((const char *)c->p, len));
	c->p += len;
	return s;
}

static int add_build_id(struct rt_perf_reader *r, int32_t pid, uint16_t misc, const uint8_t *id,
			const char *filename, size_t filename_max)
{
	struct rt_perf_build_id *b;

	if (r->info.nr_build_ids == r->build_ids_cap) {
		size_t cap = r->build_ids_cap ? r->build_ids_cap * 2 : 64;
		struct rt_perf_build_id *n = realloc(r->build_ids, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->build_ids = n;
		r->build_ids_cap = cap;
	}
	b = &r->build_ids[r->info.nr_build_ids];
	b->pid = pid;
	b->misc = misc;
	memcpy(b->id, id, 20);
	b->size = (misc & PERF_RECORD_MISC_BUILD_ID_SIZE) ? id[20] : 20;
	if (b->size > 20)
		b->size = 20;
	b->filename = own_string(r, filename, strnlen(filename, filename_max));
	if (!b->filename)
		return -ENOMEM;
	r->info.nr_build_ids++;
	r->info.build_ids = r->build_ids;
	return 0;
}

/* BUILD_ID feature: a sequence of build-id records. */
static int parse_build_ids(struct rt_perf_reader *r, const uint8_t *p, size_t size)
{
	const uint8_t *end = p + size;

	while (end - p >= (ptrdiff_t)sizeof(struct perf_event_header)) {
		struct perf_event_header h;
		int32_t pid;
		int err;

		memcpy(&h, p, sizeof(h));
		if (h.size < sizeof(struct perf_record_header_build_id) || h.size > end - p)
			return -EINVAL;
		memcpy(&pid, p + 8, 4);
		err = add_build_id(r, pid, h.misc, p + 12, (const char *)p + 36, h.size - 36);
		if (err)
			return err;
		p += h.size;
	}
	return 0;
}

static int parse_event_desc(struct rt_perf_reader *r, struct cursor *c)
{
	uint32_t nr = cur_u32(c), attr_size = cur_u32(c), i, j;

	if (c->bad || attr_size < PERF_ATTR_SIZE_VER0 || attr_size > MAX_ATTR_SIZE)
		return -EINVAL;
	for (i = 0; i < nr && !c->bad; i++) {
		uint32_t nr_ids;
		const char *name;

		if ((size_t)(c->end - c->p) < attr_size)
			return -EINVAL;
		c->p += attr_size;
		nr_ids = cur_u32(c);
		name = cur_string(r, c);
		if (c->bad || nr_ids > (size_t)(c->end - c->p) / 8)
			return -EINVAL;
		for (j = 0; j < nr_ids; j++) {
			uint64_t id = cur_u64(c);

			if (name)
				set_evsel_name(r, id, name);
		}
	}
	return c->bad ? -EINVAL : 0;
}

static int parse_feature(struct rt_perf_reader *r, int feat, const uint8_t *data, size_t size)
{
	struct cursor c = { data, data + size, false };
	uint32_t i, nr;

	switch (feat) {
	case FEAT_BUILD_ID:
		return parse_build_ids(r, data, size);
	case FEAT_HOSTNAME:
		r->info.hostname = cur_string(r, &c);
		break;
	case FEAT_OSRELEASE:
		r->info.os_release = cur_string(r, &c);
		break;
	case FEAT_VERSION:
		r->info.perf_version = cur_string(r, &c);
		break;
	case FEAT_ARCH:
		r->info.arch = cur_string(r, &c);
		break;
	case FEAT_CPUDESC:
		r->info.cpu_desc = cur_string(r, &c);
		break;
	case FEAT_CPUID:
		r->info.cpuid = cur_string(r, &c);
		break;
	case FEAT_NRCPUS:
		r->info.nr_cpus_available = cur_u32(&c);
		r->info.nr_cpus_online = cur_u32(&c);
		break;
	case FEAT_TOTAL_MEM:
		r->info.total_mem_kb = cur_u64(&c);
		break;
	case FEAT_CMDLINE:
		nr = cur_u32(&c);
		if (c.bad || nr > size / 4)
			return -EINVAL;
		free(r->cmdline);
		r->cmdline = calloc(nr + 1, sizeof(*r->cmdline));
		if (!r->cmdline)
			return -ENOMEM;
		for (i = 0; i < nr && !c.bad; i++)
			r->cmdline[i] = (char *)cur_string(r, &c);
		r->info.cmdline = (const char *const *)r->cmdline;
		r->info.nr_cmdline = c.bad ? 0 : nr;
		break;
	case FEAT_EVENT_DESC:
		return parse_event_desc(r, &c);
	case FEAT_CLOCKID:
		r->info.clockid = (int32_t)cur_u64(&c);
		break;
	case FEAT_SAMPLE_TIME:
		r->info.first_sample_time = cur_u64(&c);
		r->info.last_sample_time = cur_u64(&c);
		break;
	default:
		return 0;
	}
	return c.bad ? -EINVAL : 0;
}

static int read_features(struct rt_perf_reader *r, const struct file_header *h)
{
	struct file_section sec[FEAT_BITS];
	uint64_t offset = h->data.offset + h->data.size;
	int nr = 0, feat, i = 0;

	for (feat = 0; feat < FEAT_BITS; feat++)
		if (h->features[feat / 64] & (1ULL << (feat % 64)))
			nr++;
	if (!nr)
		return 0;
	if (offset > r->file_size || (uint64_t)nr * sizeof(sec[0]) > r->file_size - offset) {
		/* perf killed before writing its features: usable, but say so. */
		fprintf(stderr, "%s: warning: feature sections missing (perf record did not finish?)\n",
			r->path);
		return 0;
	}
	if (read_full_at(r, sec, nr * sizeof(sec[0]), offset))
		return -EINVAL;
	for (feat = 0; feat < FEAT_BITS; feat++) {
		uint8_t *data;
		int err;

		if (!(h->features[feat / 64] & (1ULL << (feat % 64))))
			continue;
		struct file_section s = sec[i++];

		if (feat == FEAT_TRACING_DATA && s.offset <= r->file_size &&
		    s.size <= r->file_size - s.offset) {
			r->tracing_offset = s.offset;
			r->tracing_size = s.size;
		}
		if (feat == FEAT_TRACING_DATA || !s.size)
			continue;
		if (s.offset > r->file_size || s.size > r->file_size - s.offset ||
		    s.size > MAX_FEATURE_SIZE)
			return set_error(r, EINVAL, offset + (uint64_t)(i - 1) * sizeof(s),
					 "feature %d section [%" PRIu64 ", +%" PRIu64
					 ") lies outside the file", feat, s.offset, s.size);
		data = malloc(s.size);
		if (!data)
			return -ENOMEM;
		if (read_full_at(r, data, s.size, s.offset)) {
			free(data);
			return -EINVAL;
		}
		err = parse_feature(r, feat, data, s.size);
		free(data);
		if (err == -ENOMEM)
			return err;
		if (err)
			fprintf(stderr, "%s: warning: feature %d at offset %" PRIu64
				" is malformed; ignored\n", r->path, feat, s.offset);
	}
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

static int open_file_mode(struct rt_perf_reader *r, const struct file_header *h)
{
	size_t nr_attrs, i, entry;
	uint8_t *attrs;
	int err = 0;

	if (h->size != FILE_HEADER_SIZE && h->size < sizeof(*h))
		return set_error(r, EINVAL, 8, "header size %" PRIu64 " is not %d", h->size,
				 FILE_HEADER_SIZE);
	if (h->attr_size < PERF_ATTR_SIZE_VER0 + 16 || h->attr_size > MAX_ATTR_SIZE + 16)
		return set_error(r, EINVAL, 16, "attribute size %" PRIu64 " is absurd", h->attr_size);
	if (h->attrs.offset > r->file_size || h->attrs.size > r->file_size - h->attrs.offset ||
	    h->attrs.size % h->attr_size)
		return set_error(r, EINVAL, 24, "attribute section [%" PRIu64 ", +%" PRIu64
				 ") is outside the file or not a multiple of %" PRIu64,
				 h->attrs.offset, h->attrs.size, h->attr_size);
	if (h->data.offset > r->file_size)
		return set_error(r, EINVAL, 40, "data section starts at %" PRIu64
				 " beyond the end of the file (%" PRIu64 " bytes)",
				 h->data.offset, r->file_size);
	nr_attrs = h->attrs.size / h->attr_size;
	if (!nr_attrs)
		return set_error(r, EINVAL, 24, "no events recorded");
	if (nr_attrs > MAX_EVENTS)
		return set_error(r, EINVAL, 24, "%zu events is absurd", nr_attrs);
	entry = h->attr_size;
	attrs = malloc(h->attrs.size);
	if (!attrs)
		return -ENOMEM;
	if (read_full_at(r, attrs, h->attrs.size, h->attrs.offset)) {
		free(attrs);
		return -EINVAL;
	}
	for (i = 0; i < nr_attrs && !err; i++) {
		const uint8_t *a = attrs + i * entry;
		struct file_section ids;
		uint64_t *idv = NULL;
		size_t nr_ids;

		memcpy(&ids, a + entry - sizeof(ids), sizeof(ids));
		if (ids.offset > r->file_size || ids.size > r->file_size - ids.offset ||
		    ids.size % 8 || ids.size / 8 > MAX_IDS) {
			err = set_error(r, EINVAL, h->attrs.offset + i * entry + entry - 16,
					"id section of event %zu is outside the file", i);
			break;
		}
		nr_ids = ids.size / 8;
		if (nr_ids > MAX_IDS - r->nr_ids_total) {
			r->stats.ids_dropped += nr_ids - (MAX_IDS - r->nr_ids_total);
			nr_ids = MAX_IDS - r->nr_ids_total;
		}
		if (nr_ids) {
			idv = malloc(nr_ids * 8);
			if (!idv) {
				err = -ENOMEM;
				break;
			}
			if (read_full_at(r, idv, nr_ids * 8, ids.offset)) {
				free(idv);
				err = -EINVAL;
				break;
			}
		}
		err = add_evsel(r, a, entry - sizeof(ids), idv, nr_ids, h->attrs.offset + i * entry);
		free(idv);
	}
	free(attrs);
	if (err)
		return err;
	r->data_start = h->data.offset;
	if (h->data.size == 0 && r->file_size > h->data.offset) {
		fprintf(stderr, "%s: warning: header gives no data size (perf record did not finish?); "
			"reading to the end of the file\n", r->path);
		r->data_end = r->file_size;
	} else {
		if (h->data.size > r->file_size - h->data.offset) {
			fprintf(stderr, "%s: warning: data section claims %" PRIu64
				" bytes, file holds %" PRIu64 "; reading what is there\n", r->path,
				h->data.size, r->file_size - h->data.offset);
			r->data_end = r->file_size;
		} else {
			r->data_end = h->data.offset + h->data.size;
		}
		err = read_features(r, h);
		if (err)
			return err;
	}
	return 0;
}

struct rt_perf_reader *rt_perf_reader__open(const char *path, char *err, size_t err_size)
{
	struct rt_perf_reader *r = calloc(1, sizeof(*r));
	struct file_header h;
	struct stat st;
	ssize_t n;
	int ret = 0;

	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->fd = -1;
	/* RTPERF_READER=read|map|map-worker|read-worker picks how file-mode
	 * data is read (tests compare them); the default is map-worker with
	 * two CPUs, read-worker for big files. */
	const char *how = getenv("RTPERF_READER");

	if (how && strcmp(how, "read") && strcmp(how, "map") && strcmp(how, "map-worker") &&
	    strcmp(how, "read-worker")) {
		fprintf(stderr, "rtmerge: RTPERF_READER=%s is not read, map, map-worker or "
			"read-worker; ignored\n", how);
		how = NULL;
	}
	r->no_map = how && !strcmp(how, "read");
	r->copy = how && !strcmp(how, "read-worker");
	r->prefault_on = how ? !strcmp(how, "map-worker") || r->copy :
			 sysconf(_SC_NPROCESSORS_ONLN) > 1;
	r->info.clockid = -1;
	r->ordered = true;
	r->path = strdup(strcmp(path, "-") ? path : "<stdin>");
	r->heap_buf = r->buf = malloc(READ_CHUNK);
	if (!r->path || !r->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	if (!strcmp(path, "-")) {
		r->fd = STDIN_FILENO;
		r->is_stdin = true;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			ret = set_error(r, errno, UINT64_MAX, "cannot open: %s", strerror(errno));
			goto fail;
		}
	}
	if (fstat(r->fd, &st)) {
		ret = set_error(r, errno, UINT64_MAX, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	/* A file another user owns may be truncated under us, and a mapping
	 * past its new end raises SIGBUS: read it instead. */
	if (S_ISREG(st.st_mode) && !rt_safefile__owner_trusted(&st) && !r->copy) {
		r->no_map = true;
		r->prefault_on = false;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = set_error(r, EISDIR, UINT64_MAX,
				"is a directory (perf record --threads directories are not supported)");
		goto fail;
	}
	r->file_size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX;
	memset(&h, 0, sizeof(h));
	n = read_stream(r->fd, &h, PIPE_HEADER_SIZE);
	if (n < 0) {
		ret = set_error(r, -n, 0, "read failed: %s", strerror((int)-n));
		goto fail;
	}
	if (n < 8) {
		ret = set_error(r, EINVAL, 0, n ? "too short to be a perf.data file (%zd bytes)" :
				"empty file, not a perf.data file", n);
		goto fail;
	}
	if (h.magic == PERF_MAGIC2_SWAPPED) {
		ret = set_error(r, ENOTSUP, 0, "big-endian perf.data is not supported");
		goto fail;
	}
	if (h.magic != PERF_MAGIC2) {
		ret = set_error(r, EINVAL, 0, "not a perf.data file (bad magic)");
		goto fail;
	}
	if (n < PIPE_HEADER_SIZE) {
		ret = set_error(r, EINVAL, (uint64_t)n, "file ends inside the header");
		goto fail;
	}
	if (h.size == PIPE_HEADER_SIZE) {
		r->pipe = true;
		r->data_start = PIPE_HEADER_SIZE;
		r->data_end = UINT64_MAX;
		r->buf_file_offset = PIPE_HEADER_SIZE;
		return r;
	}
	if (r->file_size == UINT64_MAX) {
		ret = set_error(r, EINVAL, 8, "file-mode perf.data on a pipe; record with `-o -` "
				"to stream");
		goto fail;
	}
	if (r->file_size < FILE_HEADER_SIZE) {
		ret = set_error(r, EINVAL, r->file_size, "file ends inside the header");
		goto fail;
	}
	if (read_full_at(r, &h, sizeof(h), 0)) {
		ret = -EINVAL;
		goto fail;
	}
	ret = open_file_mode(r, &h);
	if (ret)
		goto fail;
	r->buf_file_offset = r->data_start;
	/* Big files (--call-graph dwarf): copy ahead rather than map ahead. */
	if (!how && r->prefault_on && r->data_end - r->data_start > COPY_MIN)
		r->copy = true;
	return r;
fail:
	if (err && err_size)
		snprintf(err, err_size, "%s", r->error[0] ? r->error : strerror(-ret));
	rt_perf_reader__close(r);
	errno = -ret;
	return NULL;
}

void rt_perf_reader__close(struct rt_perf_reader *r)
{
	size_t i;

	if (!r)
		return;
	if (r->fd >= 0 && !r->is_stdin)
		close(r->fd);
	for (i = 0; i < r->nr_evsels; i++) {
		free(r->evsels[i]->ids);
		free(r->evsels[i]->name);
		free(r->evsels[i]);
	}
	for (i = 0; i < r->nr_strings; i++)
		free(r->strings[i]);
	free(r->strings);
	free(r->cmdline);
	free(r->build_ids);
	free(r->evsels);
	free(r->id_table);
	free(r->queue);
	free(r->queue_tmp);
	free(r->arena);
	free(r->spare);
	prefault_free(r);
	if (r->map && !r->map_is_buffer)
		munmap(r->map, r->map_len);
	free(r->heap_buf);
	free(r->path);
	free(r);
}

/* ---- sample parsing ----------------------------------------------------- */

static enum rt_cpumode cpumode_of(uint16_t misc)
{
	switch (misc & PERF_RECORD_MISC_CPUMODE_MASK) {
	case PERF_RECORD_MISC_KERNEL:
		return RT_CPUMODE_KERNEL;
	case PERF_RECORD_MISC_USER:
		return RT_CPUMODE_USER;
	case PERF_RECORD_MISC_HYPERVISOR:
		return RT_CPUMODE_HYPERVISOR;
	case PERF_RECORD_MISC_GUEST_KERNEL:
		return RT_CPUMODE_GUEST_KERNEL;
	case PERF_RECORD_MISC_GUEST_USER:
		return RT_CPUMODE_GUEST_USER;
	default:
		return RT_CPUMODE_UNKNOWN;
	}
}

#define TAKE(dst) do {                                          \
		if ((size_t)(end - p) < sizeof(dst))            \
			return -EINVAL;                          \
		memcpy(&(dst), p, sizeof(dst));                 \
		p += sizeof(dst);                               \
	} while (0)

static int parse_sample(const struct rt_perf_evsel *ev, const uint8_t *rec, size_t size,
			struct rt_perf_sample *s)
{
	const struct perf_event_attr *attr = &ev->attr;
	uint64_t type = attr->sample_type, u;
	const uint8_t *p = rec + sizeof(struct perf_event_header);
	const uint8_t *end = rec + size;
	struct perf_event_header h;
	uint32_t u32pair[2];

	memcpy(&h, rec, sizeof(h));
	memset(s, 0, sizeof(*s));
	s->sample_type = type;
	s->misc = h.misc;
	s->cpumode = cpumode_of(h.misc);
	if (type & PERF_SAMPLE_IDENTIFIER)
		TAKE(s->id);
	if (type & PERF_SAMPLE_IP)
		TAKE(s->ip);
	if (type & PERF_SAMPLE_TID) {
		TAKE(u32pair);
		s->pid = u32pair[0];
		s->tid = u32pair[1];
	}
	if (type & PERF_SAMPLE_TIME)
		TAKE(s->time);
	if (type & PERF_SAMPLE_ADDR)
		TAKE(s->addr);
	if (type & PERF_SAMPLE_ID)
		TAKE(s->id);
	if (type & PERF_SAMPLE_STREAM_ID)
		TAKE(s->stream_id);
	if (type & PERF_SAMPLE_CPU) {
		TAKE(u32pair);
		s->cpu = u32pair[0];
	}
	if (type & PERF_SAMPLE_PERIOD)
		TAKE(s->period);
	if (type & PERF_SAMPLE_READ) {
		uint64_t rf = attr->read_format, n = 1, per = 1;
		size_t words;

		if (rf & PERF_FORMAT_GROUP) {
			TAKE(n);
			if (n > 65536)
				return -EINVAL;
			per = 1 + !!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST);
			words = !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
				!!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING) + n * per;
			s->read_values = (const uint64_t *)(p - 8);
			s->read_size = words + 1;
		} else {
			words = 1 + !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
				!!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING) + !!(rf & PERF_FORMAT_ID) +
				!!(rf & PERF_FORMAT_LOST);
			s->read_values = (const uint64_t *)p;
			s->read_size = words;
		}
		if ((size_t)(end - p) / 8 < words)
			return -EINVAL;
		p += words * 8;
	}
	if (type & PERF_SAMPLE_CALLCHAIN) {
		TAKE(s->nr_callchain);
		if ((size_t)(end - p) / 8 < s->nr_callchain)
			return -EINVAL;
		s->callchain = (const uint64_t *)p;
		p += s->nr_callchain * 8;
	}
	if (type & PERF_SAMPLE_RAW) {
		TAKE(s->raw_size);
		if ((size_t)(end - p) < s->raw_size)
			return -EINVAL;
		s->raw = p;
		p += s->raw_size;
		/* The u32 size plus data are padded to 8 bytes in total. */
		p = rec + ((size_t)(p - rec) + 7) / 8 * 8;
		if (p > end)
			return -EINVAL;
	}
	if (type & PERF_SAMPLE_BRANCH_STACK) {
		TAKE(s->nr_branches);
		if (attr->branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX)
			TAKE(s->branch_hw_index);
		if ((size_t)(end - p) / sizeof(struct perf_branch_entry) < s->nr_branches)
			return -EINVAL;
		s->branches = (const struct perf_branch_entry *)p;
		p += s->nr_branches * sizeof(struct perf_branch_entry);
	}
	if (type & PERF_SAMPLE_REGS_USER) {
		TAKE(s->user_regs_abi);
		s->user_regs_mask = attr->sample_regs_user;
		if (s->user_regs_abi) {
			size_t nr = (size_t)__builtin_popcountll(attr->sample_regs_user);

			if ((size_t)(end - p) / 8 < nr)
				return -EINVAL;
			s->user_regs = (const uint64_t *)p;
			p += nr * 8;
		}
	}
	if (type & PERF_SAMPLE_STACK_USER) {
		TAKE(s->user_stack_size);
		if ((size_t)(end - p) < s->user_stack_size)
			return -EINVAL;
		s->user_stack = p;
		p += s->user_stack_size;
		if (s->user_stack_size) {
			TAKE(s->user_stack_dyn_size);
			if (s->user_stack_dyn_size > s->user_stack_size)
				s->user_stack_dyn_size = s->user_stack_size;
		}
	}
	if (type & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT)) {
		TAKE(u);
		s->weight = (type & PERF_SAMPLE_WEIGHT_STRUCT) ? (u & 0xffffffffULL) : u;
	}
	if (type & PERF_SAMPLE_DATA_SRC)
		TAKE(s->data_src);
	if (type & PERF_SAMPLE_TRANSACTION)
		TAKE(s->transaction);
	if (type & PERF_SAMPLE_REGS_INTR) {
		TAKE(s->intr_regs_abi);
		if (s->intr_regs_abi) {
			size_t nr = (size_t)__builtin_popcountll(attr->sample_regs_intr);

			if ((size_t)(end - p) / 8 < nr)
				return -EINVAL;
			s->intr_regs = (const uint64_t *)p;
			p += nr * 8;
		}
	}
	if (type & PERF_SAMPLE_PHYS_ADDR)
		TAKE(s->phys_addr);
	if (type & PERF_SAMPLE_CGROUP)
		TAKE(s->cgroup);
	if (type & PERF_SAMPLE_DATA_PAGE_SIZE)
		TAKE(s->data_page_size);
	if (type & PERF_SAMPLE_CODE_PAGE_SIZE)
		TAKE(s->code_page_size);
	if (type & PERF_SAMPLE_AUX) {
		TAKE(s->aux_size);
		if ((size_t)(end - p) < s->aux_size)
			return -EINVAL;
		s->aux = p;
		p += s->aux_size;
	}
	return 0;
}

/* ---- record dispatch ---------------------------------------------------- */

static struct evsel_priv *evsel_of_sample(struct rt_perf_reader *r, const uint8_t *rec,
					  size_t size)
{
	struct evsel_priv *first = r->evsels[0];
	uint64_t id;
	int pos;

	if (r->nr_evsels == 1)
		return first;
	pos = first->id_pos;
	if (pos < 0)
		return first;
	if ((size_t)(pos + 1) * 8 > size - 8)
		return NULL;
	memcpy(&id, rec + 8 + pos * 8, 8);
	return evsel_by_id(r, id);
}

static struct evsel_priv *evsel_of_other(struct rt_perf_reader *r, const uint8_t *rec,
					 size_t size)
{
	struct evsel_priv *first;
	uint64_t id;
	int pos;

	if (!r->nr_evsels)
		return NULL;
	first = r->evsels[0];
	if (!first->pub.attr.sample_id_all)
		return NULL;
	if (r->nr_evsels == 1)
		return first;
	pos = first->is_pos;
	if (pos < 0 || (size_t)pos * 8 > size - 8)
		return first;
	memcpy(&id, rec + size - (size_t)pos * 8, 8);
	return evsel_by_id(r, id);
}

static void parse_trailer(const struct evsel_priv *ev, const uint8_t *rec, size_t size,
			  size_t body_min, struct rt_perf_sample_id *sid)
{
	uint64_t type;
	const uint8_t *p;
	uint32_t pair[2];

	memset(sid, 0, sizeof(*sid));
	if (!ev || !ev->trailer_size || size < body_min + ev->trailer_size)
		return;
	type = ev->pub.attr.sample_type;
	p = rec + size - ev->trailer_size;
	if (type & PERF_SAMPLE_TID) {
		memcpy(pair, p, 8);
		sid->pid = pair[0];
		sid->tid = pair[1];
		p += 8;
	}
	if (type & PERF_SAMPLE_TIME) {
		memcpy(&sid->time, p, 8);
		p += 8;
	}
	if (type & PERF_SAMPLE_ID) {
		memcpy(&sid->id, p, 8);
		p += 8;
	}
	if (type & PERF_SAMPLE_STREAM_ID) {
		memcpy(&sid->stream_id, p, 8);
		p += 8;
	}
	if (type & PERF_SAMPLE_CPU) {
		memcpy(pair, p, 8);
		sid->cpu = pair[0];
		p += 8;
	}
	if (type & PERF_SAMPLE_IDENTIFIER)
		memcpy(&sid->id, p, 8);
	sid->present = true;
}

/* Time of a record for ordering; false when it has none. */
static bool record_time(struct rt_perf_reader *r, const uint8_t *rec, size_t size, uint64_t *time)
{
	struct perf_event_header h;
	struct evsel_priv *ev;
	struct rt_perf_sample_id sid;

	memcpy(&h, rec, sizeof(h));
	if (h.type == PERF_RECORD_SAMPLE) {
		uint64_t type;
		size_t pos = 8;

		ev = evsel_of_sample(r, rec, size);
		if (!ev)
			return false;
		type = ev->pub.attr.sample_type;
		if (!(type & PERF_SAMPLE_TIME))
			return false;
		pos += 8 * (!!(type & PERF_SAMPLE_IDENTIFIER) + !!(type & PERF_SAMPLE_IP) +
			    !!(type & PERF_SAMPLE_TID));
		if (pos + 8 > size)
			return false;
		memcpy(time, rec + pos, 8);
		return true;
	}
	if (h.type >= PERF_RECORD_USER_TYPE_START)
		return false;
	ev = evsel_of_other(r, rec, size);
	if (!ev || !(ev->pub.attr.sample_type & PERF_SAMPLE_TIME))
		return false;
	parse_trailer(ev, rec, size, 8, &sid);
	if (!sid.present)
		return false;
	*time = sid.time;
	return true;
}

static int deliver(struct rt_perf_reader *r, struct rt_perf_tool *tool, const uint8_t *rec,
		   size_t size, uint64_t offset)
{
	struct perf_event_header h;
	struct rt_perf_sample_id sid;
	struct evsel_priv *ev;
	uint32_t pair[4];

	memcpy(&h, rec, sizeof(h));
	if (h.type < PERF_RECORD_HEADER_MAX)
		r->stats.records[h.type]++;
	switch (h.type) {
	case PERF_RECORD_SAMPLE: {
		struct rt_perf_sample s;

		r->stats.samples++;
		ev = evsel_of_sample(r, rec, size);
		if (!ev) {
			r->stats.unknown_id_samples++;
			return 0;
		}
		if (parse_sample(&ev->pub, rec, size, &s)) {
			r->stats.bad_samples++;
			return 0;
		}
		ev->pub.nr_samples++;
		return tool->sample ? tool->sample(tool, &ev->pub, &s) : 0;
	}
	case PERF_RECORD_MMAP:
	case PERF_RECORD_MMAP2: {
		struct rt_perf_mmap m;
		size_t fixed = h.type == PERF_RECORD_MMAP ? 40 : 72;
		const char *name = (const char *)rec + fixed;
		size_t name_max;

		if (size <= fixed)
			goto bad;
		memset(&m, 0, sizeof(m));
		ev = evsel_of_other(r, rec, size);
		parse_trailer(ev, rec, size, fixed, &m.sid);
		name_max = size - fixed - (m.sid.present ? ev->trailer_size : 0);
		if (!name_max || !memchr(name, 0, name_max))
			goto bad;
		memcpy(pair, rec + 8, 8);
		m.pid = pair[0];
		m.tid = pair[1];
		memcpy(&m.start, rec + 16, 8);
		memcpy(&m.len, rec + 24, 8);
		memcpy(&m.pgoff, rec + 32, 8);
		m.filename = name;
		m.cpumode = cpumode_of(h.misc);
		if (h.type == PERF_RECORD_MMAP2) {
			memcpy(&m.prot, rec + 64, 4);
			memcpy(&m.flags, rec + 68, 4);
			if (h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
				m.build_id_size = rec[40] > 20 ? 20 : rec[40];
				memcpy(m.build_id, rec + 44, m.build_id_size);
			}
		} else {
			m.prot = 4; /* PROT_EXEC: plain MMAP records describe code */
		}
		return tool->mmap ? tool->mmap(tool, &m) : 0;
	}
	case PERF_RECORD_COMM: {
		const char *name = (const char *)rec + 16;

		if (size <= 16)
			goto bad;
		ev = evsel_of_other(r, rec, size);
		parse_trailer(ev, rec, size, 16, &sid);
		if (!memchr(name, 0, size - 16))
			goto bad;
		memcpy(pair, rec + 8, 8);
		return tool->comm ? tool->comm(tool, pair[0], pair[1], name,
					       h.misc & PERF_RECORD_MISC_COMM_EXEC, &sid) : 0;
	}
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT: {
		uint64_t time;

		if (size < 32)
			goto bad;
		memcpy(pair, rec + 8, 16);
		memcpy(&time, rec + 24, 8);
		if (h.type == PERF_RECORD_FORK)
			return tool->fork ? tool->fork(tool, pair[0], pair[1], pair[2], pair[3], time) : 0;
		return tool->exit ? tool->exit(tool, pair[0], pair[1], pair[2], pair[3], time) : 0;
	}
	case PERF_RECORD_LOST: {
		uint64_t lost;

		if (size < 24)
			goto bad;
		memcpy(&lost, rec + 16, 8);
		r->stats.lost += lost;
		return 0;
	}
	case PERF_RECORD_LOST_SAMPLES: {
		uint64_t lost;

		if (size < 16)
			goto bad;
		memcpy(&lost, rec + 8, 8);
		r->stats.lost_samples += lost;
		return 0;
	}
	case PERF_RECORD_KSYMBOL: {
		uint64_t addr;
		uint32_t len;
		uint16_t ktype, flags;
		const char *name = (const char *)rec + 24;

		if (size <= 24)
			goto bad;
		if (!memchr(name, 0, size - 24))
			goto bad;
		memcpy(&addr, rec + 8, 8);
		memcpy(&len, rec + 16, 4);
		memcpy(&ktype, rec + 20, 2);
		memcpy(&flags, rec + 22, 2);
		return tool->ksymbol ? tool->ksymbol(tool, addr, len, ktype,
						     flags & PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER,
						     name) : 0;
	}
	default:
		if (h.type >= PERF_RECORD_HEADER_MAX)
			r->stats.unknown_records++;
		return 0;
	}
bad:
	fprintf(stderr, "%s: offset %" PRIu64 ": malformed %s record skipped\n", r->path, offset,
		rt_perf_record__name(h.type));
	return 0;
}

/* ---- ordering queue ----------------------------------------------------- */

/* Copies a queued record's bytes into the arena. */
static int arena_copy(struct rt_perf_reader *r, struct queued *q, const uint8_t *rec)
{
	/* Entries start 8-aligned: the sample parser reads u64 arrays in place. */
	size_t need = r->arena_len + ((q->size + 7) & ~(size_t)7);

	if (need > r->arena_cap) {
		size_t cap = r->arena_cap ? r->arena_cap : (1U << 20);
		uint8_t *n;

		while (cap < need)
			cap *= 2;
		n = realloc(r->arena, cap);
		if (!n)
			return -ENOMEM;
		r->arena = n;
		r->arena_cap = cap;
	}
	memcpy(r->arena + r->arena_len, rec, q->size);
	q->arena_offset = r->arena_len;
	q->mapped = NULL;
	r->arena_len = need;
	return 0;
}

static int queue_push(struct rt_perf_reader *r, const uint8_t *rec, uint32_t size, uint64_t time,
		      uint64_t offset)
{
	struct queued *q;

	if (r->queue_len == r->queue_cap) {
		size_t cap = r->queue_cap ? r->queue_cap * 2 : 4096;
		struct queued *n = realloc(r->queue, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->queue = n;
		r->queue_cap = cap;
	}
	q = &r->queue[r->queue_len++];
	q->time = time;
	q->seq = r->seq++;
	q->file_offset = offset;
	q->size = size;
	q->arena_offset = 0;
	q->mapped = NULL;
	if (r->map && rec >= r->map && rec + size <= r->map + r->map_len &&
	    !((uintptr_t)rec & 7)) {
		q->mapped = rec;
		return 0;
	}
	return arena_copy(r, q, rec);
}

/* Every queued record that lives in the file mapping moves to the arena. */
static int evacuate_queue(struct rt_perf_reader *r)
{
	size_t i;
	int err;

	for (i = 0; i < r->queue_len; i++) {
		struct queued *q = &r->queue[i];

		if (!q->mapped)
			continue;
		err = arena_copy(r, q, q->mapped);
		if (err)
			return err;
	}
	return 0;
}

static bool queued_before(const struct queued *x, const struct queued *y)
{
	return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

/*
 * Sorts the queue by (time, seq).  perf writes each CPU's buffer in turn,
 * so a round is a few sorted runs: merge the runs bottom-up instead of a
 * general comparison sort.
 */
static int queue_sort(struct rt_perf_reader *r)
{
	size_t n = r->queue_len, width, i;
	struct queued *src = r->queue, *dst;
	size_t *runs, nr_runs = 0;

	for (i = 1; i < n && !queued_before(&src[i], &src[i - 1]); i++)
		;
	if (i >= n)
		return 0;
	if (r->queue_tmp_cap < n) {
		struct queued *t = realloc(r->queue_tmp, r->queue_cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->queue_tmp = t;
		r->queue_tmp_cap = r->queue_cap;
	}
	/* Run boundaries. */
	runs = malloc((n + 1) * sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	runs[nr_runs++] = 0;
	for (i = 1; i < n; i++)
		if (queued_before(&src[i], &src[i - 1]))
			runs[nr_runs++] = i;
	runs[nr_runs] = n;
	dst = r->queue_tmp;
	for (width = 1; width < nr_runs; width *= 2) {
		size_t k;

		for (k = 0; k < nr_runs; k += 2 * width) {
			size_t lo = runs[k];
			size_t mid = runs[k + width < nr_runs ? k + width : nr_runs];
			size_t hi = runs[k + 2 * width < nr_runs ? k + 2 * width : nr_runs];
			size_t a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				dst[o++] = queued_before(&src[b], &src[a]) ? src[b++] : src[a++];
			while (a < mid)
				dst[o++] = src[a++];
			while (b < hi)
				dst[o++] = src[b++];
		}
		struct queued *t = src;

		src = dst;
		dst = t;
	}
	free(runs);
	if (src != r->queue) {
		/* The sorted result sits in the scratch array: swap the two. */
		struct queued *t = r->queue;
		size_t cap = r->queue_cap;

		r->queue = src;
		r->queue_cap = r->queue_tmp_cap;
		r->queue_tmp = t;
		r->queue_tmp_cap = cap;
	}
	return 0;
}

/* Deliver queued records with time <= limit, in time order; keep the rest. */
/* Delivering a round of --call-graph dwarf samples: PREFETCH_AHEAD samples
 * ahead, the header, registers, first PREFETCH_LINES lines of the stack copy
 * (where unwinding starts) and its dynamic size start loading. */
#define PREFETCH_AHEAD 4
#define PREFETCH_LINES 32
static void prefetch_record(const uint8_t *rec, uint32_t size, uint32_t stack_user)
{
	const uint8_t *stack;

	__builtin_prefetch(rec);
	__builtin_prefetch(rec + 64);
	__builtin_prefetch(rec + 128);
	if (size < stack_user + 3 * sizeof(uint64_t))
		return;
	stack = rec + size - sizeof(uint64_t) - stack_user;
	for (int k = 0; k < PREFETCH_LINES; k++)
		__builtin_prefetch(stack + 64 * k);
	__builtin_prefetch(rec + size - sizeof(uint64_t));
}

static int queue_flush(struct rt_perf_reader *r, struct rt_perf_tool *tool, uint64_t limit)
{
	size_t i, keep = 0, arena_keep = 0;
	uint32_t stack_user;
	uint8_t *spare;
	int err;

	if (!r->queue_len)
		return 0;
	err = queue_sort(r);
	if (err)
		return err;
	stack_user = common_stack_user(r);
	for (i = 0; i < r->queue_len && r->queue[i].time <= limit; i++) {
		struct queued *q = &r->queue[i];

		if (stack_user && i + PREFETCH_AHEAD < r->queue_len) {
			const struct queued *a = &r->queue[i + PREFETCH_AHEAD];

			prefetch_record(a->mapped ? a->mapped : r->arena + a->arena_offset, a->size,
					stack_user);
		}
		err = deliver(r, tool, q->mapped ? q->mapped : r->arena + q->arena_offset, q->size,
			      q->file_offset);
		if (err)
			return err;
		r->last_flush_time = q->time;
	}
	if (i == r->queue_len) {
		r->queue_len = 0;
		r->arena_len = 0;
		return 0;
	}
	/* Copy the survivors into the spare arena, then swap the arenas. */
	if (r->spare_cap < r->arena_cap) {
		spare = realloc(r->spare, r->arena_cap);
		if (!spare)
			return -ENOMEM;
		r->spare = spare;
		r->spare_cap = r->arena_cap;
	}
	for (; i < r->queue_len; i++) {
		struct queued q = r->queue[i];

		if (!q.mapped) {
			memcpy(r->spare + arena_keep, r->arena + q.arena_offset, q.size);
			q.arena_offset = arena_keep;
			arena_keep += (q.size + 7) & ~(size_t)7;
		}
		r->queue[keep++] = q;
	}
	spare = r->arena;
	r->arena = r->spare;
	r->spare = spare;
	i = r->arena_cap;
	r->arena_cap = r->spare_cap;
	r->spare_cap = i;
	r->queue_len = keep;
	r->arena_len = arena_keep;
	return 0;
}

/* ---- user-type records (pipe mode headers) ----------------------------- */

static int handle_user_record(struct rt_perf_reader *r, const uint8_t *rec, size_t size,
			      uint64_t offset)
{
	struct perf_event_header h;

	memcpy(&h, rec, sizeof(h));
	switch (h.type) {
	case PERF_RECORD_HEADER_ATTR: {
		uint32_t attr_size;
		size_t nr_ids;
		uint64_t *ids;
		int err;

		if (size < 8 + PERF_ATTR_SIZE_VER0)
			return set_error(r, EINVAL, offset, "HEADER_ATTR record too short");
		memcpy(&attr_size, rec + 8 + 4, 4); /* attr.size */
		if (attr_size < PERF_ATTR_SIZE_VER0 || attr_size > size - 8)
			return set_error(r, EINVAL, offset, "HEADER_ATTR with bad attribute size %u",
					 attr_size);
		nr_ids = (size - 8 - attr_size) / 8;
		ids = nr_ids ? malloc(nr_ids * 8) : NULL;
		if (nr_ids && !ids)
			return -ENOMEM;
		if (nr_ids)
			memcpy(ids, rec + 8 + attr_size, nr_ids * 8);
		err = add_evsel(r, rec + 8, attr_size, ids, nr_ids, offset);
		free(ids);
		return err;
	}
	case PERF_RECORD_HEADER_BUILD_ID:
		if (size < sizeof(struct perf_record_header_build_id))
			return set_error(r, EINVAL, offset, "HEADER_BUILD_ID record too short");
		{
			int32_t pid;

			memcpy(&pid, rec + 8, 4);
			return add_build_id(r, pid, h.misc, rec + 12, (const char *)rec + 36,
					    size - 36);
		}
	case PERF_RECORD_HEADER_FEATURE: {
		uint64_t feat;
		int err;

		if (size < 16)
			return set_error(r, EINVAL, offset, "HEADER_FEATURE record too short");
		memcpy(&feat, rec + 8, 8);
		if (feat >= FEAT_BITS || feat == FEAT_TRACING_DATA)
			return 0;
		err = parse_feature(r, (int)feat, rec + 16, size - 16);
		if (err == -ENOMEM)
			return err;
		if (err)
			fprintf(stderr, "%s: offset %" PRIu64 ": malformed feature %" PRIu64
				" ignored\n", r->path, offset, feat);
		return 0;
	}
	case PERF_RECORD_HEADER_TRACING_DATA: {
		/* The record is followed by `size` bytes of tracing data. */
		uint32_t extra;
		int got;

		if (size < 12)
			return set_error(r, EINVAL, offset, "TRACING_DATA record too short");
		memcpy(&extra, rec + 8, 4);
		while (extra) {
			size_t chunk = extra < READ_CHUNK ? extra : READ_CHUNK;

			got = buffer_fill(r, chunk);
			if (got <= 0)
				return set_error(r, EINVAL, offset, "tracing data cut short");
			r->buf_pos += chunk;
			extra -= (uint32_t)chunk;
		}
		return 0;
	}
	case PERF_RECORD_COMPRESSED:
		return set_error(r, ENOTSUP, offset,
				 "compressed perf.data (perf record -z) is not supported; "
				 "record without -z or run `perf inject -i IN -o OUT` first");
	case PERF_RECORD_AUXTRACE: {
		/* Followed by `size` bytes of AUX data, which we skip. */
		uint64_t extra;

		if (size < 16)
			return set_error(r, EINVAL, offset, "AUXTRACE record too short");
		memcpy(&extra, rec + 8, 8);
		while (extra) {
			size_t chunk = extra < READ_CHUNK ? (size_t)extra : READ_CHUNK;

			if (buffer_fill(r, chunk) <= 0)
				return set_error(r, EINVAL, offset, "AUX data cut short");
			r->buf_pos += chunk;
			extra -= chunk;
		}
		return 0;
	}
	default:
		return 0;
	}
}

#define INDEX_AHEAD 4
/* Starts loading the headers of the big records up to INDEX_AHEAD after the
 * reader's, as far as the worker has indexed them. */
static void load_ahead(struct rt_perf_reader *r)
{
	uint32_t n = __atomic_load_n(r->nr_index, __ATOMIC_ACQUIRE), i = r->index_pos;

	while (i < n && r->index[i] < r->buf_pos)
		i++;
	r->index_pos = i;
	while (r->index_next <= i + INDEX_AHEAD && r->index_next < n)
		__builtin_prefetch(r->buf + r->index[r->index_next++]);
}

int rt_perf_reader__process(struct rt_perf_reader *r, struct rt_perf_tool *tool)
{
	int err;

	for (;;) {
		struct perf_event_header h;
		uint64_t offset = r->buf_file_offset + r->buf_pos, time;
		const uint8_t *rec;

		if (r->nr_index)
			load_ahead(r);
		err = buffer_fill(r, sizeof(h));
		if (err == 0)
			break;
		if (err < 0) {
			if (!r->error[0])
				set_error(r, EINVAL, offset, "data ends inside a record header "
					  "(file truncated or pipe cut)");
			return -EINVAL;
		}
		memcpy(&h, r->buf + r->buf_pos, sizeof(h));
		if (h.size < sizeof(h))
			return set_error(r, EINVAL, offset, "record of type %u has size %u "
					 "(corrupted data)", h.type, h.size);
		err = buffer_fill(r, h.size);
		if (err <= 0) {
			if (!r->error[0])
				set_error(r, EINVAL, offset, "%s record of %u bytes is cut short "
					  "(file truncated or pipe cut)",
					  rt_perf_record__name(h.type), h.size);
			return -EINVAL;
		}
		rec = r->buf + r->buf_pos;
		r->buf_pos += h.size;

		if (h.type >= PERF_RECORD_USER_TYPE_START) {
			if (h.type < PERF_RECORD_HEADER_MAX)
				r->stats.records[h.type]++;
			if (h.type == PERF_RECORD_FINISHED_ROUND) {
				err = queue_flush(r, tool, r->prev_round_max);
				if (err)
					return err;
				r->prev_round_max = r->round_max_time;
				continue;
			}
			/* Copy out: handlers may refill the buffer. */
			uint8_t copy[MAX_RECORD_SIZE];

			memcpy(copy, rec, h.size);
			err = handle_user_record(r, copy, h.size, offset);
			if (err)
				return err;
			continue;
		}
		if (!r->nr_evsels)
			return set_error(r, EINVAL, offset, "%s record before any event attribute",
					 rt_perf_record__name(h.type));
		if (tool->skip_data_mmaps && (h.misc & PERF_RECORD_MISC_MMAP_DATA) &&
		    (h.type == PERF_RECORD_MMAP || h.type == PERF_RECORD_MMAP2)) {
			r->stats.records[h.type]++;
			continue;
		}
		if (r->ordered && record_time(r, rec, h.size, &time)) {
			if (time < r->last_flush_time)
				r->stats.out_of_order++;
			if (time > r->round_max_time)
				r->round_max_time = time;
			err = queue_push(r, rec, h.size, time, offset);
			if (!err && (r->queue_len >= MAX_QUEUED || r->arena_len >= MAX_QUEUED_BYTES)) {
				r->stats.queue_cap_flushes++;
				err = queue_flush(r, tool, UINT64_MAX);
			}
		} else {
			err = queue_flush(r, tool, UINT64_MAX);
			if (!err && ((uintptr_t)rec & 7)) {
				/* A corrupted or odd file: parse from an aligned copy. */
				uint64_t aligned[MAX_RECORD_SIZE / 8];

				memcpy(aligned, rec, h.size);
				err = deliver(r, tool, (const uint8_t *)aligned, h.size, offset);
			} else if (!err) {
				err = deliver(r, tool, rec, h.size, offset);
			}
		}
		if (err)
			return err;
	}
	return queue_flush(r, tool, UINT64_MAX);
}

/* ---- accessors ---------------------------------------------------------- */

const char *rt_perf_reader__error(const struct rt_perf_reader *r)
{
	return r->error;
}

size_t rt_perf_reader__nr_evsels(const struct rt_perf_reader *r)
{
	return r->nr_evsels;
}

const struct rt_perf_evsel *rt_perf_reader__evsel(const struct rt_perf_reader *r, size_t idx)
{
	return idx < r->nr_evsels ? &r->evsels[idx]->pub : NULL;
}

int rt_perf_reader__tracing_data(struct rt_perf_reader *r, void **data, size_t *size)
{
	void *buf;

	*data = NULL;
	*size = 0;
	if (!r->tracing_size)
		return -ENOENT;
	if (r->tracing_size > MAX_FEATURE_SIZE)
		return -EFBIG;
	buf = malloc(r->tracing_size);
	if (!buf)
		return -ENOMEM;
	if (read_full_at(r, buf, r->tracing_size, r->tracing_offset)) {
		free(buf);
		return -EINVAL;
	}
	*data = buf;
	*size = r->tracing_size;
	return 0;
}

const struct rt_perf_header_info *rt_perf_reader__info(const struct rt_perf_reader *r)
{
	return &r->info;
}

const struct rt_perf_reader_stats *rt_perf_reader__stats(const struct rt_perf_reader *r)
{
	return &r->stats;
}

bool rt_perf_reader__is_pipe(const struct rt_perf_reader *r)
{
	return r->pipe;
}

const struct rt_perf_build_id *rt_perf_reader__find_build_id(const struct rt_perf_reader *r,
							     const char *filename)
{
	size_t i;

	for (i = 0; i < r->info.nr_build_ids; i++)
		if (!strcmp(r->build_ids[i].filename, filename))
			return &r->build_ids[i];
	return NULL;
}

const char *rt_perf_record__name(uint32_t type)
{
	static const char *const names[] = {
		[PERF_RECORD_MMAP] = "MMAP", [PERF_RECORD_LOST] = "LOST",
		[PERF_RECORD_COMM] = "COMM", [PERF_RECORD_EXIT] = "EXIT",
		[PERF_RECORD_THROTTLE] = "THROTTLE", [PERF_RECORD_UNTHROTTLE] = "UNTHROTTLE",
		[PERF_RECORD_FORK] = "FORK", [PERF_RECORD_READ] = "READ",
		[PERF_RECORD_SAMPLE] = "SAMPLE", [PERF_RECORD_MMAP2] = "MMAP2",
		[PERF_RECORD_AUX] = "AUX", [PERF_RECORD_ITRACE_START] = "ITRACE_START",
		[PERF_RECORD_LOST_SAMPLES] = "LOST_SAMPLES", [PERF_RECORD_SWITCH] = "SWITCH",
		[PERF_RECORD_SWITCH_CPU_WIDE] = "SWITCH_CPU_WIDE",
		[PERF_RECORD_NAMESPACES] = "NAMESPACES", [PERF_RECORD_KSYMBOL] = "KSYMBOL",
		[PERF_RECORD_BPF_EVENT] = "BPF_EVENT", [PERF_RECORD_CGROUP] = "CGROUP",
		[PERF_RECORD_TEXT_POKE] = "TEXT_POKE",
		[PERF_RECORD_AUX_OUTPUT_HW_ID] = "AUX_OUTPUT_HW_ID",
		[PERF_RECORD_HEADER_ATTR] = "HEADER_ATTR",
		[PERF_RECORD_HEADER_EVENT_TYPE] = "HEADER_EVENT_TYPE",
		[PERF_RECORD_HEADER_TRACING_DATA] = "HEADER_TRACING_DATA",
		[PERF_RECORD_HEADER_BUILD_ID] = "HEADER_BUILD_ID",
		[PERF_RECORD_FINISHED_ROUND] = "FINISHED_ROUND", [PERF_RECORD_ID_INDEX] = "ID_INDEX",
		[PERF_RECORD_AUXTRACE_INFO] = "AUXTRACE_INFO", [PERF_RECORD_AUXTRACE] = "AUXTRACE",
		[PERF_RECORD_AUXTRACE_ERROR] = "AUXTRACE_ERROR",
		[PERF_RECORD_THREAD_MAP] = "THREAD_MAP", [PERF_RECORD_CPU_MAP] = "CPU_MAP",
		[PERF_RECORD_STAT_CONFIG] = "STAT_CONFIG", [PERF_RECORD_STAT] = "STAT",
		[PERF_RECORD_STAT_ROUND] = "STAT_ROUND", [PERF_RECORD_EVENT_UPDATE] = "EVENT_UPDATE",
		[PERF_RECORD_TIME_CONV] = "TIME_CONV", [PERF_RECORD_HEADER_FEATURE] = "HEADER_FEATURE",
		[PERF_RECORD_COMPRESSED] = "COMPRESSED", [PERF_RECORD_FINISHED_INIT] = "FINISHED_INIT",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}

static void print_build_id(FILE *out, const struct rt_perf_build_id *b)
{
	int i;

	for (i = 0; i < b->size; i++)
		fprintf(out, "%02x", b->id[i]);
}

void rt_perf_reader__fprint_header(const struct rt_perf_reader *r, FILE *out)
{
	const struct rt_perf_header_info *in = &r->info;
	size_t i;

	fprintf(out, "# file: %s (%s mode)\n", r->path, r->pipe ? "pipe" : "file");
	if (in->hostname)
		fprintf(out, "# hostname : %s\n", in->hostname);
	if (in->os_release)
		fprintf(out, "# os release : %s\n", in->os_release);
	if (in->perf_version)
		fprintf(out, "# perf version : %s\n", in->perf_version);
	if (in->arch)
		fprintf(out, "# arch : %s\n", in->arch);
	if (in->nr_cpus_online || in->nr_cpus_available)
		fprintf(out, "# nrcpus online : %u\n# nrcpus avail : %u\n", in->nr_cpus_online,
			in->nr_cpus_available);
	if (in->cpu_desc)
		fprintf(out, "# cpudesc : %s\n", in->cpu_desc);
	if (in->total_mem_kb)
		fprintf(out, "# total memory : %" PRIu64 " kB\n", in->total_mem_kb);
	if (in->nr_cmdline) {
		fprintf(out, "# cmdline :");
		for (i = 0; i < in->nr_cmdline; i++)
			fprintf(out, " %s", in->cmdline[i] ? in->cmdline[i] : "");
		fputc('\n', out);
	}
	if (in->clockid >= 0)
		fprintf(out, "# clockid : %d\n", in->clockid);
	for (i = 0; i < r->nr_evsels; i++) {
		const struct perf_event_attr *a = &r->evsels[i]->pub.attr;

		fprintf(out, "# event : name = %s, type = %u, config = %#llx, sample_type = %#llx, "
			"%s = %llu, ids = %zu\n", r->evsels[i]->pub.name, a->type,
			(unsigned long long)a->config, (unsigned long long)a->sample_type,
			a->freq ? "sample_freq" : "sample_period",
			(unsigned long long)a->sample_period, r->evsels[i]->pub.nr_ids);
	}
	fprintf(out, "# build ids : %zu\n", in->nr_build_ids);
	for (i = 0; i < in->nr_build_ids; i++) {
		fprintf(out, "#   ");
		print_build_id(out, &in->build_ids[i]);
		fprintf(out, " %s\n", in->build_ids[i].filename);
	}
}
