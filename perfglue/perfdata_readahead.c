/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * perfdata: how data bytes reach the reader.  Positioned reads for the
 * header sections; for the data, a window of the file mapped read-only, or
 * copied into buffers, kept ahead of the reader by a worker thread that
 * premaps, faults in or reads the next window and indexes big records so
 * the reader can load them ahead; plain reads for pipes.
 */
#include "perfglue/perfdata_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- low-level I/O ---------------------------------------------------- */

int rt_perf_reader__read_at(struct rt_perf_reader *r, void *dst, size_t size, uint64_t offset)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(r->fd, (char *)dst + done, size - done, (off_t)(offset + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_perf_reader__set_error(r, errno, offset + done, "read failed: %s",
							 strerror(errno));
		}
		if (n == 0)
			return rt_perf_reader__set_error(r, EINVAL, offset + done,
							 "file ends inside a section (truncated perf.data?)");
		done += (size_t)n;
	}
	return 0;
}

/* Read from a pipe/stdin exactly size bytes; returns bytes read (< size at EOF). */
ssize_t rt_perf__read_stream(int fd, void *dst, size_t size)
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

/* Map-ahead design (small files): the worker premaps the window after the
 * reader's, faults it in and unmaps the windows the reader left.  Records
 * are parsed in place, never copied. */
struct map_ahead {
	/* under the worker's lock */
	uint64_t seq;           /* bumped by the reader at each window change */
	bool walked;            /* the reader's window came premapped, hence walked */
	struct window unmap[UNMAP_SLOTS];
	int nr_unmap;
	struct window next;     /* premapped and walked, map NULL if none */
};

/* Copy-ahead design (big files, --call-graph dwarf): windows are
 * COPY_BUFFERS heap buffers the worker preads into, as many windows ahead of
 * the reader as buffers are free, and indexes the big records of the
 * reader's window so that it can load them ahead. */
struct copy_ahead {
	uint8_t *bufs;          /* the buffers, COPY_WINDOW bytes each */
	uint32_t *indexes;      /* and their record indexes, INDEX_MAX entries each */
	uint32_t nr_indexed[COPY_BUFFERS]; /* entries in each index (atomic) */
	/* under the worker's lock */
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

/* The read-ahead worker: what both designs share, and one of them. */
struct prefault {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, drained;
	int fd;
	uint64_t data_end;
	uint32_t stack_user;    /* sample_stack_user of every event with stack copies, or 0 */
	bool copy;              /* copy-ahead (cp), else map-ahead (mp) */
	/* under lock */
	bool stop;
	bool have_work;
	struct window current;  /* the reader's window: read ahead of it */
	size_t first;           /* walk current from here */
	struct map_ahead mp;
	struct copy_ahead cp;
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
	return (size_t)(buf - pf->cp.bufs) / COPY_WINDOW;
}

/* A free buffer, its index emptied (under lock; one is always free). */
static uint8_t *take_buffer(struct prefault *pf, struct window *w)
{
	size_t id;

	w->map = pf->cp.free_bufs[--pf->cp.nr_free];
	id = buffer_id(pf, w->map);
	w->index = pf->cp.indexes + id * INDEX_MAX;
	w->nr_index = &pf->cp.nr_indexed[id];
	__atomic_store_n(&pf->cp.nr_indexed[id], 0, __ATOMIC_RELEASE);
	return w->map;
}

/* Claims and reads pieces of the window being read ahead until none is left
 * (called and returning with the lock held); the last piece done queues the
 * window for the reader. */
static void fill_pieces(struct prefault *pf, bool worker)
{
	/* The worker stops between pieces to index a new reader window first. */
	while (pf->cp.fill.map && pf->cp.claimed < pf->cp.pieces && !pf->stop &&
	       !(worker && pf->have_work)) {
		size_t off = (size_t)pf->cp.claimed++ * COPY_PIECE;
		size_t left = pf->cp.fill.len - off, len = left < COPY_PIECE ? left : COPY_PIECE;
		uint8_t *dst = pf->cp.fill.map + off;
		uint64_t at = pf->cp.fill.start + off;
		int err;

		pthread_mutex_unlock(&pf->lock);
		err = pread_full(pf->fd, dst, len, at);
		pthread_mutex_lock(&pf->lock);
		if (err)
			pf->cp.fill_err = err;
		if (++pf->cp.done == pf->cp.pieces) {
			if (pf->cp.fill_err || pf->cp.fill_dropped)
				pf->cp.free_bufs[pf->cp.nr_free++] = pf->cp.fill.map;
			else
				pf->cp.ahead[pf->cp.nr_ahead++] = pf->cp.fill;
			pf->cp.fill.map = NULL;
			pthread_cond_broadcast(&pf->drained);
			pthread_cond_signal(&pf->wake);
		}
	}
}

/* The window after the last one read ahead, else after the reader's (under lock). */
static bool window_to_fill(const struct prefault *pf, struct window *next)
{
	const struct window *last = pf->cp.nr_ahead ? &pf->cp.ahead[pf->cp.nr_ahead - 1] :
						      &pf->current;

	return last->map && window_after(pf, last, COPY_WINDOW, next);
}

/* Starts reading ahead the window after the last one read or being read,
 * if a buffer is free (under lock). */
static bool start_fill(struct prefault *pf)
{
	struct window next;

	if (pf->cp.fill.map || !pf->cp.nr_free || !window_to_fill(pf, &next))
		return false;
	take_buffer(pf, &next);
	pf->cp.fill = next;
	pf->cp.pieces = (uint32_t)((next.len + COPY_PIECE - 1) / COPY_PIECE);
	pf->cp.claimed = pf->cp.done = 0;
	pf->cp.fill_err = 0;
	pf->cp.fill_dropped = false;
	return true;
}

/* Drops the windows read ahead and stops the one being read (under lock). */
static void drop_ahead(struct prefault *pf)
{
	while (pf->cp.nr_ahead)
		pf->cp.free_bufs[pf->cp.nr_free++] = pf->cp.ahead[--pf->cp.nr_ahead].map;
	if (!pf->cp.fill.map)
		return;
	if (pf->cp.done == pf->cp.claimed) {
		pf->cp.free_bufs[pf->cp.nr_free++] = pf->cp.fill.map;
		pf->cp.fill.map = NULL;
		return;
	}
	pf->cp.pieces = pf->cp.claimed;
	pf->cp.fill_dropped = true;
	while (pf->cp.fill.map)
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
		pf->cp.walking = true;
		start_fill(pf); /* the reader may help with it meanwhile */
		pthread_mutex_unlock(&pf->lock);
		index_walk(&cur, first, pf->cp.indexes + id * INDEX_MAX, &pf->cp.nr_indexed[id]);
		pthread_mutex_lock(&pf->lock);
		pf->cp.walking = false;
		pthread_cond_broadcast(&pf->drained);
	}
	if (pf->cp.fill.map || start_fill(pf))
		fill_pieces(pf, true);
}

static bool copy_work_waiting(const struct prefault *pf)
{
	struct window next;

	if (pf->cp.fill.map)
		return pf->cp.claimed < pf->cp.pieces;
	return pf->cp.nr_free && window_to_fill(pf, &next);
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

		while (!pf->stop && !pf->have_work && !pf->mp.nr_unmap &&
		       !(pf->copy && copy_work_waiting(pf)))
			pthread_cond_wait(&pf->wake, &pf->lock);
		if (pf->stop)
			break;
		if (pf->copy) {
			copy_work(pf);
			continue;
		}
		nr_gone = pf->mp.nr_unmap;
		memcpy(gone, pf->mp.unmap, sizeof(gone));
		pf->mp.nr_unmap = 0;
		pthread_cond_broadcast(&pf->drained);
		work = pf->have_work;
		cur = pf->current;
		first = pf->first;
		walked = pf->mp.walked;
		seq = pf->mp.seq;
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
				if (pf->mp.seq == seq && !pf->mp.next.map) {
					pf->mp.next = next;
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
uint32_t rt_perf_reader__stack_user(const struct rt_perf_reader *r)
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

		pf->cp.indexes = malloc(COPY_BUFFERS * INDEX_MAX * sizeof(*pf->cp.indexes));
		if (bufs == MAP_FAILED || !pf->cp.indexes) {
			if (bufs != MAP_FAILED)
				munmap(bufs, COPY_BUFFERS * (size_t)COPY_WINDOW);
			free(pf->cp.indexes);
			free(pf);
			return -ENOMEM;
		}
		/* Huge pages, where the system gives them, spare the reader TLB misses. */
		madvise(bufs, COPY_BUFFERS * (size_t)COPY_WINDOW, MADV_HUGEPAGE);
		pf->copy = true;
		pf->cp.bufs = bufs;
		for (int i = 0; i < COPY_BUFFERS; i++)
			pf->cp.free_bufs[pf->cp.nr_free++] = pf->cp.bufs + (size_t)i * COPY_WINDOW;
	}
	pf->fd = r->fd;
	pf->data_end = r->data_end;
	pf->stack_user = rt_perf_reader__stack_user(r);
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->wake, NULL);
	pthread_cond_init(&pf->drained, NULL);
	if (pthread_create(&pf->thread, NULL, prefault_main, pf)) {
		pthread_mutex_destroy(&pf->lock);
		pthread_cond_destroy(&pf->wake);
		pthread_cond_destroy(&pf->drained);
		if (pf->cp.bufs)
			munmap(pf->cp.bufs, COPY_BUFFERS * (size_t)COPY_WINDOW);
		free(pf->cp.indexes);
		free(pf);
		return -EAGAIN;
	}
	r->prefault = pf;
	return 0;
}

/* Stops the worker; every window it holds is unmapped. */
void rt_perf_reader__readahead_stop(struct rt_perf_reader *r)
{
	struct prefault *pf = r->prefault;

	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	__atomic_store_n(&pf->stop, true, __ATOMIC_RELAXED);
	pf->mp.seq++;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	for (int i = 0; i < pf->mp.nr_unmap; i++)
		munmap(pf->mp.unmap[i].map, pf->mp.unmap[i].len);
	free(pf->cp.indexes);
	if (pf->cp.bufs)
		munmap(pf->cp.bufs, COPY_BUFFERS * (size_t)COPY_WINDOW);
	else if (pf->mp.next.map)
		munmap(pf->mp.next.map, pf->mp.next.len);
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
		while (pf->cp.walking)
			pthread_cond_wait(&pf->drained, &pf->lock);
		pf->have_work = false;
		pf->current.map = NULL; /* until prefault_follow() */
		if (old->map)
			pf->cp.free_bufs[pf->cp.nr_free++] = old->map;
		for (;;) {
			if (pf->cp.nr_ahead && pf->cp.ahead[0].start <= pos &&
			    pos + need <= pf->cp.ahead[0].start + pf->cp.ahead[0].len) {
				*win = pf->cp.ahead[0];
				memmove(pf->cp.ahead, pf->cp.ahead + 1,
					--pf->cp.nr_ahead * sizeof(*pf->cp.ahead));
				took = true;
				break;
			}
			if (!pf->cp.nr_ahead && pf->cp.fill.map && pf->cp.fill.start <= pos &&
			    pos + need <= pf->cp.fill.start + pf->cp.fill.len) {
				const uint8_t *filling = pf->cp.fill.map;

				fill_pieces(pf, false);
				while (pf->cp.fill.map == filling)
					pthread_cond_wait(&pf->drained, &pf->lock);
				if (pf->cp.nr_ahead)
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
	pf->mp.seq++;
	/* Room for two windows in the worker's unmap list. */
	while (pf->mp.nr_unmap > UNMAP_SLOTS - 2) {
		pthread_cond_signal(&pf->wake);
		pthread_cond_wait(&pf->drained, &pf->lock);
	}
	if (pf->mp.next.map && pf->mp.next.start <= pos &&
	    pos + need <= pf->mp.next.start + pf->mp.next.len) {
		*win = pf->mp.next;
		took = true;
	} else if (pf->mp.next.map) {
		pf->mp.unmap[pf->mp.nr_unmap++] = pf->mp.next;
	}
	pf->mp.next.map = NULL;
	if (old->map)
		pf->mp.unmap[pf->mp.nr_unmap++] = *old;
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
	pf->mp.walked = walked;
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
	err = rt_perf_reader__queue_evacuate(r);
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
			return rt_perf_reader__set_error(r, err == -EINVAL ? EIO : -err, pos,
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

/*
 * Make at least `need` bytes available at buf_pos.  Returns 1 when they are,
 * 0 at a clean end of data with nothing pending, and -errno on error or when
 * the data ends inside a record.
 */
int rt_perf_reader__fill(struct rt_perf_reader *r, size_t need)
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
		rt_perf_reader__readahead_stop(r);
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
				return rt_perf_reader__set_error(r, errno, offset,
								 "read failed: %s", strerror(errno));
		} else {
			n = read(r->fd, r->buf + r->buf_len, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return rt_perf_reader__set_error(r, errno, offset,
								 "read failed: %s", strerror(errno));
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

#define INDEX_AHEAD 4
/* Starts loading the headers of the big records up to INDEX_AHEAD after the
 * reader's, as far as the worker has indexed them. */
void rt_perf_reader__load_ahead(struct rt_perf_reader *r)
{
	uint32_t n = __atomic_load_n(r->nr_index, __ATOMIC_ACQUIRE), i = r->index_pos;

	while (i < n && r->index[i] < r->buf_pos)
		i++;
	r->index_pos = i;
	while (r->index_next <= i + INDEX_AHEAD && r->index_next < n)
		__builtin_prefetch(r->buf + r->index[r->index_next++]);
}
